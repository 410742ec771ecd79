/**
 * Decodes the BcUdp packets of one UDP payload for the timeline, remembering recently seen
 * Discovery plaintexts: captures repeat the same XML over and over (heartbeats and their
 * replies), so a document that repeats is parsed and its JSON encoded once it is seen a
 * second time, and served from the cache after that. The cache is keyed by a hash of the
 * decrypted bytes computed while decrypting, so a repeated document costs neither a new
 * string nor a parse.
 */

import {
  bcudpCrc,
  bcudpCrcByte,
  bcudpCrcWord,
  BcUdpError,
  decodePacketAt,
  decryptBody,
  type DiscoveryPacket,
  fillKeystream,
  HEADER_SIZE,
  isText,
  KEYSTREAM_LENGTH,
  kindOfMagic,
  MAGIC_DISCOVERY,
  MAX_PAYLOAD_SIZE,
  type Message,
  type Packet,
  parseMessage,
  readDiscoveryHeader,
  unusualHeaderWord,
} from "../bcudp/mod.ts";
import { FifoMap } from "./fifo_map.ts";
import { RecentCache } from "./recent_cache.ts";
import { documentJsonBytes } from "./format.ts";

/** Documents kept for a long time: those seen again after they left the recent tier. */
export const PLAINTEXT_CACHE_ENTRIES = 4096;
/**
 * Documents kept briefly, the least recently used forgotten first. A burst of one document
 * (the same R2D_HB_R to every camera in one second, a wake's R2D_C burst) is served from
 * here and then dropped while still young, so it never becomes long-lived garbage that
 * grows the heap. Few entries on purpose: whatever is cached when V8 collects its young
 * generation survives, and V8 grows the young generation by as much as survives.
 */
export const RECENT_CACHE_ENTRIES = 16;
/**
 * Slots for hashes of documents seen before: the second sight puts a document in the recent
 * tier, seeing it again after it left that tier puts it in the long-lived one.
 */
export const SEEN_ENTRIES = 4 * PLAINTEXT_CACHE_ENTRIES;

/** One decoded BcUdp packet with what the timeline prints about it. */
export interface DecodedPacket {
  packet: Packet;
  /** Discovery/Relay: whether the header CRC matches the body. */
  crcOk?: boolean;
  /**
   * Discovery: the JSON members that depend only on the document (variant, fields, unknown,
   * xml; see `writeDocumentJson`) as UTF-8, shared between the packets that carry it.
   */
  documentJson?: Uint8Array;
}

/** Every packet of a datagram, and the error that stopped decoding, if any. */
export interface DatagramDecode {
  packets: DecodedPacket[];
  error?: BcUdpError;
  /** Byte offset in the datagram of the packet that failed. */
  errorOffset?: number;
}

/** A remembered plaintext and what it parsed to. */
interface Known {
  /**
   * The plaintext bytes as a string of char codes 0-255, to compare with: the xml itself
   * when the document is ASCII (every real one), so a remembered document keeps one string
   * and no byte array (small survivors keep V8's young generation small).
   */
  bytes: string;
  xml: string;
  /** What the xml parsed to, or why it did not. */
  message?: Message;
  error?: BcUdpError;
  /** The document's JSON members (see `writeDocumentJson`), added when it is cached. */
  json?: Uint8Array;
}

const ascii = new TextDecoder();
const plain = new Uint8Array(MAX_PAYLOAD_SIZE);
const keyBytes = new Uint8Array(KEYSTREAM_LENGTH);
/** The keystream as little-endian words. */
const KEY_WORDS = KEYSTREAM_LENGTH / 4;
const keyWords = new Int32Array(KEY_WORDS);
/** Bytes turned into text by one String.fromCharCode call (longer bodies take several). */
const SHORT_BODY = 4096;

/** Views of the first `size` bytes of `plain`, made once per size: a view is an object. */
const plainViews: Uint8Array[] = [];

function plainView(size: number): Uint8Array {
  return plainViews[size] ??= plain.subarray(0, size);
}

function sameBytes(known: Known | undefined, size: number): known is Known {
  return known !== undefined && isText(known.bytes, plain, size);
}

/** The first `size` bytes of the scratch plaintext as char codes 0-255. */
function byteString(size: number): string {
  let text = "";
  for (let at = 0; at < size; at += SHORT_BODY) {
    const part = plain.subarray(at, Math.min(size, at + SHORT_BODY));
    text += String.fromCharCode.apply(null, part as unknown as number[]);
  }
  return text;
}

/** Decodes datagrams; keep one per capture so the plaintext cache is shared. */
export class DatagramDecoder {
  #stable: FifoMap<number, Known>;
  #recent = new RecentCache<Known>(RECENT_CACHE_ENTRIES);
  /** Direct-mapped hashes seen before (a collision just forgets the older one). */
  #seen = new Int32Array(SEEN_ENTRIES);
  /** Offset just past the packet `#decodeAt` read. */
  #end = 0;
  /** The CRC of the body `#readBody` read, and whether its plaintext is ASCII. */
  #crc = 0;
  #ascii = true;
  /** How many Discovery documents were served from the cache (for the benchmark). */
  cacheHits = 0;

  constructor(capacity = PLAINTEXT_CACHE_ENTRIES) {
    this.#stable = new FifoMap<number, Known>(capacity);
  }

