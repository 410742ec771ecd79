/**
 * Reading BcUdp packet headers: the magic number, fixed fields and payload size of each kind,
 * and where a packet ends. All integers are little-endian.
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
import { BcUdpError } from "./errors.ts";
import { hex32 } from "./hex.ts";
import type { Packet } from "./packet.ts";

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

/** Throws `payload_too_large` for a payload size over MAX_PAYLOAD_SIZE (read or to write). */
export function checkPayloadSize(size: number): void {
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
