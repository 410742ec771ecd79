/**
 * Decodes the BcUdp packets of one UDP payload for the timeline, remembering recently seen
 * Discovery plaintexts: captures repeat the same XML over and over (heartbeats and their
 * replies), so each distinct document is parsed once and its JSON written once. The cache is
 * keyed by a hash of the decrypted bytes computed while decrypting, so a repeated document
 * costs neither a new string nor a parse.
 */

import {
  bcudpCrc,
  BcUdpError,
  decodePacketAt,
  decryptBody,
  fieldsToJsonValue,
  fillKeystream,
  HEADER_SIZE,
  kindOfMagic,
  MAGIC_DISCOVERY,
  MAX_PAYLOAD_SIZE,
  type Message,
  type Packet,
  parseMessage,
  readDiscoveryHeader,
} from "../bcudp/mod.ts";
import { FifoMap } from "./fifo_map.ts";

/** Documents kept for a long time: those seen again after they left the recent tier. */
export const PLAINTEXT_CACHE_ENTRIES = 4096;
/**
 * Documents kept briefly, first-in first-out. A burst of one document (the same R2D_HB_R
 * to every camera in one second, a wake's R2D_C burst) is served from here and then
 * dropped while still young, so it never becomes long-lived garbage that grows the heap.
 */
export const RECENT_CACHE_ENTRIES = 64;
/** Slots for hashes of documents seen before; seeing one again after the recent tier promotes it. */
export const SEEN_ENTRIES = 4 * PLAINTEXT_CACHE_ENTRIES;

/** One decoded BcUdp packet with what the timeline prints about it. */
export interface DecodedPacket {
  packet: Packet;
  /** Discovery/Relay: whether the header CRC matches the body. */
  crcOk?: boolean;
  /** Discovery: the message fields as UTF-8 JSON (u64 as strings), shared between packets. */
  fieldsJson?: Uint8Array;
  /** Discovery: the XML as a UTF-8 JSON string literal, shared between packets. */
  xmlJson?: Uint8Array;
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
  plain: Uint8Array;
  xml: string;
  parsed: { message: Message; fieldsJson: Uint8Array; xmlJson: Uint8Array } | {
    error: BcUdpError;
  };
}

const utf8 = new TextEncoder();
const keys = new Uint8Array(32);
const plain = new Uint8Array(MAX_PAYLOAD_SIZE);
/** Bodies up to this size are turned into text by String.fromCharCode. */
const SHORT_BODY = 4096;

function sameBytes(known: Known | undefined, size: number): known is Known {
  if (known === undefined || known.plain.length !== size) return false;
  const bytes = known.plain;
  for (let i = 0; i < size; i++) if (bytes[i] !== plain[i]) return false;
  return true;
}

/** Decodes datagrams; keep one per capture so the plaintext cache is shared. */
export class DatagramDecoder {
  #stable: FifoMap<number, Known>;
  #recent = new FifoMap<number, Known>(RECENT_CACHE_ENTRIES);
  /** Direct-mapped hashes seen before (a collision just forgets the older one). */
  #seen = new Int32Array(SEEN_ENTRIES);
  /** Offset just past the packet `#decodeAt` read. */
  #end = 0;
  /** How many Discovery documents were served from the cache (for the benchmark). */
  cacheHits = 0;

  constructor(capacity = PLAINTEXT_CACHE_ENTRIES) {
    this.#stable = new FifoMap<number, Known>(capacity);
  }

  /** Decodes every packet packed in `bytes`, stopping at the first that fails. */
  decode(bytes: Uint8Array): DatagramDecode {
    const packets: DecodedPacket[] = [];
    let offset = 0;
    try {
      do {
        packets.push(this.#decodeAt(bytes, offset));
        offset = this.#end;
      } while (offset < bytes.length);
      return { packets };
    } catch (error) {
      if (!(error instanceof BcUdpError)) throw error;
      return { packets, error, errorOffset: offset };
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
    const crcOk = bcudpCrc(bytes, start, end) === header.crc;
    const known = this.#lookup(bytes, start, header.payloadSize, header.tid);
    const parsed = known.parsed;
    if ("error" in parsed) throw parsed.error;
    return {
      packet: {
        kind: "discovery",
        tid: header.tid,
        crc: header.crc,
        message: parsed.message,
        xml: known.xml,
      },
      crcOk,
      fieldsJson: parsed.fieldsJson,
      xmlJson: parsed.xmlJson,
    };
  }

  /** Decrypts the body into the scratch buffer and finds (or parses and keeps) its document. */
  #lookup(bytes: Uint8Array, start: number, size: number, tid: number): Known {
    const ks = fillKeystream(tid, keys);
    let hash = 0x811c9dc5;
    let high = 0;
    for (let i = 0; i < size; i++) {
      const byte = bytes[start + i] ^ ks[i & 31];
      plain[i] = byte;
      high |= byte;
      hash = Math.imul(hash ^ byte, 16777619);
    }
    // 30 bits keep the key a small integer: no heap number per lookup or per remembered hash.
    hash &= 0x3fffffff;
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
    // Short ASCII (every real body) skips the UTF-8 decoder, a per-call cost at this size.
    const xml = high & 0x80 || size > SHORT_BODY
      ? decryptBody(bytes, start, size, tid)
      : String.fromCharCode.apply(null, plain.subarray(0, size) as unknown as number[]);
    const known: Known = { plain: plain.slice(0, size), xml, parsed: parse(xml) };
    // A hash collision simply replaces the older document.
    const slot = hash % SEEN_ENTRIES;
    if (this.#seen[slot] === hash + 1) this.#stable.set(hash, known);
    else {
      this.#seen[slot] = hash + 1;
      this.#recent.set(hash, known);
    }
    return known;
  }
}

function parse(xml: string): Known["parsed"] {
  try {
    const message = parseMessage(xml);
    return {
      message,
      fieldsJson: utf8.encode(JSON.stringify(fieldsToJsonValue(message))),
      xmlJson: utf8.encode(JSON.stringify(xml)),
    };
  } catch (error) {
    if (!(error instanceof BcUdpError)) throw error;
    return { error };
  }
}

/** True when `payload` starts with one of the four BcUdp magic numbers. */
export function startsWithMagic(payload: Uint8Array): boolean {
  if (payload.length < 4) return false;
  const magic = (payload[0] | payload[1] << 8 | payload[2] << 16 | payload[3] << 24) >>> 0;
  return kindOfMagic(magic) !== undefined;
}
