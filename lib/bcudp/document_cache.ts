/**
 * Reading a Discovery body: the one path every decode takes (serve, pcap-replay, decode).
 * One pass over the ciphertext decrypts it, computes its CRC and a hash of the plaintext,
 * and notes whether it is ASCII; the document is then parsed, or taken from a cache.
 *
 * The cache remembers parsed documents by their decrypted bytes. A camera sends the same
 * D2R_HB document every heartbeat (only the tid changes, and with it the encryption), so a
 * reader that sees it again skips the text decoding and the XML parse and hands out the same
 * message. A document is remembered from its second sight on (the first only leaves its hash
 * in a fixed table), so a stream of distinct documents (a flood of random UIDs, a capture of
 * unique documents) keeps nothing alive: what a garbage collection finds alive is what makes
 * V8 grow its young generation, and that memory stays resident. Bounded by emptying it when
 * full: a camera's document is parsed again twice after each emptying. A reader of captures
 * chooses the "bursts" eviction (see `DocumentEviction`).
 */

import { HEADER_SIZE, MAX_PAYLOAD_SIZE } from "./constants.ts";
import { bcudpCrcByte, bcudpCrcWord } from "./crc.ts";
import { BcUdpError } from "./errors.ts";
import { hex32 } from "./hex.ts";
import { parseMessage } from "./message_parser.ts";
import type { Message } from "./schema.ts";
import { RecentCache } from "./recent_cache.ts";
import { fillKeystream, KEYSTREAM_LENGTH } from "./xor.ts";

/** Documents held: four per camera at the default 1,024 cameras. */
export const DOCUMENT_CACHE_ENTRIES = 4096;
/**
 * Hashes of documents seen once: a direct-mapped table (a power of two; 256 KiB, allocated
 * once). Large beside the cache, so two cameras rarely share a slot (when they do and
 * heartbeat in turn, both are parsed every time, as without a cache).
 */
export const SEEN_ONCE_SLOTS = 65536;
/** Bodies longer than this are parsed every time (a D2R_HB is about 150 bytes). */
export const MAX_CACHED_DOCUMENT_BYTES = 512;

/**
 * Documents a "bursts" cache holds briefly, the least recently used forgotten first. Few on
 * purpose: whatever is cached when V8 collects its young generation survives, and V8 grows
 * the young generation by as much as survives.
 */
export const RECENT_DOCUMENT_ENTRIES = 16;

/**
 * How a cache chooses what to keep. "clear" (serve's): a document is held from its second
 * sight on, and the cache is emptied when full; a server sees each camera's few documents
 * over and over. "bursts" (pcap-replay's): the second sight puts a document in a small tier
 * of RECENT_DOCUMENT_ENTRIES, and only one seen again after it left that tier is held as
 * with "clear". A capture holds every side's traffic, with bursts of one document (the same
 * R2D_HB_R to every camera in one second, a wake's R2D_C burst): served from the small tier,
 * such a document is dropped while still young instead of piling up as long-lived garbage
 * that grows the heap (the pcap benchmark's resident memory, see BENCHMARKS.md).
 */
export type DocumentEviction = "clear" | "bursts";

/** A decoded document. Shared between packets: treat it as read-only. */
export interface CachedDocument {
  readonly xml: string;
  readonly message: Message;
  /** True when the cache holds this document (later sights of it return this object). */
  readonly cached: boolean;
  /**
   * The document's JSON members as UTF-8, for a printer to fill in once per cached document
   * (pcap-replay's timeline writes them for every packet that carries it).
   */
  json: Uint8Array | undefined;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });
/** The plaintext of the body read last (its first `size` bytes); every reader shares it. */
const plain = new Uint8Array(MAX_PAYLOAD_SIZE);
const keyBytes = new Uint8Array(KEYSTREAM_LENGTH);
/** The keystream as little-endian words. */
const KEY_WORDS = KEYSTREAM_LENGTH / 4;
const keyWords = new Int32Array(KEY_WORDS);

/**
 * Reads Discovery bodies, remembering the documents it parsed; pass one to `decodePacketAt`
 * or `decodeDatagramLenient` as `documents`. Without one they read through a reader that
 * remembers nothing.
 */
export class DocumentCache {
  /**
   * By hash of the plaintext; a collision replaces the older document. Only ASCII documents
   * (every real one) are kept: their text is their bytes, so no copy of the bytes is kept
   * to compare with.
   */
  #entries = new Map<number, CachedDocument>();
  /** "bursts" only: the documents seen twice lately. */
  #recent: RecentCache<CachedDocument> | undefined;
  /**
   * Hash + 1 of the last document seen once in each slot (0 = none); with "bursts",
   * -(hash + 1) once it went to the recent tier. Empty: never cache.
   */
  #seenOnce: Int32Array;
  /** The CRC of the ciphertext of the body read last (compare with the header's). */
  lastCrc = 0;
  /** Whether the plaintext of the body read last is ASCII. */
  #ascii = true;
  /** Documents served from the cache (for tests and benchmarks). */
  hits = 0;

