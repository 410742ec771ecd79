/**
 * BcUdp framing: the four packet kinds (Discovery, Data, Ack, Relay), several of which may
 * share one UDP datagram. All integers are little-endian.
 */

import {
  ACK_HEADER_SIZE,
  DISCOVERY_UNKNOWN_FIELD,
  HEADER_SIZE,
  MAGIC_ACK,
  MAGIC_DATA,
  MAGIC_DISCOVERY,
  MAGIC_RELAY,
  MAX_PAYLOAD_SIZE,
} from "./constants.ts";
import { bcudpCrc } from "./crc.ts";
import { type CachedDocument, crcMismatch, DocumentCache } from "./document_cache.ts";
import { BcUdpError } from "./errors.ts";
import { hex32 } from "./hex.ts";
import { writeMessage, writeValidMessage } from "./message.ts";
import type { Message } from "./schema.ts";
import { encryptString, xorInto } from "./xor.ts";

/** A Discovery packet: the XOR-encrypted XML message. */
export interface DiscoveryPacket {
  kind: "discovery";
  tid: number;
  /** The CRC carried in the header (over the encrypted body). */
  crc: number;
  message: Message;
  /** The decrypted XML text as received (on encode: as written). */
  xml: string;
  /** Header byte 8's word when it is not the usual 1 (see `unusualHeaderWord`). */
  headerUnknown?: number;
}

/** A Data packet: one fragment of a Baichuan stream. */
export interface DataPacket {
  kind: "data";
  connectionId: number;
  packetId: number;
  payload: Uint8Array;
}

/** An Ack packet with its per-packet received bitmap. */
export interface AckPacket {
  kind: "ack";
  connectionId: number;
  groupId: number;
  packetId: number;
  latency: number;
  bitmap: Uint8Array;
}

/** A Relay packet: Discovery-shaped header, undocumented body. */
export interface RelayPacket {
  kind: "relay";
  tid: number;
  crc: number;
  body: Uint8Array;
  /** Header byte 8's word when it is not the usual 1 (see `unusualHeaderWord`). */
  headerUnknown?: number;
}

/** Any decoded packet. */
export type Packet = DiscoveryPacket | DataPacket | AckPacket | RelayPacket;

/** Header fields of a Discovery packet, readable even when its body is not. */
export interface DiscoveryHeader {
  payloadSize: number;
  tid: number;
  crc: number;
  /**
   * The word at byte 8, documented as "unknown, always 1". Other values are accepted (the
   * CRC covers only the body, and dropping a valid packet over a field nobody understands is
   * the wrong side to err on) and flagged by `decode` and `pcap-replay`.
   */
  unknown: number;
}

/**
 * Header byte 8's word when it is not the usual 1, for a packet to carry; else undefined.
 */
export function unusualHeaderWord(header: { unknown: number }): number | undefined {
  return header.unknown === DISCOVERY_UNKNOWN_FIELD ? undefined : header.unknown;
}

/** The note `decode` and `pcap-replay` print for an unusual byte-8 word. */
export function unusualHeaderNote(value: number): string {
  return `header field unknown (byte 8) is ${value}, usually ${DISCOVERY_UNKNOWN_FIELD}`;
}

/** The header of any packet kind, with the sizes needed to find its end. */
export type PacketHeader =
  | ({ kind: "discovery" | "relay"; headerSize: number } & DiscoveryHeader)
  | {
    kind: "data";
    headerSize: number;
    payloadSize: number;
    connectionId: number;
    packetId: number;
  }
  | {
    kind: "ack";
    headerSize: number;
    payloadSize: number;
    connectionId: number;
    groupId: number;
    packetId: number;
    latency: number;
  };

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

function truncated(
  what: "header" | "body",
  bytes: Uint8Array,
  offset: number,
  needed: number,
): BcUdpError {
  const available = Math.max(0, bytes.length - offset);
  return new BcUdpError(
    what === "header" ? "truncated_header" : "truncated_body",
    `truncated ${what} at byte ${offset}: need ${needed} bytes, have ${available}`,
    { needed, available, offset },
  );
}

function need(bytes: Uint8Array, offset: number, size: number, what: "header" | "body"): void {
  if (bytes.length - offset < size) throw truncated(what, bytes, offset, size);
}

function checkPayloadSize(size: number): void {
  if (size > MAX_PAYLOAD_SIZE) {
    throw new BcUdpError(
      "payload_too_large",
      `payload size ${size} is over the limit of ${MAX_PAYLOAD_SIZE}`,
      { size, max: MAX_PAYLOAD_SIZE },
    );
  }
}

