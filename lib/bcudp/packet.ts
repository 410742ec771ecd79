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
import { BcUdpError, hex32 } from "./errors.ts";
import { parseMessage, validateMessage, writeMessage } from "./message.ts";
import type { Message } from "./schema.ts";
import { xorInto } from "./xor.ts";

/** A Discovery packet: the XOR-encrypted XML message. */
export interface DiscoveryPacket {
  kind: "discovery";
  tid: number;
  /** The CRC carried in the header (over the encrypted body). */
  crc: number;
  message: Message;
  /** The decrypted XML text as received (on encode: as written). */
  xml: string;
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
}

/** Any decoded packet. */
export type Packet = DiscoveryPacket | DataPacket | AckPacket | RelayPacket;

/** Header fields of a Discovery packet, readable even when its body is not. */
export interface DiscoveryHeader {
  payloadSize: number;
  tid: number;
  crc: number;
}

/** Options for decoding. */
export interface DecodeOptions {
  /** Reject Discovery/Relay bodies whose CRC does not match (default true). */
  verifyCrc?: boolean;
}

const utf8 = new TextDecoder("utf-8", { fatal: false });
const textEncoder = new TextEncoder();

function need(bytes: Uint8Array, offset: number, size: number, what: string): void {
  const available = bytes.length - offset;
  if (available < size) {
    throw new BcUdpError(
      what === "header" ? "truncated_header" : "truncated_body",
      `truncated ${what}: need ${size} bytes, have ${available}`,
      { needed: size, available, offset },
    );
  }
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

/** Reads a Discovery/Relay header at `offset` (20 bytes), checking size and the fixed field. */
export function readDiscoveryHeader(bytes: Uint8Array, offset = 0): DiscoveryHeader {
  need(bytes, offset, HEADER_SIZE, "header");
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, HEADER_SIZE);
  const payloadSize = view.getUint32(4, true);
  const unknown = view.getUint32(8, true);
  if (unknown !== DISCOVERY_UNKNOWN_FIELD) {
    throw new BcUdpError(
      "unknown_field_value",
      `header field at offset 8 is ${unknown}, expected ${DISCOVERY_UNKNOWN_FIELD}`,
      { field: "unknown", value: unknown },
    );
  }
  checkPayloadSize(payloadSize);
  return { payloadSize, tid: view.getUint32(12, true), crc: view.getUint32(16, true) };
}

function checkCrc(bytes: Uint8Array, start: number, end: number, expected: number): void {
  const actual = bcudpCrc(bytes, start, end);
  if (actual !== expected) {
    throw new BcUdpError(
      "crc_mismatch",
      `CRC mismatch: header says ${hex32(expected)}, body gives ${hex32(actual)}`,
      { expected, actual },
    );
  }
}

/** Decrypts the `payloadSize` bytes at `start` with `tid` into a string. */
export function decryptBody(bytes: Uint8Array, start: number, size: number, tid: number): string {
  const plain = new Uint8Array(size);
  xorInto(bytes, start, size, tid, plain, 0);
  return utf8.decode(plain);
}

function decodeDiscoveryAt(
  bytes: Uint8Array,
  offset: number,
  options: DecodeOptions,
): { packet: DiscoveryPacket; end: number } {
  const header = readDiscoveryHeader(bytes, offset);
  const start = offset + HEADER_SIZE;
  need(bytes, start, header.payloadSize, "body");
  const end = start + header.payloadSize;
  if (options.verifyCrc !== false) checkCrc(bytes, start, end, header.crc);
  const xml = decryptBody(bytes, start, header.payloadSize, header.tid);
  const message = parseMessage(xml);
  return { packet: { kind: "discovery", tid: header.tid, crc: header.crc, message, xml }, end };
}

function decodeDataAt(bytes: Uint8Array, offset: number): { packet: DataPacket; end: number } {
  need(bytes, offset, HEADER_SIZE, "header");
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, HEADER_SIZE);
  const zero = view.getUint32(8, true);
  if (zero !== 0) {
    throw new BcUdpError(
      "unknown_field_value",
      `data header field at offset 8 is ${zero}, expected 0`,
      {
        field: "zero",
        value: zero,
      },
    );
  }
  const size = view.getUint32(16, true);
  checkPayloadSize(size);
  const start = offset + HEADER_SIZE;
  need(bytes, start, size, "body");
  return {
    packet: {
      kind: "data",
      connectionId: view.getInt32(4, true),
      packetId: view.getUint32(12, true),
      payload: bytes.slice(start, start + size),
    },
    end: start + size,
  };
}

function decodeAckAt(bytes: Uint8Array, offset: number): { packet: AckPacket; end: number } {
  need(bytes, offset, ACK_HEADER_SIZE, "header");
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, ACK_HEADER_SIZE);
  const zero = view.getUint32(8, true);
  if (zero !== 0) {
    throw new BcUdpError(
      "unknown_field_value",
      `ack header field at offset 8 is ${zero}, expected 0`,
      {
        field: "zero",
        value: zero,
      },
    );
  }
  const size = view.getUint32(24, true);
  checkPayloadSize(size);
  const start = offset + ACK_HEADER_SIZE;
  need(bytes, start, size, "body");
  return {
    packet: {
      kind: "ack",
      connectionId: view.getInt32(4, true),
      groupId: view.getUint32(12, true),
      packetId: view.getUint32(16, true),
      latency: view.getUint32(20, true),
      bitmap: bytes.slice(start, start + size),
    },
    end: start + size,
  };
}

