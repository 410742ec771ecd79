/**
 * Printing the timeline: one text line or one JSON object per entry (the JSON of a BcUdp
 * packet has the shape `decode --json` prints, plus frame, time, timestamp, source and
 * destination), and the summary as text or JSON.
 */

import {
  type DiscoveryPacket,
  hex32,
  type Packet,
  PREVIEW_BYTES,
  toHex,
  unusualHeaderNote,
} from "../bcudp/mod.ts";
import { type ByteWriter, writtenText } from "./byte_writer.ts";
import type { DecodedPacket } from "./datagram_decoder.ts";
import { writeDocumentJson } from "./document_json.ts";
import type { Summary } from "./summary.ts";
import type { TimelineEntry } from "./timeline_entry.ts";

/** Fields shown on a timeline line besides addresses (which are always shown). */
const KEY_FIELDS = new Set(["uid", "sid", "cid", "did", "rsp", "conn", "token", "ac", "needrsp"]);
function keyFields(fields: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === "object" && value !== null && "ip" in value && "port" in value) {
      parts.push(`${name}=${value.ip}:${value.port}`);
    } else if (KEY_FIELDS.has(name)) {
      parts.push(`${name}=${value}`);
    }
  }
  return parts.join(" ");
}

function packetText(packet: Packet, crcOk: boolean | undefined): [string, string] {
  const crc = (crcOk === false ? " CRC-MISMATCH" : "") + oddHeaderText(packet);
  switch (packet.kind) {
    case "discovery": {
      const fields = keyFields(packet.message.fields as Record<string, unknown>);
      return [
        packet.message.variant,
        `tid=${hex32(packet.tid)}${fields ? " " + fields : ""}${crc}`,
      ];
    }
    case "data":
      return [
        "DATA",
        `conn=${packet.connectionId} packet=${packet.packetId} len=${packet.payload.length}`,
      ];
    case "ack":
      return [
        "ACK",
        `conn=${packet.connectionId} group=${hex32(packet.groupId)} packet=${
          hex32(packet.packetId)
        } ` +
        `latency=${packet.latency} len=${packet.bitmap.length}`,
      ];
    case "relay":
      return ["RELAY", `tid=${hex32(packet.tid)} len=${packet.body.length}${crc}`];
  }
}

/** " (header field unknown (byte 8) is 2, usually 1)" for an unusual byte-8 word, else "". */
function oddHeaderText(packet: Packet): string {
  const odd = packet.kind === "discovery" || packet.kind === "relay"
    ? packet.headerUnknown
    : undefined;
  return odd === undefined ? "" : ` (${unusualHeaderNote(odd)})`;
}

/** `"header_unknown":N,"warning":"..."` members (with a leading comma), as `decode --json`. */
function oddHeaderJson(odd: number | undefined): string {
  return odd === undefined
    ? ""
    : `,"header_unknown":${odd},"warning":${JSON.stringify(unusualHeaderNote(odd))}`;
}

/** One human-readable timeline line (no trailing newline). */
export function entryLine(entry: TimelineEntry): string {
  if (entry.kind === "capture_error") return `!  ${entry.issue.message}`;
  const time = entry.time.toFixed(6).padStart(12);
  const route = `${entry.source} -> ${entry.destination}`;
  const vlan = entry.vlans ? ` vlan=${entry.vlans.join(".")}` : "";
  switch (entry.kind) {
    case "bcudp": {
      const [name, details] = packetText(entry.decoded.packet, entry.decoded.crcOk);
      return `${time}  ${route}  ${name.padEnd(8)} ${details}${vlan}`;
    }
    case "decode_error":
      return `${time}  ${route}  ${
        "ERROR".padEnd(8)
      } ${entry.error.reason}: ${entry.error.message} ` +
        `(packet at byte ${entry.errorOffset} of ${entry.length})${vlan}`;
    case "push_attempt":
      return `${time}  ${route}  ${"PUSH".padEnd(8)} push attempt (TCP SYN)${vlan}`;
  }
}

const utf8 = new TextEncoder();
let isoSecond = -1;
let isoPrefix = utf8.encode("1970-01-01T00:00:00.");