function u32At(bytes: Uint8Array, at: number): number {
  return (bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 | bytes[at + 3] << 24) >>> 0;
}

function setU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = (value >>> 24) & 0xff;
}

function checkFixedField(
  bytes: Uint8Array,
  at: number,
  expected: number,
  kind: string,
  field: string,
): void {
  const value = u32At(bytes, at);
  if (value !== expected) {
    throw new BcUdpError(
      "unknown_field_value",
      `${kind} header field ${field} (byte ${at}) is ${value}, expected ${expected}`,
      { field, value, expected, offset: at },
    );
  }
}

/** Reads a Discovery/Relay header at `offset` (20 bytes), checking its size and payload size. */
export function readDiscoveryHeader(bytes: Uint8Array, offset = 0): DiscoveryHeader {
  return discoveryOrRelayHeader(bytes, offset, "discovery");
}

/** A Discovery or Relay header as one object (they share the layout; every datagram has one). */
function discoveryOrRelayHeader(
  bytes: Uint8Array,
  offset: number,
  kind: "discovery" | "relay",
): DiscoveryHeader & { kind: "discovery" | "relay"; headerSize: number } {
  need(bytes, offset, HEADER_SIZE, "header");
  const payloadSize = u32At(bytes, offset + 4);
  checkPayloadSize(payloadSize);
  return {
    kind,
    headerSize: HEADER_SIZE,
    payloadSize,
    tid: u32At(bytes, offset + 12),
    crc: u32At(bytes, offset + 16),
    unknown: u32At(bytes, offset + 8),
  };
}

/** The kind of packet a magic number announces, or undefined for an unknown magic. */
export function kindOfMagic(magic: number): Packet["kind"] | undefined {
  switch (magic) {
    case MAGIC_DISCOVERY:
      return "discovery";
    case MAGIC_DATA:
      return "data";
    case MAGIC_ACK:
      return "ack";
    case MAGIC_RELAY:
      return "relay";
  }
  return undefined;
}

/**
 * Reads the header of whatever packet starts at `offset` (magic, fixed fields, payload size),
 * without touching the body. Throws BcUdpError for a short, unknown or invalid header.
 */
export function readPacketHeader(bytes: Uint8Array, offset = 0): PacketHeader {
  if (bytes.length - offset < 4) throw truncated("header", bytes, offset, HEADER_SIZE);
  const magic = u32At(bytes, offset);
  const kind = kindOfMagic(magic);
  switch (kind) {
    case "discovery":
    case "relay":
      return discoveryOrRelayHeader(bytes, offset, kind);
    case "data": {
      need(bytes, offset, HEADER_SIZE, "header");
      checkFixedField(bytes, offset + 8, 0, "data", "zero");
      const payloadSize = u32At(bytes, offset + 16);
      checkPayloadSize(payloadSize);
      return {
        kind,
        headerSize: HEADER_SIZE,
        payloadSize,
        connectionId: u32At(bytes, offset + 4) | 0,
        packetId: u32At(bytes, offset + 12),
      };
    }
    case "ack": {
      need(bytes, offset, ACK_HEADER_SIZE, "header");
      checkFixedField(bytes, offset + 8, 0, "ack", "zero");
      const payloadSize = u32At(bytes, offset + 24);
      checkPayloadSize(payloadSize);
      return {
        kind,
        headerSize: ACK_HEADER_SIZE,
        payloadSize,
        connectionId: u32At(bytes, offset + 4) | 0,
        groupId: u32At(bytes, offset + 12),
        packetId: u32At(bytes, offset + 16),
        latency: u32At(bytes, offset + 20),
      };
    }
  }
  throw new BcUdpError("bad_magic", `bad magic ${hex32(magic)} at byte ${offset}`, {
    magic,
    offset,
  });
}

/** Offset just past the packet whose header is `header` at `offset`; checks the body fits. */
export function packetEnd(bytes: Uint8Array, offset: number, header: PacketHeader): number {
  const start = offset + header.headerSize;
  need(bytes, start, header.payloadSize, "body");
  return start + header.payloadSize;
}

