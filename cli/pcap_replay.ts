/** `bairelay pcap-replay`: show the BcUdp traffic of a capture, or replay it against a server. */

import { Command, InvalidArgumentError, Option } from "commander";
import {
  type ByteInput,
  ByteWriter,
  CaptureFormatError,
  entryLine,
  replayCapture,
  ReplayError,
  type ReplayOptions,
  showCapture,
  summaryJson,
  summaryText,
  type TimelineEntry,
  verdictLine,
  writeEntryJson,
} from "../lib/pcap/mod.ts";
import { portArgument } from "./arguments.ts";
import { CliExit, EXIT } from "./exit_codes.ts";
import { unreadableInput } from "./input.ts";

/** A writer whose chunks go to stdout (results only; errors go to stderr). */
function stdoutWriter(): ByteWriter & { line(text: string): void } {
  const writer = new ByteWriter((bytes) => {
    let written = 0;
    try {
      while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
    } catch (error) {
      // The reader went away (`| head`): stop reading the capture, quietly.
      if (error instanceof Deno.errors.BrokenPipe) throw new CliExit(EXIT.OK, "");
      throw error;
    }
  });
  return Object.assign(writer, {
    line(text: string) {
      writer.text(text);
      writer.text("\n");
    },
  });
}

function collectPorts(value: string, previous: number[] = []): number[] {
  return [...previous, ...value.split(",").map((part) => portArgument(part.trim()))];
}

function collectNames(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(",").map((part) => part.trim()).filter(Boolean)];
}

function positive(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError("Expected a number above 0.");
  }
  return number;
}

async function openCapture(
  path: string,
): Promise<{ input: ByteInput; size?: number }> {
  if (path === "-") return { input: Deno.stdin.readable };
  try {
    const file = await Deno.open(path, { read: true });
    const info = await file.stat();
    if (info.isDirectory) {
      file.close();
      throw new CliExit(EXIT.USAGE, `cannot read ${path}: a directory, not a capture file`);
    }
    return { input: file, size: info.size };
  } catch (error) {
    if (error instanceof CliExit) throw error;
    throw unreadableInput(path, error, " (captures written by root may need sudo or a chmod)");
  }
}

/** A progress bar on stderr, drawn only when stderr is a terminal and the size is known. */
function progressBar(size: number | undefined): { update(bytes: number): void; done(): void } {
  if (!size || !Deno.stderr.isTerminal()) return { update() {}, done() {} };
  const encoder = new TextEncoder();
  let last = 0;
  const draw = (bytes: number) => {
    const share = Math.min(1, bytes / size);
    const filled = Math.round(share * 30);
    const bar = `\r[${"#".repeat(filled)}${" ".repeat(30 - filled)}] ${(share * 100).toFixed(0)}%`;
    Deno.stderr.writeSync(encoder.encode(bar));
  };
  return {
    update(bytes) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      draw(bytes);
    },
    done() {
      if (last !== 0) Deno.stderr.writeSync(encoder.encode("\r" + " ".repeat(40) + "\r"));
    },
  };
}

interface Options {
  uid?: string;
  variant?: string[];
  port?: number[];
  pushPort: number;
  json?: boolean;
  summary: boolean;
  target?: string;
  targetMiddlemanPort: number;
  targetRegisterPort: number;
  speed: number;
  timing: boolean;
  replyTimeout: number;
  bind?: string;
}

async function show(path: string, options: Options): Promise<void> {
  const { input, size } = await openCapture(path);
  const output = stdoutWriter();
  const progress = progressBar(size);
  const print = options.json
    ? (entry: TimelineEntry) => writeEntryJson(output, entry)
    : (entry: TimelineEntry) => output.line(entryLine(entry));
  try {
    const { summary } = await showCapture(input, {
      uid: options.uid,
      variants: options.variant,
      ports: options.port,
      pushPort: options.pushPort,
      onProgress: (bytes) => progress.update(bytes),
    }, print);
    progress.done();
    if (options.summary) {
      output.line(
        options.json ? summaryJson(summary) : summaryText(summary),
      );
    }
  } catch (error) {
    progress.done();
    output.flush();
    if (error instanceof CaptureFormatError) {
      throw new CliExit(EXIT.FAILURE, `${path}: ${error.message}`);
    }
    throw error;
  }
  output.flush();
}

