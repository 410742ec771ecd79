/**
 * Encoding BcUdp packets to bytes: Discovery framing (header, CRC, XOR with the tid) from a
 * message, from written XML or from UTF-8 bytes, and the other kinds from their fields. All
 * integers are little-endian.
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
import { writeMessage, writeValidMessage } from "./message_writer.ts";
import type { Packet } from "./packet.ts";
import { checkPayloadSize } from "./packet_header.ts";
import type { Message } from "./schema.ts";
import { encryptString, xorInto } from "./xor.ts";

function setU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = (value >>> 24) & 0xff;
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