  /** Decodes every packet packed in `bytes`, stopping at the first that fails. */
  decode(bytes: Uint8Array): DatagramDecode {
    let packets: DecodedPacket[] | undefined;
    let offset = 0;
    try {
      do {
        const packet = this.#decodeAt(bytes, offset);
        // Most datagrams carry one packet: an array of one costs less than a push onto an
        // empty array (which reserves room for many).
        if (packets) packets.push(packet);
        else packets = [packet];
        offset = this.#end;
      } while (offset < bytes.length);
      return { packets };
    } catch (error) {
      if (!(error instanceof BcUdpError)) throw error;
      return { packets: packets ?? [], error, errorOffset: offset };
    }
  }

  #decodeAt(bytes: Uint8Array, offset: number): DecodedPacket {
    const magic = bytes.length - offset >= 4
      ? (bytes[offset] | bytes[offset + 1] << 8 | bytes[offset + 2] << 16 |
        bytes[offset + 3] << 24) >>> 0
      : 0;
    if (magic !== MAGIC_DISCOVERY) {
      const { packet, end } = decodePacketAt(bytes, offset, { verifyCrc: false });
      this.#end = end;
      const crcOk = packet.kind === "relay" ? bcudpCrc(packet.body) === packet.crc : undefined;
      return { packet, crcOk };
    }
    const header = readDiscoveryHeader(bytes, offset);
    const start = offset + HEADER_SIZE;
    const end = start + header.payloadSize;
    if (end > bytes.length) {
      throw new BcUdpError(
        "truncated_body",
        `truncated body: need ${header.payloadSize} bytes, have ${bytes.length - start}`,
        { needed: header.payloadSize, available: bytes.length - start, offset: start },
      );
    }
    this.#end = end;
    const hash = this.#readBody(bytes, start, header.payloadSize, header.tid);
    const crcOk = this.#crc === header.crc;
    const known = this.#lookup(hash, header.payloadSize, bytes, start, header.tid);
    if (known.error) throw known.error;
    const packet: DiscoveryPacket = {
      kind: "discovery",
      tid: header.tid,
      crc: header.crc,
      message: known.message!,
      xml: known.xml,
    };
    const odd = unusualHeaderWord(header);
    if (odd !== undefined) packet.headerUnknown = odd;
    return { packet, crcOk, documentJson: known.json };
  }

  /**
   * One pass over a Discovery body, four bytes at a time: decrypts it into `plain`, leaves
   * the CRC of its ciphertext in `#crc` and whether the plaintext is ASCII in `#ascii`, and
   * returns a 30-bit hash of the plaintext (the caches' key). One pass instead of three
   * (CRC, decryption, ASCII check): this runs for every Discovery packet of a capture.
   */
  #readBody(bytes: Uint8Array, start: number, size: number, tid: number): number {
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
    this.#crc = crc;
    this.#ascii = (high & 0x80808080) === 0;
    return hash & 0x3fffffff;
  }

  /** Finds (or parses and keeps) the document `#readBody` left in `plain`. */
  #lookup(hash: number, size: number, bytes: Uint8Array, start: number, tid: number): Known {
    const stable = this.#stable.get(hash);
    if (sameBytes(stable, size)) {
      this.cacheHits++;
      return stable;
    }
    const recent = this.#recent.get(hash);
    if (sameBytes(recent, size)) {
      this.cacheHits++;
      return recent;
    }
    // ASCII (every real body) is its own UTF-8 decoding and its own byte string: one string,
    // made natively (faster than String.fromCharCode over the bytes).
    const asBytes = this.#ascii ? ascii.decode(plainView(size)) : byteString(size);
    const xml = this.#ascii ? asBytes : decryptBody(bytes, start, size, tid);
    const known = remember(asBytes, xml);
    // A document is kept from its second sight on: one seen once (a D2R_C_R, or every
    // packet of a capture whose documents never repeat) would only be young garbage that
    // survives. `#seen` holds hash + 1 after the first sight, -(hash + 1) once the document
    // went to the recent tier; a hash collision simply forgets the older document.
    const slot = hash % SEEN_ENTRIES;
    const seen = this.#seen[slot];
    if (seen === hash + 1) {
      this.#seen[slot] = -(hash + 1);
      this.#recent.set(hash, withJson(known));
    } else if (seen === -(hash + 1)) this.#stable.set(hash, withJson(known));
    else this.#seen[slot] = hash + 1;
    return known;
  }
}

function remember(bytes: string, xml: string): Known {
  try {
    return { bytes, xml, message: parseMessage(xml), error: undefined, json: undefined };
  } catch (error) {
    if (!(error instanceof BcUdpError)) throw error;
    return { bytes, xml, message: undefined, error, json: undefined };
  }
}

/** Adds the document's JSON to a document about to be cached (it is written once per packet). */
function withJson(known: Known): Known {
  if (known.message) known.json = documentJsonBytes(known.message, known.xml);
  return known;
}

/** True when `payload` starts with one of the four BcUdp magic numbers. */
export function startsWithMagic(payload: Uint8Array): boolean {
  if (payload.length < 4) return false;
  const magic = (payload[0] | payload[1] << 8 | payload[2] << 16 | payload[3] << 24) >>> 0;
  return kindOfMagic(magic) !== undefined;
}
