/** `bairelay encode`: build BcUdp Discovery packets from XML or from `decode --json` output. */

import { Command, InvalidArgumentError } from "commander";
import {
  BcUdpError,
  encodeDiscovery,
  encodeDiscoveryXml,
  messageFromJson,
  parseMessage,
  toHex,
} from "../lib/bcudp/mod.ts";
import { CliExit, EXIT } from "./exit_codes.ts";
import { readInput } from "./input.ts";

/** Parses `--tid`: decimal or 0x-hex, 0..0xffffffff. */
export function parseTid(text: string): number {
  const value = /^0x[0-9a-f]{1,8}$/i.test(text)
    ? parseInt(text.slice(2), 16)
    : /^[0-9]{1,10}$/.test(text)
    ? Number(text)
    : NaN;
  if (!(value >= 0 && value <= 0xffffffff)) {
    throw new InvalidArgumentError("Expected a u32, decimal or 0x-hex (0 to 0xffffffff).");
  }
  return value;
}

function randomTid(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

interface EncodeOptions {
  file?: string;
  tid?: number;
  out?: string;
  validate: boolean;
}

/** One JSON input object (as `decode --json` prints it) and where it was. */
interface JsonPacket {
  value: unknown;
  where: string;
}

/** The JSON objects of the input: one document (object or array) or JSON lines. */
function jsonPackets(text: string): JsonPacket[] {
  try {
    const whole = JSON.parse(text);
    const list = Array.isArray(whole) ? whole : [whole];
    return list.map((value, i) => ({ value, where: list.length > 1 ? `item ${i + 1}` : "input" }));
  } catch {
    // not one document: JSON lines
  }
  const packets: JsonPacket[] = [];
  text.split("\n").forEach((line, n) => {
    if (line.trim() === "") return;
    try {
      packets.push({ value: JSON.parse(line), where: `line ${n + 1}` });
    } catch (error) {
      throw new CliExit(EXIT.FAILURE, `line ${n + 1}: invalid JSON: ${(error as Error).message}`);
    }
  });
  return packets;
}

function encodeJson({ value, where }: JsonPacket, options: EncodeOptions): Uint8Array {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CliExit(EXIT.FAILURE, `${where}: expected a JSON object like decode --json prints`);
  }
  const json = value as Record<string, unknown>;
  if (json.error !== undefined) {
    throw new CliExit(EXIT.FAILURE, `${where}: this is a decode error, not a packet`);
  }
  if (json.kind !== undefined && json.kind !== "discovery") {
    throw new CliExit(
      EXIT.FAILURE,
      `${where}: only Discovery packets can be encoded, this is a ${String(json.kind)} packet`,
    );
  }
  let tid = options.tid;
  if (tid === undefined && json.tid !== undefined) {
    if (typeof json.tid !== "number" || !Number.isInteger(json.tid)) {
      throw new CliExit(EXIT.FAILURE, `${where}: tid must be an integer`);
    }
    tid = json.tid;
  }
  tid ??= randomTid();
  const verbatim = !options.validate && typeof json.xml === "string";
  if (!verbatim && Array.isArray(json.unknown) && json.unknown.length > 0) {
    throw new CliExit(
      EXIT.FAILURE,
      `${where}: the packet had elements the schema lacks, which fields cannot carry ` +
        "(--no-validate re-sends its xml as it is)",
    );
  }
  try {
    if (verbatim) return encodeDiscoveryXml(json.xml as string, tid);
    const message = messageFromJson(json as { variant: string; fields: unknown });
    return encodeDiscovery(message, tid);
  } catch (error) {
    if (error instanceof BcUdpError) throw new CliExit(EXIT.FAILURE, `${where}: ${error.message}`);
    throw error;
  }
}

function encodeXml(xml: string, options: EncodeOptions): Uint8Array {
  const tid = options.tid ?? randomTid();
  try {
    if (!options.validate) return encodeDiscoveryXml(xml, tid);
    return encodeDiscovery(parseMessage(xml, { strict: true }), tid);
  } catch (error) {
    if (error instanceof BcUdpError) {
      const hint = options.validate ? " (--no-validate sends the XML as it is)" : "";
      throw new CliExit(EXIT.FAILURE, `cannot encode: ${error.message}${hint}`);
    }
    throw error;
  }
}

/** Encodes the input text (XML or JSON) into one packet per message. */
export function encodeText(text: string, options: EncodeOptions): Uint8Array[] {
  const first = text.trimStart()[0];
  if (first === "<") return [encodeXml(text, options)];
  if (first === "{" || first === "[") {
    return jsonPackets(text).map((packet) => encodeJson(packet, options));
  }
  throw new CliExit(
    EXIT.FAILURE,
    "the input is neither XML (<P2P>...</P2P>) nor JSON (as decode --json prints)",
  );
}

/** The `encode` subcommand. */
export function encodeCommand(): Command {
  return new Command("encode")
    .summary("Encode Discovery packets from XML or JSON")
    .description(
      "Encode a Discovery packet from XML (<P2P><VARIANT>...</VARIANT></P2P>) or from the " +
        "JSON that `decode --json` prints (one object per line; its tid is reused unless " +
        "--tid is given).\n\n" +
        "The message is checked against its variant's schema and written in the exact shape " +
        "peers expect (schema order, no whitespace). Prints the packet as hex, one line per " +
        "packet, or writes raw bytes with --out.",
    )
    .argument("[input...]", "The XML or JSON, or - to read stdin")
    .option("-f, --file <path>", "Read the XML or JSON from a file")
    .option("--tid <n>", "Transaction id, decimal or 0x-hex (default: random)", parseTid)
    .option("-o, --out <file>", "Write the raw bytes to FILE (several packets back to back)")
    .option(
      "--no-validate",
      "Encode XML as it is, without the schema check (JSON: encode its xml member)",
    )
    .addHelpText(
      "after",
      `
Exit codes:
  0  every packet encoded
  1  the input cannot be encoded, or --out cannot be written
  2  a bad --tid, no input, or a file that cannot be read

Examples:
  bairelay encode --tid 7 '<P2P><R2D_R_R><rsp>-4</rsp><ac>2</ac></R2D_R_R></P2P>'
  bairelay decode --json --file fixtures/captured/cloud_r2d_c.bin | bairelay encode -`,
    )
    .action(async (words: string[], options: EncodeOptions) => {
      const input = await readInput(words, options.file);
      const text = new TextDecoder().decode(input.bytes);
      const packets = encodeText(text, options);
      if (options.out === undefined) {
        console.log(packets.map(toHex).join("\n"));
        return;
      }
      const bytes = new Uint8Array(packets.reduce((sum, p) => sum + p.length, 0));
      let at = 0;
      for (const packet of packets) {
        bytes.set(packet, at);
        at += packet.length;
      }
      try {
        await Deno.writeFile(options.out, bytes);
      } catch (error) {
        throw new CliExit(EXIT.FAILURE, `cannot write ${options.out}: ${(error as Error).message}`);
      }
    });
}