function decodeRelayAt(
  bytes: Uint8Array,
  offset: number,
  options: DecodeOptions,
): { packet: RelayPacket; end: number } {
  const header = readDiscoveryHeader(bytes, offset);
  const start = offset + HEADER_SIZE;
  need(bytes, start, header.payloadSize, "body");
  const end = start + header.payloadSize;
  if (options.verifyCrc !== false) checkCrc(bytes, start, end, header.crc);
  return {
    packet: { kind: "relay", tid: header.tid, crc: header.crc, body: bytes.slice(start, end) },
    end,
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
 * Decodes the one packet starting at `offset`; returns it with the offset just past it.
 * Throws BcUdpError (and nothing else) for any malformed input.
 */
export function decodePacketAt(
  bytes: Uint8Array,
  offset = 0,
  options: DecodeOptions = {},
): { packet: Packet; end: number } {
  need(bytes, offset, 4, "header");
  const magic = (bytes[offset] | bytes[offset + 1] << 8 | bytes[offset + 2] << 16 |
    bytes[offset + 3] << 24) >>> 0;
  switch (kindOfMagic(magic)) {
    case "discovery":
      return decodeDiscoveryAt(bytes, offset, options);
    case "data":
      return decodeDataAt(bytes, offset);
    case "ack":
      return decodeAckAt(bytes, offset);
    case "relay":
      return decodeRelayAt(bytes, offset, options);
  }
  throw new BcUdpError("bad_magic", `bad magic ${hex32(magic)} at byte ${offset}`, {
    magic,
    offset,
  });
}

/**
 * Decodes every packet packed back to back in one datagram. Stops at the first packet that
 * fails (its length is then unknown) and throws its BcUdpError; use `decodeDatagramLenient`
 * to keep the packets read before it.
 */
export function decodeDatagram(bytes: Uint8Array, options: DecodeOptions = {}): Packet[] {
  const packets: Packet[] = [];
  let offset = 0;
  do {
    const { packet, end } = decodePacketAt(bytes, offset, options);
    packets.push(packet);
    offset = end;
  } while (offset < bytes.length);
  return packets;
}

/** Result of `decodeDatagramLenient`: the packets read, and the error that stopped it. */
export interface LenientDecode {
  packets: Packet[];
  error?: BcUdpError;
  /** Byte offset of the packet that failed. */
  errorOffset?: number;
}

/** Like `decodeDatagram`, but returns the packets decoded before a failure with the error. */
export function decodeDatagramLenient(
  bytes: Uint8Array,
  options: DecodeOptions = {},
): LenientDecode {
  const packets: Packet[] = [];
  let offset = 0;
  try {
    do {
      const { packet, end } = decodePacketAt(bytes, offset, options);
      packets.push(packet);
      offset = end;
    } while (offset < bytes.length);
    return { packets };
  } catch (error) {
    if (!(error instanceof BcUdpError)) throw error;
    return { packets, error, errorOffset: offset };
  }
}

/**
 * Frames already-written XML text as a Discovery packet: header, CRC, XOR with `tid`.
 * No schema check: used for `encode --no-validate` and by `encodeDiscovery`.
 */
export function encodeDiscoveryXml(xml: string, tid: number): Uint8Array {
  const plain = textEncoder.encode(xml);
  checkPayloadSize(plain.length);
  const out = new Uint8Array(HEADER_SIZE + plain.length);
  xorInto(plain, 0, plain.length, tid >>> 0, out, HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC_DISCOVERY, true);
  view.setUint32(4, plain.length, true);
  view.setUint32(8, DISCOVERY_UNKNOWN_FIELD, true);
  view.setUint32(12, tid >>> 0, true);
  view.setUint32(16, bcudpCrc(out, HEADER_SIZE, out.length), true);
  return out;
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
  if (options.validate !== false) validateMessage(message);
  return encodeDiscoveryXml(writeMessage(message), tid);
}

function frameWithHeader(size: number, headerSize: number, magic: number): [Uint8Array, DataView] {
  checkPayloadSize(size);
  const out = new Uint8Array(headerSize + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, true);
  return [out, view];
}

/** Encodes any packet kind back to bytes (Discovery bodies are re-written from `message`). */
export function encodePacket(packet: Packet): Uint8Array {
  switch (packet.kind) {
    case "discovery":
      return encodeDiscovery(packet.message, packet.tid);
    case "data": {
      const [out, view] = frameWithHeader(packet.payload.length, HEADER_SIZE, MAGIC_DATA);
      view.setInt32(4, packet.connectionId, true);
      view.setUint32(12, packet.packetId, true);
      view.setUint32(16, packet.payload.length, true);
      out.set(packet.payload, HEADER_SIZE);
      return out;
    }
    case "ack": {
      const [out, view] = frameWithHeader(packet.bitmap.length, ACK_HEADER_SIZE, MAGIC_ACK);
      view.setInt32(4, packet.connectionId, true);
      view.setUint32(12, packet.groupId, true);
      view.setUint32(16, packet.packetId, true);
      view.setUint32(20, packet.latency, true);
      view.setUint32(24, packet.bitmap.length, true);
      out.set(packet.bitmap, ACK_HEADER_SIZE);
      return out;
    }
    case "relay": {
      const [out, view] = frameWithHeader(packet.body.length, HEADER_SIZE, MAGIC_RELAY);
      view.setUint32(4, packet.body.length, true);
      view.setUint32(8, DISCOVERY_UNKNOWN_FIELD, true);
      view.setUint32(12, packet.tid, true);
      view.setUint32(16, bcudpCrc(packet.body), true);
      out.set(packet.body, HEADER_SIZE);
      return out;
    }
  }
}
