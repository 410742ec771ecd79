/**
 * Remembers parsed Discovery documents by their decrypted bytes. A camera sends the same
 * D2R_HB document every heartbeat (only the tid changes, and with it the encryption), so
 * a server that sees it again can skip the text decoding and the XML parse and hand out
 * the same message. A document is remembered from its second sight on (the first only leaves
 * its hash in a fixed table), so a stream of distinct documents (a flood of random UIDs)
 * keeps nothing alive: what a garbage collection finds alive is what makes V8 grow its young
 * generation, and that memory stays resident. Bounded by emptying it when full: a camera's
 * document is parsed again twice after each emptying.
 */

import { parseMessage } from "./message.ts";
import type { Message } from "./schema.ts";
import { decryptToString, fillKeystream } from "./xor.ts";

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

/** A decoded document. Shared between packets: treat it as read-only. */
export interface CachedDocument {
  readonly xml: string;
  readonly message: Message;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });
const keys = new Uint8Array(32);
const scratch = new Uint8Array(MAX_CACHED_DOCUMENT_BYTES);

/** A bounded cache of parsed documents; pass it to `decodeDatagramLenient` as `documents`. */
export class DocumentCache {
  /**
   * By hash of the plaintext; a collision replaces the older document. Only ASCII documents
   * (every real one) are kept: their text is their bytes, so no copy of the bytes is kept
   * to compare with.
   */
  #entries = new Map<number, CachedDocument>();
  /** Hash + 1 of the last document seen once in each slot (0 = none). */
  #seenOnce = new Int32Array(SEEN_ONCE_SLOTS);
  /** Documents served from the cache (for tests and benchmarks). */
  hits = 0;

  /**
   * Decrypts the `size` body bytes at `start` with `tid` and parses them, or returns the
   * document parsed when the same bytes were seen before (from the third sight on). Throws
   * BcUdpError for a body that does not parse (such bodies are not remembered).
   */
  read(bytes: Uint8Array, start: number, size: number, tid: number): CachedDocument {
    if (size > MAX_CACHED_DOCUMENT_BYTES) {
      const xml = decryptToString(bytes, start, size, tid);
      return { xml, message: parseMessage(xml) };
    }
    const hash = decryptAndHash(bytes, start, size, tid, scratch);
    const cached = this.#entries.get(hash);
    if (cached !== undefined && isText(cached.xml, scratch, size)) {
      this.hits++;
      return cached;
    }
    const plain = scratch.subarray(0, size);
    const xml = utf8.decode(plain);
    const message = parseMessage(xml);
    const seen = hash & (SEEN_ONCE_SLOTS - 1);
    if (this.#seenOnce[seen] !== hash + 1) {
      this.#seenOnce[seen] = hash + 1;
      return { xml, message };
    }
    const fresh: CachedDocument = { xml, message };
    if (!isText(xml, scratch, size)) return fresh;
    if (this.#entries.size >= DOCUMENT_CACHE_ENTRIES) this.#entries.clear();
    this.#entries.set(hash, fresh);
    return fresh;
  }
}

/**
 * Decrypts the `size` body bytes at `start` with `tid` into `out` and returns an FNV-1a
 * hash of the plaintext, in one pass: the key by which repeated documents are recognised.
 * 30 bits keep it a small integer (no heap number per lookup or per remembered hash).
 */
export function decryptAndHash(
  bytes: Uint8Array,
  start: number,
  size: number,
  tid: number,
  out: Uint8Array,
): number {
  const ks = fillKeystream(tid, keys);
  let hash = 0x811c9dc5;
  for (let i = 0; i < size; i++) {
    const byte = bytes[start + i] ^ ks[i & 31];
    out[i] = byte;
    hash = Math.imul(hash ^ byte, 16777619);
  }
  return hash & 0x3fffffff;
}

/**
 * True when the first `size` bytes of `plain` are the char codes of `text`. For a document's
 * UTF-8 decoded text, exactly when the bytes are ASCII (UTF-8 decoding never yields more code
 * units than bytes, and a byte of 0x80 or more never decodes to its own code); the caches of
 * decoded documents compare a remembered text with a new plaintext this way.
 */
export function isText(text: string, plain: Uint8Array, size: number): boolean {
  if (text.length !== size) return false;
  for (let i = 0; i < size; i++) if (text.charCodeAt(i) !== plain[i]) return false;
  return true;
}
