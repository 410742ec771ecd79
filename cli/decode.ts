/** `bairelay decode`: show the BcUdp packets in hex text, a raw file or stdin. */

import { Command } from "commander";
import {
  fieldsToJsonValue,
  hex32,
  inspectDatagram,
  type JsonValue,
  type PacketHeader,
  type PacketReport,
  PREVIEW_BYTES,
  reportJson,
  reportPayload,
  toHex,
  unusualHeaderNote,
  unusualHeaderWord,
} from "../lib/bcudp/mod.ts";
import { CliExit, EXIT } from "./exit_codes.ts";
import { isText, parseHexLines, readInput } from "./input.ts";

const KIND_NAMES = { discovery: "Discovery", data: "Data", ack: "Ack", relay: "Relay" } as const;

interface Style {
  bold(text: string): string;
  good(text: string): string;
  bad(text: string): string;
  dim(text: string): string;
}

const PLAIN: Style = { bold: (t) => t, good: (t) => t, bad: (t) => t, dim: (t) => t };
const COLOURED: Style = {
  bold: (t) => `\x1b[1m${t}\x1b[22m`,
  good: (t) => `\x1b[32m${t}\x1b[39m`,
  bad: (t) => `\x1b[31m${t}\x1b[39m`,
  dim: (t) => `\x1b[2m${t}\x1b[22m`,
};

/** The `--json` object of one packet report (u64 values as strings of digits). */
export function reportToJson(
  bytes: Uint8Array,
  report: PacketReport,
  datagram: number,
): Record<string, unknown> {
  return reportJson(bytes, report, { datagram, offset: report.offset });
}

function formatValue(value: JsonValue): string {
  if (typeof value === "string") {
    return value === "" || /\s/.test(value) ? JSON.stringify(value) : value;
  }
  return String(value);
}

function formatFields(fields: Record<string, JsonValue>, indent: string): string[] {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value !== "object") lines.push(`${indent}${name}: ${formatValue(value)}`);
    else if (Object.keys(value).join() === "ip,port") {
      lines.push(`${indent}${name}: ${value.ip}:${value.port}`);
    } else {
      lines.push(`${indent}${name}:`, ...formatFields(value, indent + "  "));
    }
  }
  return lines;
}

function headerLine(header: PacketHeader, report: PacketReport, style: Style): string {
  const parts = [style.bold(KIND_NAMES[header.kind])];
  switch (header.kind) {
    case "discovery":
    case "relay": {
      parts.push(`tid ${hex32(header.tid)} (${header.tid})`);
      const ok = report.crcOk ? style.good("ok") : style.bad("BAD");
      parts.push(`crc ${hex32(header.crc)} ${report.crcOk === undefined ? "" : ok}`.trim());
      parts.push(`${header.payloadSize} B body`);
      const odd = unusualHeaderWord(header);
      if (odd !== undefined) parts.push(style.bad(unusualHeaderNote(odd)));
      break;
    }
    case "data":
      parts.push(`connection_id ${header.connectionId}`, `packet_id ${header.packetId}`);
      parts.push(`${header.payloadSize} B payload`);
      break;
    case "ack":
      parts.push(`connection_id ${header.connectionId}`, `group_id ${header.groupId}`);
      parts.push(`packet_id ${header.packetId}`, `latency ${header.latency}`);
      parts.push(`${header.payloadSize} B bitmap`);
      break;
  }
  return parts.join(" · ");
}