/** Writes an RFC 3339 UTC time with nanoseconds, e.g. 2026-11-24T01:02:03.123456789Z. */
function writeTimestamp(writer: ByteWriter, seconds: number, nanos: number): void {
  if (seconds !== isoSecond) {
    isoSecond = seconds;
    isoPrefix = utf8.encode(new Date(seconds * 1000).toISOString().slice(0, 20));
  }
  writer.bytes(isoPrefix);
  writer.padded(nanos, 9);
  writer.text("Z");
}

/** Writes seconds with 9 decimals (integer arithmetic: no float-to-string). */
function writeSeconds(writer: ByteWriter, seconds: number): void {
  let nanos = Math.round(seconds * 1e9);
  if (nanos < 0) {
    writer.text("-");
    nanos = -nanos;
  }
  const whole = Math.floor(nanos / 1e9);
  writer.int(whole);
  writer.text(".");
  writer.padded(nanos - whole * 1e9, 9);
}

/** The members of a non-Discovery packet (decode --json shape). */
function otherPacketJson(packet: Exclude<Packet, DiscoveryPacket>, crcOk?: boolean): string {
  switch (packet.kind) {
    case "data":
      return `"kind":"data","connection_id":${packet.connectionId},"packet_id":${packet.packetId},` +
        `"payload_len":${packet.payload.length},"payload_preview":"${
          toHex(packet.payload.subarray(0, PREVIEW_BYTES))
        }"`;
    case "ack":
      return `"kind":"ack","connection_id":${packet.connectionId},"group_id":${packet.groupId},` +
        `"packet_id":${packet.packetId},"latency":${packet.latency},"payload_len":${packet.bitmap.length},` +
        `"payload_preview":"${toHex(packet.bitmap.subarray(0, PREVIEW_BYTES))}"`;
    case "relay":
      return `"kind":"relay","tid":${packet.tid},"crc":${packet.crc}${
        oddHeaderJson(packet.headerUnknown)
      },"crc_ok":${crcOk},` +
        `"payload_len":${packet.body.length},"payload_preview":"${
          toHex(packet.body.subarray(0, PREVIEW_BYTES))
        }"`;
  }
}

const TEXT = {
  frame: utf8.encode('{"frame":'),
  time: utf8.encode(',"time":'),
  timestamp: utf8.encode(',"timestamp":"'),
  source: utf8.encode('","source":"'),
  destination: utf8.encode('","destination":"'),
  endpointsEnd: utf8.encode('",'),
  discovery: utf8.encode('"kind":"discovery","tid":'),
  crc: utf8.encode(',"crc":'),
  crcOk: utf8.encode(',"crc_ok":true'),
  crcBad: utf8.encode(',"crc_ok":false'),
  end: utf8.encode("}\n"),
};

function writeDiscovery(writer: ByteWriter, packet: DiscoveryPacket, decoded: DecodedPacket): void {
  writer.bytes(TEXT.discovery);
  writer.int(packet.tid);
  writer.bytes(TEXT.crc);
  writer.int(packet.crc);
  if (packet.headerUnknown !== undefined) writer.text(oddHeaderJson(packet.headerUnknown));
  writer.bytes(decoded.crcOk ? TEXT.crcOk : TEXT.crcBad);
  if (decoded.documentJson) writer.bytes(decoded.documentJson);
  else writeDocumentJson(writer, packet.message, packet.xml);
}

/**
 * Writes one entry as a JSON object and a newline: a BcUdp packet has the members
 * `decode --json` prints plus frame, time (seconds since the first frame), timestamp,
 * source and destination (and vlans when tagged).
 */
export function writeEntryJson(writer: ByteWriter, entry: TimelineEntry): void {
  if (entry.kind === "capture_error") {
    const { reason, offset, frame, message } = entry.issue;
    writer.text(JSON.stringify({ kind: "capture_error", reason, offset, frame, message }));
    writer.text("\n");
    return;
  }
  writer.bytes(TEXT.frame);
  writer.int(entry.frame);
  writer.bytes(TEXT.time);
  writeSeconds(writer, entry.time);
  writer.bytes(TEXT.timestamp);
  writeTimestamp(writer, entry.seconds, entry.nanos);
  writer.bytes(TEXT.source);
  writer.text(entry.source);
  writer.bytes(TEXT.destination);
  writer.text(entry.destination);
  if (entry.vlans) writer.text(`","vlans":[${entry.vlans.join(",")}],`);
  else writer.bytes(TEXT.endpointsEnd);
  switch (entry.kind) {
    case "bcudp": {
      const packet = entry.decoded.packet;
      if (packet.kind === "discovery") writeDiscovery(writer, packet, entry.decoded);
      else writer.text(otherPacketJson(packet, entry.decoded.crcOk));
      break;
    }
    case "decode_error": {
      // The members `decode --json` prints for the same packet (tid, crc, xml, error, ...).
      const members = JSON.stringify(entry.packet);
      writer.text(members.slice(1, -1));
      break;
    }
    case "push_attempt":
      writer.text('"kind":"push_attempt"');
      break;
  }
  writer.bytes(TEXT.end);
}

