/**
 * Packet-by-packet inspection of a datagram for people (`bairelay decode`): every packet is
 * reported with whatever could be read, a bad CRC does not hide the message, and a broken
 * packet whose length is known does not stop the packets after it.
 */

import { BcUdpError } from "./errors.ts";
import {
  bodyCrc,
  crcMismatch,
  decodePacketAt,
  kindOfMagic,
  type Packet,
  packetEnd,
  type PacketHeader,
  readPacketHeader,
} from "./packet.ts";
import { decryptToString } from "./xor.ts";

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