/** The readable lines of one packet report. */
export function reportToText(
  bytes: Uint8Array,
  report: PacketReport,
  label: string,
  options: { xml: boolean; style: Style },
): string[] {
  const { style } = options;
  const head = `${label} at byte ${report.offset}`;
  const lines = [
    report.header
      ? `${head}: ${headerLine(report.header, report, style)}`
      : report.kind
      ? `${head}: ${style.bold(KIND_NAMES[report.kind])} (header unreadable)`
      : `${head}:`,
  ];
  const packet = report.packet;
  if (packet?.kind === "discovery") {
    lines.push(`  ${style.bold(packet.message.variant)}`);
    lines.push(...formatFields(fieldsToJsonValue(packet.message), "    "));
    for (const unknown of packet.message.unknown ?? []) {
      lines.push(style.dim(`    (not in the schema) ${unknown.name}: ${unknown.xml}`));
    }
  }
  const payload = reportPayload(bytes, report);
  if (report.header && report.header.kind !== "discovery" && payload) {
    const more = payload.length > PREVIEW_BYTES ? ` … (${payload.length} bytes)` : "";
    const what = report.header.kind === "ack" ? "bitmap" : "payload";
    lines.push(`  ${what}: ${toHex(payload.subarray(0, PREVIEW_BYTES)) || "(empty)"}${more}`);
  }
  if (report.error) lines.push(`  ${style.bad("error")}: ${report.error.message}`);
  if (options.xml && report.xml !== undefined) {
    lines.push("  xml:", ...report.xml.replace(/\n$/, "").split("\n").map((l) => "    " + l));
  }
  return lines;
}

/** Splits the input into datagrams: hex text one per line, or one raw datagram. */
function datagramsOf(bytes: Uint8Array): Uint8Array[] {
  if (!isText(bytes)) return [bytes];
  const datagrams = parseHexLines(new TextDecoder().decode(bytes));
  if (datagrams.length === 0) throw new CliExit(EXIT.USAGE, "empty input: no hex digits found");
  return datagrams;
}

/** The `decode` subcommand. */
export function decodeCommand(): Command {
  return new Command("decode")
    .summary("Decode BcUdp packets (hex, file or stdin)")
    .description(
      "Decode BcUdp packets and show their kind, header, CRC and (Discovery) XML fields.\n\n" +
        "Input: hex as arguments (spaces and colons allowed), --file PATH (raw bytes, or hex " +
        "text with one datagram per line) or - for stdin (raw or hex).",
    )
    .argument("[hex...]", "The datagram in hex, or - to read stdin")
    .option("-f, --file <path>", "Read the input from a file (raw bytes or hex text)")
    .option("--json", "Print one JSON object per packet per line (u64 values as strings)")
    .option("--xml", "Also print the decrypted XML of Discovery packets")
    .addHelpText(
      "after",
      `
Exit codes:
  0  every packet decoded
  1  a packet failed to decode or has a bad CRC (the other packets are still
     shown), or the hex text is malformed
  2  no input, or a file that cannot be read

Examples:
  bairelay decode --file fixtures/captured/cloud_r2d_c.bin
  bairelay decode --json 20cf872a 50000000 00000000 00000000 87090000 00000000 00000000
  xxd -p -c 0 packet.bin | bairelay decode --xml -`,
    )
    .action(async (words: string[], options: { file?: string; json?: boolean; xml?: boolean }) => {
      const input = await readInput(words, options.file);
      const datagrams = datagramsOf(input.bytes);
      const style = Deno.stdout.isTerminal() && !Deno.noColor ? COLOURED : PLAIN;
      let failed = 0;
      const out: string[] = [];
      datagrams.forEach((bytes, d) => {
        inspectDatagram(bytes).forEach((report, p) => {
          if (report.error) failed++;
          if (options.json) out.push(JSON.stringify(reportToJson(bytes, report, d + 1)));
          else {
            const label = datagrams.length > 1
              ? `datagram ${d + 1} packet ${p + 1}`
              : `packet ${p + 1}`;
            out.push(...reportToText(bytes, report, label, { xml: !!options.xml, style }));
          }
        });
      });
      console.log(out.join("\n"));
      if (failed > 0) {
        throw new CliExit(
          EXIT.FAILURE,
          `${failed} packet${failed > 1 ? "s" : ""} failed to decode`,
        );
      }
    });
}