  /** `eviction` "none": a reader that parses every body (for one-off decodes). */
  constructor(eviction: DocumentEviction | "none" = "clear") {
    this.#seenOnce = new Int32Array(eviction === "none" ? 0 : SEEN_ONCE_SLOTS);
    if (eviction === "bursts") this.#recent = new RecentCache(RECENT_DOCUMENT_ENTRIES);
  }

  /**
   * Decrypts the `size` body bytes at `start` with `tid` and parses them, or returns the
   * document parsed when the same bytes were seen before (from the third sight on). Leaves
   * the body's CRC in `lastCrc`; when `expectedCrc` is given and differs, throws
   * `crc_mismatch` before parsing. Throws BcUdpError for a body that does not parse (such
   * bodies are not remembered).
   */
  read(
    bytes: Uint8Array,
    start: number,
    size: number,
    tid: number,
    expectedCrc?: number,
  ): CachedDocument {
    const hash = this.#decrypt(bytes, start, size, tid);
    if (expectedCrc !== undefined && this.lastCrc !== expectedCrc) {
      throw crcMismatch(start - HEADER_SIZE, expectedCrc, this.lastCrc);
    }
    const cached = this.#find(hash, size);
    if (cached !== undefined) {
      this.hits++;
      return cached;
    }
    const xml = utf8.decode(plain.subarray(0, size));
    const message = parseMessage(xml);
    if (!this.#ascii || size > MAX_CACHED_DOCUMENT_BYTES || this.#seenOnce.length === 0) {
      return { xml, message, cached: false, json: undefined };
    }
    const slot = hash & (SEEN_ONCE_SLOTS - 1);
    const seen = this.#seenOnce[slot];
    if (seen !== hash + 1 && (this.#recent === undefined || seen !== -(hash + 1))) {
      this.#seenOnce[slot] = hash + 1;
      return { xml, message, cached: false, json: undefined };
    }
    const fresh: CachedDocument = { xml, message, cached: true, json: undefined };
    if (this.#recent !== undefined && seen === hash + 1) {
      this.#seenOnce[slot] = -(hash + 1);
      this.#recent.set(hash, fresh);
      return fresh;
    }
    if (this.#entries.size >= DOCUMENT_CACHE_ENTRIES) this.#entries.clear();
    this.#entries.set(hash, fresh);
    return fresh;
  }

  /** The held document whose text is the `size` bytes of `plain` with this hash, if any. */
  #find(hash: number, size: number): CachedDocument | undefined {
    const held = this.#entries.get(hash);
    if (held !== undefined && isText(held.xml, size)) return held;
    const recent = this.#recent?.get(hash);
    return recent !== undefined && isText(recent.xml, size) ? recent : undefined;
  }

  /**
   * One pass over a body, four bytes at a time: decrypts it into `plain`, leaves the CRC of
   * its ciphertext in `lastCrc` and whether the plaintext is ASCII in `#ascii`, and returns
   * a 30-bit FNV-1a hash of the plaintext (a small integer: no heap number per lookup). One
   * pass instead of three (CRC, decryption, hash): this runs for every Discovery packet.
   */
  #decrypt(bytes: Uint8Array, start: number, size: number, tid: number): number {
    const key = fillKeystream(tid, keyBytes);
    for (let k = 0; k < KEY_WORDS; k++) {
      keyWords[k] = key[4 * k] | key[4 * k + 1] << 8 | key[4 * k + 2] << 16 | key[4 * k + 3] << 24;
    }
    let crc = 0;
    let hash = 0x811c9dc5;
    let high = 0;
    let i = 0;
    for (; i + 4 <= size; i += 4) {
      const at = start + i;
      const word = bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | bytes[at + 3] << 24;
      crc = bcudpCrcWord(crc, word);
      const clear = word ^ keyWords[(i >> 2) & (KEY_WORDS - 1)];
      plain[i] = clear;
      plain[i + 1] = clear >> 8;
      plain[i + 2] = clear >> 16;
      plain[i + 3] = clear >>> 24;
      high |= clear;
      hash = Math.imul(hash ^ clear, 16777619);
    }
    for (; i < size; i++) {
      const byte = bytes[start + i];
      crc = bcudpCrcByte(crc, byte);
      const clear = byte ^ key[i & (KEYSTREAM_LENGTH - 1)];
      plain[i] = clear;
      high |= clear;
      hash = Math.imul(hash ^ clear, 16777619);
    }
    this.lastCrc = crc;
    this.#ascii = (high & 0x80808080) === 0;
    return hash & 0x3fffffff;
  }
}

/**
 * True when the first `size` bytes of `plain` are the char codes of `text`. For a document's
 * UTF-8 decoded text, exactly when the bytes are ASCII (UTF-8 decoding never yields more code
 * units than bytes, and a byte of 0x80 or more never decodes to its own code).
 */
function isText(text: string, size: number): boolean {
  if (text.length !== size) return false;
  for (let i = 0; i < size; i++) if (text.charCodeAt(i) !== plain[i]) return false;
  return true;
}

/** The error for a body whose CRC (`actual`) differs from its header's (`expected`). */
export function crcMismatch(offset: number, expected: number, actual: number): BcUdpError {
  return new BcUdpError(
    "crc_mismatch",
    `CRC mismatch at byte ${offset}: header says ${hex32(expected)}, body gives ${hex32(actual)}`,
    { expected, actual, offset },
  );
}