async function replay(path: string, options: Options): Promise<void> {
  const { input } = await openCapture(path);
  const output = stdoutWriter();
  const replayOptions: ReplayOptions = {
    target: options.target!,
    middlemanPort: options.targetMiddlemanPort,
    registerPort: options.targetRegisterPort,
    speed: options.timing ? options.speed : undefined,
    replyTimeoutMs: options.replyTimeout,
    bind: options.bind,
    ports: options.port,
  };
  let report;
  try {
    report = await replayCapture(input, replayOptions, (verdict) => {
      output.line(options.json ? JSON.stringify(verdict) : verdictLine(verdict));
      output.flush();
    });
  } catch (error) {
    output.flush();
    if (error instanceof CaptureFormatError || error instanceof ReplayError) {
      throw new CliExit(EXIT.FAILURE, `${path}: ${error.message}`);
    }
    throw error;
  }
  const { exchanges, unsolicited, conforming, differing } = report;
  output.line(
    options.json
      ? JSON.stringify({ kind: "summary", exchanges, unsolicited, conforming, differing })
      : `Replay: ${exchanges + unsolicited} checks (${exchanges} exchanges, ${unsolicited} ` +
        `unsolicited groups): ${conforming} conform, ${differing} differ`,
  );
  output.flush();
  if (differing > 0) throw new CliExit(EXIT.FAILURE, "");
}

/** The `pcap-replay` subcommand. */
export function pcapReplayCommand(): Command {
  return new Command("pcap-replay")
    .summary("Show or replay the BcUdp traffic of a capture")
    .description(
      "Show the BcUdp traffic of a pcap/pcapng capture as a timeline with a summary, or replay its " +
        "camera and client side against a wake server (--target) and check the answers.",
    )
    .argument("<capture>", "A pcap or pcapng file (tcpdump -w, dumpcap, Wireshark), or - for stdin")
    .optionsGroup("Timeline options:")
    .option("--uid <uid>", "Show only packets of this camera UID (short or long form)")
    .option(
      "--variant <names>",
      "Show only these variants, comma-separated (e.g. R2D_C,D2R_C_R; also DATA, ACK, RELAY, " +
        "PUSH, ERROR)",
      collectNames,
    )
    .option(
      "--port <port>",
      "Treat this UDP port as BcUdp too and show only traffic on it (repeatable; 9999 and " +
        "58200 are always BcUdp, other ports are found by magic number)",
      collectPorts,
    )
    .addOption(
      new Option("--push-port <port>", "TCP port whose SYNs are push attempts").default(443)
        .argParser(portArgument),
    )
    .option(
      "--json",
      "Print one JSON object per line (decode --json members plus frame, time, timestamp, source, " +
        "destination)",
    )
    .option("--no-summary", "Leave out the summary at the end")
    .optionsGroup("Replay options:")
    .option("--target <host>", "Replay the capture against the wake server on HOST")
    .addOption(
      new Option("--target-middleman-port <port>", "Middleman port on the target").default(9999)
        .argParser(portArgument),
    )
    .addOption(
      new Option("--target-register-port <port>", "Register port on the target").default(58200)
        .argParser(portArgument),
    )
    .addOption(
      new Option("--speed <factor>", "Replay this many times faster than captured").default(1)
        .argParser(positive),
    )
    .option("--no-timing", "Send each request once the previous one is answered")
    .addOption(
      new Option("--reply-timeout <ms>", "How long to wait for each answer").default(1000)
        .argParser(positive),
    )
    .option(
      "--bind <address>",
      "Local address of the replay sockets (default: the captured source when it is a " +
        "loopback address, else 127.0.0.1 for a loopback target, else 0.0.0.0)",
    )
    .optionsGroup("Options:")
    .addHelpText(
      "after",
      `
Replay sends each captured camera/client request from its own socket (one per
captured source), maps destination 9999 to the middleman and 58200 to the
register port (other ports by the request's variant), feeds the target's own
token/ac/sid into later requests that echo them, and compares every answer with
the captured one: variant, fields present, echoed values (tid, cid, sid, ac),
session-random values (token, ac, sid, time_t) by type only and addresses by
presence.

Exit codes:
  0  timeline: the capture was read (damage is reported in it); replay: every
     check conforms
  1  timeline: the file is not a capture; replay: a check differs
  2  bad arguments, or a file that cannot be read

Examples:
  tcpdump -i any -w wake.pcap 'udp port 9999 or udp port 58200 or tcp dst port 443'
  bairelay pcap-replay wake.pcap                    # timeline and summary
  bairelay pcap-replay wake.pcap --uid 95270000ABCDEFGH --variant R2D_C,D2R_C_R
  bairelay pcap-replay wake.pcapng --json | jq .    # one object per packet
  bairelay pcap-replay wake.pcap --target 127.0.0.1 --speed 10`,
    )
    .action(async (path: string, options: Options) => {
      if (options.target !== undefined) await replay(path, options);
      else await show(path, options);
    });
}
