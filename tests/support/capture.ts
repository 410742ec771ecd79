/**
 * Runs real capture tools (tcpdump, dumpcap or tshark) on loopback for a test: each starts
 * with a capture filter on the test's own ports; it is ready once it said it is listening
 * AND a probe datagram (to a port of our own, also in the filter) has reached its file -
 * dumpcap announces itself before its filter is attached. SIGINT stops the tools so the
 * files are complete. Every wait is bounded.
 */

import dgram from "node:dgram";
import { programPath } from "./programs.ts";

/** Which tool writes which file. */
export interface CaptureSpec {
  tool: "tcpdump" | "dumpcap" | "tshark";
  /** `lo` (no link header for loopback) or `any` (Linux cooked capture). */
  device: "lo" | "any";
  format: "pcap" | "pcapng";
  /** For `-i any`: cooked v1 or v2 (`-y LINUX_SLL` / `-y LINUX_SLL2`). */
  linkType?: "LINUX_SLL" | "LINUX_SLL2";
  /** tcpdump only: nanosecond timestamps. */
  nano?: boolean;
}

/** A capture tool running in the background. */
export interface RunningCapture {
  readonly path: string;
  readonly spec: CaptureSpec;
  /** Stops the tool (SIGINT, then SIGKILL after a bound) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Why live capture on loopback cannot run here, or undefined when it can: an ordinary user
 * may not capture (tcpdump and dumpcap need CAP_NET_RAW), and the tools may be missing. Asked
 * once, by capturing for at most a second.
 */
export const CAPTURE_SKIP_REASON: string | undefined = (() => {
  try {
    const tcpdump = programPath("tcpdump");
    const output = new Deno.Command("timeout", {
      args: ["1", tcpdump, "-i", "lo", "-n", "-c", "1", "-w", "/dev/null", "udp port 9"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).outputSync();
    const said = new TextDecoder().decode(output.stderr);
    if (/permission|not permitted/i.test(said)) {
      return "live capture on lo is not permitted for this user (run the suite as root, or " +
        "give tcpdump and dumpcap CAP_NET_RAW)";
    }
    if (/not found|No such file/i.test(said)) return "tcpdump is not installed";
    return undefined;
  } catch {
    return "cannot run timeout/tcpdump to check capture permission";
  }
})();

/**
 * `Deno.test` for a test that captures live: ignored, with the reason in its name, where
 * capture cannot run (see CAPTURE_SKIP_REASON).
 */
export function captureTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({
    name: CAPTURE_SKIP_REASON ? `${name} (SKIPPED: ${CAPTURE_SKIP_REASON})` : name,
    ignore: CAPTURE_SKIP_REASON !== undefined,
    fn,
  });
}

/** How long a tool may take to start listening or to stop. */
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 5000;
/** After the last packet: give the kernel buffer a moment to reach the tool. */
const SETTLE_MS = 300;

function toolArguments(spec: CaptureSpec, filter: string, path: string): string[] {
  const link = spec.linkType ? ["-y", spec.linkType] : [];
  if (spec.tool === "tcpdump") {
    if (spec.format !== "pcap") throw new Error("tcpdump writes pcap only");
    const precision = spec.nano ? ["--time-stamp-precision=nano"] : [];
    return ["-i", spec.device, "-U", "-n", ...precision, ...link, "-w", path, filter];
  }
  const format = spec.format === "pcap" ? (spec.tool === "dumpcap" ? ["-P"] : ["-F", "pcap"]) : [
    ...(spec.tool === "tshark" ? ["-F", "pcapng"] : []),
  ];
  return ["-i", spec.device, ...link, "-f", filter, ...format, "-w", path, "-q"];
}

/** Starts `spec.tool` writing to `path` with BPF `filter`; resolves once it is listening. */
export async function startCapture(
  spec: CaptureSpec,
  filter: string,
  path: string,
): Promise<RunningCapture> {
  const child = new Deno.Command(programPath(spec.tool), {
    args: toolArguments(spec, filter, path),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const decoder = new TextDecoder();
  let ready: () => void = () => {};
  const listening = new Promise<void>((resolve) => ready = resolve);
  const reading = (async () => {
    for await (const chunk of child.stderr) {
      stderr += decoder.decode(chunk, { stream: true });
      if (/listening on|Capturing on/i.test(stderr)) ready();
    }
  })();
  const status = child.status;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    listening.then(() => "ready" as const),
    status.then(() => "exited" as const),
    new Promise<"timeout">((resolve) =>
      timer = setTimeout(() => resolve("timeout"), START_TIMEOUT_MS)
    ),
  ]);
  clearTimeout(timer);
  const stop = async () => {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    try {
      child.kill("SIGINT");
    } catch { /* already gone */ }
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      status,
      new Promise<void>((resolve) =>
        killTimer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
          resolve();
        }, STOP_TIMEOUT_MS)
      ),
    ]);
    clearTimeout(killTimer);
    await status;
    await reading;
  };
  if (outcome !== "ready") {
    await stop();
    throw new Error(`${spec.tool} did not start capturing (${outcome}): ${stderr.trim()}`);
  }
  return { path, spec, stop };
}

/** How often the probe is sent while waiting for the tools. */
const PROBE_EVERY_MS = 50;

async function fileSize(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return 0;
  }
}

/** Several capture tools started together on the same traffic. */
export interface CaptureGroup {
  captures: RunningCapture[];
  stop(): Promise<void>;
}

/**
 * Starts every capture of `entries` with BPF `filter` (plus a probe port of its own) and
 * resolves once every file holds a probe datagram, so no later packet is missed.
 */
export async function startCaptures(
  entries: { spec: CaptureSpec; path: string }[],
  filter: string,
): Promise<CaptureGroup> {
  const probe = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => probe.bind({ address: "127.0.0.1", port: 0 }, resolve));
  const probePort = probe.address().port;
  const captures: RunningCapture[] = [];
  /**
   * Sends probes until every file has grown: a tool writes packets in order, so a probe
   * in its file means everything sent before the probe is in it too.
   */
  const probeThrough = async () => {
    const sizes = await Promise.all(captures.map((capture) => fileSize(capture.path)));
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (true) {
      await new Promise<void>((resolve) =>
        probe.send("probe", probePort, "127.0.0.1", () => resolve())
      );
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
      const now = await Promise.all(captures.map((capture) => fileSize(capture.path)));
      const waiting = captures.filter((_, i) => now[i] <= sizes[i]);
      if (waiting.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`no probe reached ${waiting.map((c) => c.path).join(", ")}`);
      }
    }
  };
  const closeAll = async () => {
    for (const capture of captures) await capture.stop();
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  };
  try {
    for (const { spec, path } of entries) {
      captures.push(await startCapture(spec, `(${filter}) or (udp port ${probePort})`, path));
    }
    await probeThrough();
  } catch (error) {
    await closeAll();
    throw error;
  }
  const stop = async () => {
    try {
      await probeThrough();
    } finally {
      await closeAll();
    }
  };
  return { captures, stop };
}

/** A BPF filter for UDP on `udpPorts` plus TCP SYNs to `tcpPort`. */
export function portFilter(udpPorts: number[], tcpPort?: number): string {
  const udp = `(udp and (${udpPorts.map((port) => `port ${port}`).join(" or ")}))`;
  return tcpPort === undefined ? udp : `${udp} or (tcp dst port ${tcpPort})`;
}
