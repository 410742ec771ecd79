/** The XOR keystream that hides Discovery bodies; symmetric, keyed by the packet's tid. */

const KEY = [
  0x1f2d3c4b,
  0x5a6c7f8d,
  0x38172e4b,
  0x8271635a,
  0x863f1a2b,
  0xa5c6f7d8,
  0x8371e1b4,
  0x17f2d3a5,
];

/** Length of the keystream, which repeats over the body. */
export const KEYSTREAM_LENGTH = 32;

/** Writes the 32-byte keystream of `tid` into `out` (each key word plus tid, mod 2^32, LE). */
export function fillKeystream(tid: number, out: Uint8Array): Uint8Array {
  for (let i = 0; i < KEY.length; i++) {
    const word = (KEY[i] + tid) >>> 0;
    out[i * 4] = word & 0xff;
    out[i * 4 + 1] = (word >>> 8) & 0xff;
    out[i * 4 + 2] = (word >>> 16) & 0xff;
    out[i * 4 + 3] = word >>> 24;
  }
  return out;
}

/** The 32-byte keystream for `tid`: each key word plus tid, wrapping mod 2^32, little-endian. */
export function keystream(tid: number): Uint8Array {
  return fillKeystream(tid, new Uint8Array(KEYSTREAM_LENGTH));
}

/** Scratch keystream reused by the hot paths (JavaScript is single-threaded). */
const scratch = new Uint8Array(KEYSTREAM_LENGTH);

/**
 * XORs `src[srcStart, srcStart+length)` with the keystream of `tid` into `dst` at `dstStart`.
 * Encrypting and decrypting are the same operation.
 */
export function xorInto(
  src: Uint8Array,
  srcStart: number,
  length: number,
  tid: number,
  dst: Uint8Array,
  dstStart: number,
): void {
  const ks = fillKeystream(tid, scratch);
  for (let i = 0; i < length; i++) dst[dstStart + i] = src[srcStart + i] ^ ks[i & 31];
}

/** Returns a new array: `bytes` XORed with the keystream of `tid`. */
export function xorCrypt(bytes: Uint8Array, tid: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  xorInto(bytes, 0, bytes.length, tid, out, 0);
  return out;
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: false });
const utf8Encoder = new TextEncoder();
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * XORs `buffer[start, start+length)` in place with the keystream of `tid`. `start` must be
 * 4-byte aligned within `buffer`'s ArrayBuffer; the bulk then goes a word at a time.
 */
function xorAlignedInPlace(buffer: Uint8Array, start: number, length: number, tid: number): void {
  const ks = fillKeystream(tid, scratch);
  let i = 0;
  if (LITTLE_ENDIAN && (buffer.byteOffset + start) % 4 === 0) {
    const words = new Uint32Array(buffer.buffer, buffer.byteOffset + start, length >>> 2);
    const k = new Uint32Array(ks.buffer, ks.byteOffset, 8);
    for (let w = 0; w < words.length; w++) words[w] ^= k[w & 7];
    i = words.length * 4;
  }
  for (; i < length; i++) buffer[start + i] ^= ks[i & 31];
}

/** Reused buffer for decrypting bodies up to 64 KiB (the largest payload_size allowed). */
const decodeScratch = new Uint8Array(65536);

/**
 * Decrypts `bytes[start, start+length)` with `tid` straight into a string, decoded as UTF-8
 * (invalid bytes become U+FFFD).
 */
export function decryptToString(
  bytes: Uint8Array,
  start: number,
  length: number,
  tid: number,
): string {
  const plain = length <= decodeScratch.length
    ? decodeScratch.subarray(0, length)
    : new Uint8Array(length);
  plain.set(bytes.subarray(start, start + length));
  xorAlignedInPlace(plain, 0, length, tid);
  return utf8Decoder.decode(plain);
}

/** Reused target of `encodeInto` for packets up to 64 KiB of UTF-8. */
const encodeScratch = new Uint8Array(65536);

/**
 * Encodes `text` as UTF-8, encrypted with `tid`, into a new array after `offset` leading
 * bytes (left zero for the caller's header; `offset` must be a multiple of 4).
 */
export function encryptString(text: string, tid: number, offset: number): Uint8Array {
  let plain: Uint8Array;
  if (text.length * 3 <= encodeScratch.length) {
    plain = encodeScratch.subarray(0, utf8Encoder.encodeInto(text, encodeScratch).written);
  } else plain = utf8Encoder.encode(text);
  const out = new Uint8Array(offset + plain.length);
  out.set(plain, offset);
  xorAlignedInPlace(out, offset, plain.length, tid);
  return out;
}
