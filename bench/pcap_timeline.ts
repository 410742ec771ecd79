/**
 * Benchmark: `pcap-replay CAPTURE --json > /dev/null` on a capture of 1,000,000 BcUdp
 * packets written with the codec (200 cameras heartbeating with replies, and a wake now and
 * then). Prints packets/s and the peak resident memory of the CLI process.
 *
 *   scripts/deno run --allow-all bench/pcap_timeline.ts [--packets N] [--unique] [--runs N]
 *
 * `--unique` gives every heartbeat a distinct XML document (a new UID and token each time),
 * half the packets, and every wake a new sid: a capture of mostly unique documents, the hard
 * case for the timeline's document cache; real captures repeat documents a lot. Every packet
 * has a random tid either way. The CLI runs `--runs` times (default 3), one after the other,
 * with the V8 flags the compiled binary carries (the `compile` task's `--v8-flags`; none =
 * V8's defaults): resident memory varies from run to run with when V8 collects and grows its
 * heap. Target (issues 6 and 14): >= 250,000 packets/s with resident memory < 100 MB.
 */

import { encodeDiscoveryXml, message, writeMessage } from "../lib/bcudp/mod.ts";
import { concatBytes, LINKTYPE } from "../lib/pcap/mod.ts";
import {
  type Flow,
  ipPacket,
  linkFrame,
  pcapHeader,
  pcapRecord,
} from "../tests/support/pcap_builder.ts";
import { MEASURED_CHILD_ENV } from "./measure.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const CAMERAS = 200;
const SERVER = "10.0.0.1";

function argument(name: string): string | undefined {
  const at = Deno.args.indexOf(name);
  return at >= 0 ? Deno.args[at + 1] : undefined;
}

const packets = Number(argument("--packets") ?? 1_000_000);
const unique = Deno.args.includes("--unique");
const runs = Number(argument("--runs") ?? 3);

function cameraFlow(index: number, toServer: boolean): Flow {
  const camera = `10.0.${1 + (index >> 8)}.${index & 0xff}`;
  const port = 40000 + index;
  return toServer
    ? { source: camera, destination: SERVER, sourcePort: port, destinationPort: 58200 }
    : { source: SERVER, destination: camera, sourcePort: 58200, destinationPort: port };
}

function uidOf(index: number): string {
  return `95270000BENCH${String(index).padStart(3, "0")}0123`;
}

/** With `--unique`, a UID never seen before (a different 12-digit serial each time). */
let uniqueSerial = 0;
function uniqueUid(): string {
  return `9527${String(uniqueSerial++).padStart(12, "0")}0123`;
}

/** The XML documents of one round: a heartbeat and its reply per camera, sometimes a wake. */
function* traffic(): Generator<[Flow, string]> {
  let token = 1n;
  for (let second = 0;; second += 10) {
    for (let camera = 0; camera < CAMERAS; camera++) {
      const uid = unique ? uniqueUid() : uidOf(camera);
      const hbToken = unique ? token++ : BigInt(camera + 1);
      yield [
        cameraFlow(camera, true),
        writeMessage(message("D2R_HB", { uid, needrsp: 1, token: hbToken })),
      ];
      yield [
        cameraFlow(camera, false),
        writeMessage(
          message("R2D_HB_R", {
            rsp: 0,
            time_t: BigInt(1_700_000_000 + second + (camera % 10)),
            timer: { hb: 20000 },
          }),
        ),
      ];
    }
    const woken = (second / 10) % CAMERAS;
    const sid = unique ? 1000 + uniqueSerial : 1000 + second;
    for (let i = 0; i < 10; i++) {
      yield [
        cameraFlow(woken, false),
        writeMessage(message("R2D_C", {
          cli: { ip: "10.0.9.9", port: 5000 },
          cmap: { ip: "10.0.9.9", port: 5000 },
          relay: { ip: SERVER, port: 58200 },
          sid,
          cid: 77,
        })),
      ];
    }
    yield [
      cameraFlow(woken, true),
      writeMessage(message("D2R_C_R", { sid, rsp: 0 })),
    ];
  }
}

async function writeCapture(path: string): Promise<number> {
  const options = { linkType: LINKTYPE.ETHERNET };
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const chunks: Uint8Array[] = [pcapHeader(options)];
  let size = 0;
  let written = 0;
  let time = 1_700_000_000;
  for (const [flow, xml] of traffic()) {
    if (written === packets) break;
    const tid = (Math.random() * 0x100000000) >>> 0;
    const frame = linkFrame(LINKTYPE.ETHERNET, ipPacket(flow, "udp", encodeDiscoveryXml(xml, tid)));
    time += 0.00005;
    const record = pcapRecord(options, time, frame);
    chunks.push(record);
    size += record.length;
    written++;
    if (chunks.length >= 4096) {
      await file.write(concatBytes(chunks));
      chunks.length = 0;
    }
  }
  await file.write(concatBytes(chunks));
  file.close();
  return size;
}

/** Peak resident set (VmHWM) of a process in MB, read from /proc while it runs. */
async function peakRssMb(pid: number): Promise<number> {
  try {
    const status = await Deno.readTextFile(`/proc/${pid}/status`);
    const match = status.match(/VmHWM:\s+(\d+) kB/);
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** The `--v8-flags=...` of the `compile` task in deno.json (what the binary runs with), if any. */
async function compiledV8Flags(): Promise<string[]> {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  return (denoJson.tasks.compile as string).split(" ").filter((w) => w.startsWith("--v8-flags="));
}

const V8_FLAGS = await compiledV8Flags();

/** Runs the CLI on `path` once; returns its wall time and peak resident memory. */
async function timeline(path: string): Promise<{ seconds: number; peak: number }> {
  const started = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", ...V8_FLAGS, MAIN, "pcap-replay", path, "--json"],
    env: MEASURED_CHILD_ENV,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let peak = 0;
  const poll = setInterval(async () => {
    peak = Math.max(peak, await peakRssMb(child.pid));
  }, 5);
  const output = await child.output();
  clearInterval(poll);
  const seconds = (performance.now() - started) / 1000;
  if (output.code !== 0) throw new Error(new TextDecoder().decode(output.stderr));
  return { seconds, peak };
}

if (Deno.env.get("DENO_V8_FLAGS")) {
  console.error("DENO_V8_FLAGS is set: unset it, this benchmark uses the compile task's flags");
  Deno.exit(2);
}

const dir = await Deno.makeTempDir({ prefix: "bairelay-bench-pcap-" });
try {
  const path = `${dir}/bench.pcap`;
  const generated = performance.now();
  const bytes = await writeCapture(path);
  console.log(
    `capture: ${packets} packets, ${(bytes / 1e6).toFixed(0)} MB, written in ` +
      `${((performance.now() - generated) / 1000).toFixed(1)} s${
        unique ? " (unique documents)" : ""
      }`,
  );
  for (let run = 1; run <= runs; run++) {
    const { seconds, peak } = await timeline(path);
    const rate = Math.round(packets / seconds).toLocaleString("en");
    console.log(
      `run ${run}: pcap-replay --json > /dev/null (${V8_FLAGS.join(" ") || "V8 defaults"}): ` +
        `${seconds.toFixed(2)} s, ${rate} packets/s, peak RSS ${peak.toFixed(0)} MB`,
    );
  }
  console.log("target: >= 250,000 packets/s, peak RSS < 100 MB");
} finally {
  await Deno.remove(dir, { recursive: true });
}
