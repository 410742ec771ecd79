/**
 * Decoding one BcUdp packet of any kind from bytes: the header, then the body (a Discovery body
 * through a document cache, which decrypts, checks the CRC and parses).
 */

import { type CachedDocument, crcMismatch, DocumentCache } from "./document_cache.ts";
import type { DiscoveryPacket, Packet, RelayPacket } from "./packet.ts";
import { bodyCrc, packetEnd, readPacketHeader, unusualHeaderWord } from "./packet_header.ts";

/** Options for decoding. */
export interface DecodeOptions {
  /** Reject Discovery/Relay bodies whose CRC does not match (default true). */
  verifyCrc?: boolean;
  /**
   * Parsed documents to reuse: a Discovery body seen before yields the same (shared,
   * read-only) message without a parse. For servers and timelines, which see the same
   * documents again and again.
   */
  documents?: DocumentCache;
}

/** Reads Discovery bodies for decodes given no `documents`: parses every body. */
const oneOffReader = new DocumentCache("none");

/** One decoded packet, the offset just past it, and what a timeline shows besides. */
export interface PacketDecode {
  packet: Packet;
  end: number;
  /** Discovery/Relay: whether the header CRC matches the body. */
  crcOk?: boolean;
  /** Discovery: the document as `documents` returned it (`cached` says whether it holds it). */
  document?: CachedDocument;
}

/**
 * Decodes the one packet starting at `offset`; returns it with the offset just past it.
 * Throws BcUdpError (and nothing else) for any malformed input.
 */
export function decodePacketAt(
  bytes: Uint8Array,
  offset = 0,
  options: DecodeOptions = {},
): PacketDecode {
  const header = readPacketHeader(bytes, offset);
  const end = packetEnd(bytes, offset, header);
  const start = offset + header.headerSize;
  switch (header.kind) {
    case "discovery": {
      const reader = options.documents ?? oneOffReader;
      const expectedCrc = options.verifyCrc !== false ? header.crc : undefined;
      const document = reader.read(bytes, start, header.payloadSize, header.tid, expectedCrc);
      const packet: DiscoveryPacket = {
        kind: "discovery",
        tid: header.tid,
        crc: header.crc,
        message: document.message,
        xml: document.xml,
      };
      const odd = unusualHeaderWord(header);
      if (odd !== undefined) packet.headerUnknown = odd;
      return { packet, end, crcOk: reader.lastCrc === header.crc, document };
    }
    case "relay": {
      const actual = bodyCrc(bytes, offset, header);
      const crcOk = actual === header.crc;
      if (!crcOk && options.verifyCrc !== false) throw crcMismatch(offset, header.crc, actual);
      const packet: RelayPacket = {
        kind: "relay",
        tid: header.tid,
        crc: header.crc,
        body: bytes.slice(start, end),
      };
      const odd = unusualHeaderWord(header);
      if (odd !== undefined) packet.headerUnknown = odd;
      return { packet, end, crcOk };
    }
    case "data":
      return {
        packet: {
          kind: "data",
          connectionId: header.connectionId,
          packetId: header.packetId,
          payload: bytes.slice(start, end),
        },
        end,
      };
    case "ack":
      return {
        packet: {
          kind: "ack",
          connectionId: header.connectionId,
          groupId: header.groupId,
          packetId: header.packetId,
          latency: header.latency,
          bitmap: bytes.slice(start, end),
        },
        end,
      };
  }
}
