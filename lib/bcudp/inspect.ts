/**
 * Packet-by-packet inspection of a datagram for people (`bairelay decode`): every packet is
 * reported with whatever could be read, a bad CRC does not hide the message, and a broken
 * packet whose length is known does not stop the packets after it.
 */

import { BcUdpError } from "./errors.ts";
import { toHex } from "./hex.ts";
import { fieldsToJsonValue, type JsonValue } from "./message_json.ts";
import type { Packet } from "./packet.ts";
import { decodePacketAt } from "./packet_decode.ts";
import {
  bodyCrc,
  kindOfMagic,
  packetEnd,
  type PacketHeader,
  readPacketHeader,
  unusualHeaderNote,
  unusualHeaderWord,
} from "./packet_header.ts";
import { decryptToString } from "./xor.ts";
import { crcMismatch } from "./document_cache.ts";

/** How many payload bytes the hex preview of Data/Ack/Relay packets shows. */
export const PREVIEW_BYTES = 32;

/** What could be read of one packet of a datagram. */
export interface PacketReport {
  /** Byte offset of the packet in the datagram. */
  offset: number;
  /** The kind its magic announces, when at least the magic could be read and is known. */
  kind?: Packet["kind"];
  /** Byte offset just past the packet, when its length is known. */
  end?: number;
  /** The header, when it could be read. */
  header?: PacketHeader;
  /** Discovery/Relay: whether the body's CRC matches the header's. */
  crcOk?: boolean;
  /** Discovery/Relay: the CRC the body really has. */
  actualCrc?: number;
  /** Discovery: the decrypted XML, when the body is complete (even if it does not parse). */
  xml?: string;
  /** The fully decoded packet (a CRC mismatch alone does not prevent it). */
  packet?: Packet;
  /** Why the packet could not be decoded, or the CRC mismatch. */
  error?: BcUdpError;
}

function inspectPacketAt(bytes: Uint8Array, offset: number): PacketReport {
  const report: PacketReport = { offset };
  if (bytes.length - offset >= 4) {
    report.kind = kindOfMagic(
      new DataView(bytes.buffer, bytes.byteOffset + offset, 4).getUint32(0, true),
    );
  }
  try {
    const header = readPacketHeader(bytes, offset);
    report.header = header;
    report.end = packetEnd(bytes, offset, header);
    if (header.kind === "discovery" || header.kind === "relay") {
      report.actualCrc = bodyCrc(bytes, offset, header);
      report.crcOk = report.actualCrc === header.crc;
    }
    if (header.kind === "discovery") {
      const start = offset + header.headerSize;
      report.xml = decryptToString(bytes, start, header.payloadSize, header.tid);
    }
    report.packet = decodePacketAt(bytes, offset, { verifyCrc: false }).packet;
    if ((header.kind === "discovery" || header.kind === "relay") && !report.crcOk) {
      report.error = crcMismatch(offset, header.crc, report.actualCrc as number);
    }
  } catch (error) {
    if (!(error instanceof BcUdpError)) throw error;
    report.error = error;
  }
  return report;
}

/**
 * Reports every packet of a datagram in order. Reading continues after a broken packet when
 * its header gave its length; it stops at a packet whose extent is unknown. An empty
 * datagram gives one report with a `truncated_header` error.
 */
export function inspectDatagram(bytes: Uint8Array): PacketReport[] {
  const reports: PacketReport[] = [];
  let offset = 0;
  do {
    const report = inspectPacketAt(bytes, offset);
    reports.push(report);
    if (report.end === undefined) break;
    offset = report.end;
  } while (offset < bytes.length);
  return reports;
}

/** The body of the packet a report describes, when its extent is known. */
export function reportPayload(bytes: Uint8Array, report: PacketReport): Uint8Array | undefined {
  const header = report.header;
  if (header === undefined || report.end === undefined) return undefined;
  return bytes.subarray(report.offset + header.headerSize, report.end);
}

/** Header fields as JSON members (snake_case); an unusual byte-8 word is flagged. */
function headerJson(header: PacketHeader): Record<string, JsonValue> {
  switch (header.kind) {
    case "discovery":
    case "relay": {
      const out: Record<string, JsonValue> = {
        kind: header.kind,
        tid: header.tid,
        crc: header.crc,
      };
      const odd = unusualHeaderWord(header);
      if (odd !== undefined) {
        out.header_unknown = odd;
        out.warning = unusualHeaderNote(odd);
      }
      return out;
    }
    case "data":
      return {
        kind: header.kind,
        connection_id: header.connectionId,
        packet_id: header.packetId,
      };
    case "ack":
      return {
        kind: header.kind,
        connection_id: header.connectionId,
        group_id: header.groupId,
        packet_id: header.packetId,
        latency: header.latency,
      };
  }
}

/**
 * The JSON members of one packet report, as `decode --json` prints them and `pcap-replay
 * --json` repeats them for a packet that fails: header fields, `crc_ok`, the message
 * (`variant`, `fields`, `unknown`), the decrypted `xml`, a payload preview, then `place`
 * (where the packet was), then `error` ({reason, message, ...details}) when it failed.
 */
export function reportJson(
  bytes: Uint8Array,
  report: PacketReport,
  place: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = report.header
    ? headerJson(report.header)
    : report.kind
    ? { kind: report.kind }
    : {};
  if (report.crcOk !== undefined) out.crc_ok = report.crcOk;
  const packet = report.packet;
  if (packet?.kind === "discovery") {
    out.variant = packet.message.variant;
    out.fields = fieldsToJsonValue(packet.message);
    if (packet.message.unknown) {
      out.unknown = packet.message.unknown.map(({ name, xml }) => ({ name, xml }));
    }
  }
  if (report.xml !== undefined) out.xml = report.xml;
  const payload = reportPayload(bytes, report);
  if (report.header && report.header.kind !== "discovery" && payload) {
    out.payload_len = payload.length;
    out.payload_preview = toHex(payload.subarray(0, PREVIEW_BYTES));
  }
  Object.assign(out, place);
  if (report.error) {
    const { reason, message, details } = report.error;
    const error: Record<string, JsonValue> = { reason, message };
    for (const [key, value] of Object.entries(details)) if (value !== undefined) error[key] = value;
    out.error = error;
  }
  return out;
}
