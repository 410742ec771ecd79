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

/** The 32-byte keystream for `tid`: each key word plus tid, wrapping mod 2^32, little-endian. */
export function keystream(tid: number): Uint8Array {
  const out = new Uint8Array(32);
  const view = new DataView(out.buffer);
  for (let i = 0; i < KEY.length; i++) view.setUint32(i * 4, (KEY[i] + tid) >>> 0, true);
  return out;
}

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
  const ks = keystream(tid);
  for (let i = 0; i < length; i++) dst[dstStart + i] = src[srcStart + i] ^ ks[i & 31];
}

/** Returns a new array: `bytes` XORed with the keystream of `tid`. */
export function xorCrypt(bytes: Uint8Array, tid: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  xorInto(bytes, 0, bytes.length, tid, out, 0);
  return out;
}
