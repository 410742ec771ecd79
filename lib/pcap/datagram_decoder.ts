/**
 * Decodes the BcUdp packets of one UDP payload for the timeline, remembering recently seen
 * Discovery plaintexts: captures repeat the same XML over and over (heartbeats and their
 * replies), so each distinct document is parsed once and its JSON written once.
 */

import {
  bcudpCrc,
  BcUdpError,
  decodePacketAt,
  decryptBody,
  fieldsToJsonValue,
  HEADER_SIZE,
  kindOfMagic,
  MAGIC_DISCOVERY,
  type Message,
  type Packet,
  parseMessage,
  readDiscoveryHeader,
} from "../bcudp/mod.ts";

/** Distinct Discovery plaintexts remembered (oldest forgotten first). */
export const PLAINTEXT_CACHE_ENTRIES = 4096;

/** One decoded BcUdp packet with what the timeline prints about it. */
export interface DecodedPacket {
  packet: Packet;
  /** Discovery/Relay: whether the header CRC matches the body. */
  crcOk?: boolean;
  /** Discovery: the message fields as JSON text (u64 as strings), shared between packets. */
  fieldsJson?: string;
}

/** Every packet of a datagram, and the error that stopped decoding, if any. */
export interface DatagramDecode {
  packets: DecodedPacket[];
  error?: BcUdpError;
  /** Byte offset in the datagram of the packet that failed. */
  errorOffset?: number;
}

type Parsed = { message: Message; fieldsJson: string } | { error: BcUdpError };

/** Decodes datagrams; keep one per capture so the plaintext cache is shared. */
export class DatagramDecoder {
  #cache = new Map<string, Parsed>();
  #capacity: number;
  /** How many Discovery documents were served from the cache (for the benchmark). */
  cacheHits = 0;

  constructor(capacity = PLAINTEXT_CACHE_ENTRIES) {
    this.#capacity = capacity;
  }

  /** Decodes every packet packed in `bytes`, stopping at the first that fails. */
  decode(bytes: Uint8Array): DatagramDecode {
    const packets: DecodedPacket[] = [];
    let offset = 0;
    try {
      do {
        const { decoded, end } = this.#decodeAt(bytes, offset);
        packets.push(decoded);
        offset = end;
      } while (offset < bytes.length);
      return { packets };
    } catch (error) {
      if (!(error instanceof BcUdpError)) throw error;
      return { packets, error, errorOffset: offset };
    }
  }

  #decodeAt(bytes: Uint8Array, offset: number): { decoded: DecodedPacket; end: number } {
    const magic = bytes.length - offset >= 4
      ? (bytes[offset] | bytes[offset + 1] << 8 | bytes[offset + 2] << 16 |
        bytes[offset + 3] << 24) >>> 0
      : 0;
    if (magic !== MAGIC_DISCOVERY) {
      const { packet, end } = decodePacketAt(bytes, offset, { verifyCrc: false });
      const crcOk = packet.kind === "relay" ? bcudpCrc(packet.body) === packet.crc : undefined;
      return { decoded: { packet, crcOk }, end };
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
    const crcOk = bcudpCrc(bytes, start, end) === header.crc;
    const xml = decryptBody(bytes, start, header.payloadSize, header.tid);
    const parsed = this.#parse(xml);
    if ("error" in parsed) throw parsed.error;
    const packet: Packet = {
      kind: "discovery",
      tid: header.tid,
      crc: header.crc,
      message: parsed.message,
      xml,
    };
    return { decoded: { packet, crcOk, fieldsJson: parsed.fieldsJson }, end };
  }

  #parse(xml: string): Parsed {
    const cached = this.#cache.get(xml);
    if (cached !== undefined) {
      this.cacheHits++;
      return cached;
    }
    let parsed: Parsed;
    try {
      const message = parseMessage(xml);
      parsed = { message, fieldsJson: JSON.stringify(fieldsToJsonValue(message)) };
    } catch (error) {
      if (!(error instanceof BcUdpError)) throw error;
      parsed = { error };
    }
    if (this.#cache.size >= this.#capacity) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
    this.#cache.set(xml, parsed);
    return parsed;
  }
}

/** True when `payload` starts with one of the four BcUdp magic numbers. */
export function startsWithMagic(payload: Uint8Array): boolean {
  if (payload.length < 4) return false;
  const magic = (payload[0] | payload[1] << 8 | payload[2] << 16 | payload[3] << 24) >>> 0;
  return kindOfMagic(magic) !== undefined;
}