/** The CRC a Discovery/Relay body really has (compare with the header's `crc`). */
export function bodyCrc(bytes: Uint8Array, offset: number, header: PacketHeader): number {
  const start = offset + header.headerSize;
  return bcudpCrc(bytes, start, start + header.payloadSize);
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

/** Throws unless `tid` is an integer in the u32 range. */
export function checkTid(tid: number): void {
  if (!Number.isInteger(tid) || tid < 0 || tid > 0xffffffff) {
    throw new BcUdpError("out_of_range", `tid ${tid} is not a u32 (0..4294967295)`, {
      field: "tid",
      value: String(tid),
    });
  }
}

function finishDiscoveryHeader(out: Uint8Array, magic: number, tid: number): Uint8Array {
  setU32(out, 0, magic);
  setU32(out, 4, out.length - HEADER_SIZE);
  setU32(out, 8, DISCOVERY_UNKNOWN_FIELD);
  setU32(out, 12, tid);
  setU32(out, 16, bcudpCrc(out, HEADER_SIZE, out.length));
  return out;
}

/**
 * Frames already-written XML text as a Discovery packet: header, CRC, XOR with `tid`.
 * No schema check: used for `encode --no-validate` and by `encodeDiscovery`.
 */
export function encodeDiscoveryXml(xml: string, tid: number): Uint8Array {
  checkTid(tid);
  if (xml.length > MAX_PAYLOAD_SIZE) checkPayloadSize(xml.length);
  const out = encryptString(xml, tid, HEADER_SIZE);
  checkPayloadSize(out.length - HEADER_SIZE);
  return finishDiscoveryHeader(out, MAGIC_DISCOVERY, tid);
}

/**
 * Frames a body that is already UTF-8 bytes (`plain`) as a Discovery packet with `tid`,
 * written into `out` (exactly HEADER_SIZE + plain.length bytes); returns `out`. For hot
 * paths that send one document many times (R2D_HB_R) into buffers they provide.
 */
export function writeDiscoveryPacket(plain: Uint8Array, tid: number, out: Uint8Array): Uint8Array {
  checkTid(tid);
  checkPayloadSize(plain.length);
  if (out.length !== HEADER_SIZE + plain.length) {
    throw new RangeError(`out must be ${HEADER_SIZE + plain.length} bytes, is ${out.length}`);
  }
  xorInto(plain, 0, plain.length, tid, out, HEADER_SIZE);
  return finishDiscoveryHeader(out, MAGIC_DISCOVERY, tid);
}

/** Options for encoding a message. */
export interface EncodeOptions {
  /** Check the message against its schema first (default true). */
  validate?: boolean;
}

/** Encodes a typed message as a Discovery packet with transaction id `tid`. */
export function encodeDiscovery(
  message: Message,
  tid: number,
  options: EncodeOptions = {},
): Uint8Array {
  const xml = options.validate === false ? writeMessage(message) : writeValidMessage(message);
  return encodeDiscoveryXml(xml, tid);
}

function checkHeaderInt(value: number, field: string, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BcUdpError(
      "out_of_range",
      `header field ${field} ${value} is outside ${min}..${max}`,
      {
        field,
        value: String(value),
      },
    );
  }
}

function framed(magic: number, headerSize: number, body: Uint8Array): Uint8Array {
  checkPayloadSize(body.length);
  const out = new Uint8Array(headerSize + body.length);
  setU32(out, 0, magic);
  out.set(body, headerSize);
  return out;
}

/**
 * Encodes any packet kind back to bytes (Discovery bodies are re-written from `message`).
 * Header numbers out of their range throw BcUdpError (`out_of_range`).
 */
export function encodePacket(packet: Packet): Uint8Array {
  switch (packet.kind) {
    case "discovery":
      return encodeDiscovery(packet.message, packet.tid);
    case "data": {
      checkHeaderInt(packet.connectionId, "connectionId", -0x80000000, 0x7fffffff);
      checkHeaderInt(packet.packetId, "packetId", 0, 0xffffffff);
      const out = framed(MAGIC_DATA, HEADER_SIZE, packet.payload);
      setU32(out, 4, packet.connectionId);
      setU32(out, 12, packet.packetId);
      setU32(out, 16, packet.payload.length);
      return out;
    }
    case "ack": {
      checkHeaderInt(packet.connectionId, "connectionId", -0x80000000, 0x7fffffff);
      checkHeaderInt(packet.groupId, "groupId", 0, 0xffffffff);
      checkHeaderInt(packet.packetId, "packetId", 0, 0xffffffff);
      checkHeaderInt(packet.latency, "latency", 0, 0xffffffff);
      const out = framed(MAGIC_ACK, ACK_HEADER_SIZE, packet.bitmap);
      setU32(out, 4, packet.connectionId);
      setU32(out, 12, packet.groupId);
      setU32(out, 16, packet.packetId);
      setU32(out, 20, packet.latency);
      setU32(out, 24, packet.bitmap.length);
      return out;
    }
    case "relay": {
      checkTid(packet.tid);
      return finishDiscoveryHeader(
        framed(MAGIC_RELAY, HEADER_SIZE, packet.body),
        MAGIC_RELAY,
        packet.tid,
      );
    }
  }
}