/** One entry as a JSON object (a single line, no newline); see `writeEntryJson`. */
export function entryJson(entry: TimelineEntry): string {
  return writtenText((writer) => writeEntryJson(writer, entry)).slice(0, -1);
}

function seconds(value: number): string {
  return value < 1 ? `${(value * 1000).toFixed(1)} ms` : `${value.toFixed(2)} s`;
}

function counts(record: Record<string, number>): string {
  return Object.entries(record).map(([name, count]) => `${name} ${count}`).join(", ");
}

/** The summary as indented text lines. */
export function summaryText(summary: Summary): string {
  const lines = [
    `Summary: ${summary.frames} frames, ${summary.packets} BcUdp packets`,
    `  packets per variant: ${counts(summary.variants) || "none"}`,
    `  cameras: ${summary.cameras.length + summary.camerasNotDetailed}`,
  ];
  for (const camera of summary.cameras) {
    const interval = camera.heartbeatInterval;
    const beat = interval
      ? `, every ${seconds(interval.mean)} (min ${seconds(interval.min)}, max ${
        seconds(interval.max)
      })`
      : "";
    lines.push(
      `    ${camera.uid}  from ${
        camera.addresses.join(", ")
      }  heartbeats ${camera.heartbeats}${beat}`,
    );
  }
  lines.push(`  wakes: ${summary.wakes.length + summary.wakesNotDetailed}`);
  for (const wake of summary.wakes) {
    const who = `${wake.uid ?? "(no C2R_C)"}${wake.client ? ` from ${wake.client}` : ""}`;
    const ids = `cid ${wake.cid}${wake.sid !== undefined ? `, sid ${wake.sid}` : ""}`;
    const first = wake.firstR2dCDelay === undefined
      ? "no R2D_C"
      : `first R2D_C after ${seconds(wake.firstR2dCDelay)} (${wake.r2dC} sent to ${wake.camera})`;
    const confirm = wake.confirmDelay === undefined
      ? "no D2R_C_R"
      : `D2R_C_R ${seconds(wake.confirmDelay)} later`;
    lines.push(`    ${who} (${ids}): ${first}, ${confirm}`);
  }
  const push = summary.pushAttempts;
  lines.push(`  push attempts: ${push.total}${push.total ? ` (${counts(push.bySource)})` : ""}`);
  lines.push(`  decode errors: ${counts(summary.decodeErrors) || "none"}`);
  lines.push(`  capture problems: ${counts(summary.captureErrors) || "none"}`);
  return lines.join("\n");
}

/** The summary as one JSON line (`{"kind":"summary",...}`, snake_case like the rest). */
export function summaryJson(summary: Summary): string {
  return JSON.stringify({
    kind: "summary",
    frames: summary.frames,
    packets: summary.packets,
    variants: summary.variants,
    cameras: summary.cameras.map((camera) => ({
      uid: camera.uid,
      addresses: camera.addresses,
      first_seen: camera.firstSeen,
      last_seen: camera.lastSeen,
      heartbeats: camera.heartbeats,
      heartbeat_interval: camera.heartbeatInterval,
    })),
    cameras_not_detailed: summary.camerasNotDetailed,
    wakes: summary.wakes.map((wake) => ({
      uid: wake.uid,
      client: wake.client,
      camera: wake.camera,
      cid: wake.cid,
      sid: wake.sid,
      time: wake.time,
      r2d_c: wake.r2dC,
      first_r2d_c_delay: wake.firstR2dCDelay,
      confirm_delay: wake.confirmDelay,
    })),
    wakes_not_detailed: summary.wakesNotDetailed,
    push_attempts: { total: summary.pushAttempts.total, by_source: summary.pushAttempts.bySource },
    decode_errors: summary.decodeErrors,
    capture_errors: summary.captureErrors,
  });
}
