/** Shared pieces of the `serve` benchmarks: child processes, packets, statistics. */

import { encodeDiscovery, message } from "../lib/bcudp/mod.ts";
import { bundleApp } from "../scripts/release_app.ts";
import { bundledRunFlags, taskFlags } from "../scripts/task_flags.ts";
import { MEASURED_CHILD_ENV } from "./measure.ts";

/** An IP address and UDP port. */
export interface Endpoint {
  ip: string;
  port: number;
}

const PROCS = new URL("./serve_procs.ts", import.meta.url).pathname;

/**
 * `--v8-flags=...` for the child processes: those of the `serve` task in deno.json (the V8
 * settings the server runs with), or SERVE_BENCH_V8_FLAGS when set (comma-separated; empty
 * for V8's defaults), to compare.
 */
export function v8Flags(): string[] {
  const override = Deno.env.get("SERVE_BENCH_V8_FLAGS");
  if (override !== undefined) return override === "" ? [] : [`--v8-flags=${override}`];
  const denoJson = JSON.parse(
    Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
  );
  return (denoJson.tasks.serve as string).split(" ").filter((w) => w.startsWith("--v8-flags="));
}

/** What runs `serve` in a benchmark: `deno run FLAGS MAIN serve ...`. */
export interface ServeEntry {
  flags: string[];
  main: string;
  /** "release bundle" or "sources", for the report. */
  what: string;
  /** Removes what was built for it. */
  remove(): Promise<void>;
}

/**
 * `serve` the way it is shipped: the application bundled as scripts/release bundles it (in a
 * temporary directory), run with the serve task's flags and without deno.json, as the release's
 * launcher runs it; with `--source` on the command line, main.ts with the serve task's flags (as
 * `scripts/deno task serve` runs it from a checkout). The V8 flags are `v8Flags()`. Started once
 * beforehand (`serve --check-config`), so that what is measured is a service's every start after
 * its first: Deno's analysis of the code is cached (the systemd unit's CacheDirectory).
 */
export async function shippedServe(): Promise<ServeEntry> {
  const denoJson = Deno.readTextFileSync(new URL("../deno.json", import.meta.url));
  const withV8Flags = (flags: string[]) => [
    ...flags.filter((flag) => !flag.startsWith("--v8-flags=")),
    ...v8Flags(),
  ];
  const root = new URL("..", import.meta.url).pathname;
  if (Deno.args.includes("--source")) {
    return {
      flags: withV8Flags(taskFlags(denoJson, "serve")),
      main: `${root}main.ts`,
      what: "sources",
      remove: async () => {},
    };
  }
  const dir = await Deno.makeTempDir({ prefix: "bairelay-bench-bundle-" });
  await bundleApp(root, dir, ["main.ts"]);
  const flags = withV8Flags(bundledRunFlags(denoJson, "serve"));
  const warmUp = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...flags, `${dir}/main.js`, "serve", "--check-config", "--api", "off"],
    env: MEASURED_CHILD_ENV,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!warmUp.success) throw new Error(new TextDecoder().decode(warmUp.stderr));
  return {
    flags,
    main: `${dir}/main.js`,
    what: "release bundle",
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/** A running benchmark child process and the JSON line it printed when ready. */
export interface Child<T> {
  pid: number;
  ready: T;
  /** The last line printed after the ready line (status reports). */
  latest(): string | undefined;
  stop(): Promise<void>;
}

/** Starts `serve_procs.ts <mode> <arg>` and waits for its ready line. */
export async function spawnProc<T>(mode: string, arg = ""): Promise<Child<T>> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "--quiet", ...v8Flags(), PROCS, mode, arg],
    env: MEASURED_CHILD_ENV,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${mode} process exited before it was ready`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  let latest: string | undefined;
  const decoder = new TextDecoder();
  const drain = child.stdout.pipeTo(
    new WritableStream({
      write(chunk) {
        const lines = decoder.decode(chunk).trim().split("\n");
        latest = lines.at(-1) || latest;
      },
    }),
  ).catch(() => {});
  return {
    pid: child.pid,
    ready: JSON.parse(text.slice(0, text.indexOf("\n"))) as T,
    latest: () => latest,
    async stop() {
      await child.stdin.close().catch(() => {});
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await child.status;
      clearTimeout(timer);
      await drain;
    },
  };
}

/** `count` distinct D2R_HB packets (needrsp 1), UIDs `9527<tag>...`, tids 1..count. */
export function heartbeatPackets(count: number, tag: string): Uint8Array[] {
  const packets: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const uid = `9527${tag}${String(i).padStart(12 - tag.length, "0")}0123`;
    packets.push(encodeDiscovery(message("D2R_HB", { uid, needrsp: 1, token: 7n }), i + 1));
  }
  return packets;
}

/**
 * Datagrams the kernel dropped at the UDP socket bound to local `port` because its receive
 * buffer was full (the `drops` column of /proc/net/udp and udp6): tells a server that fell
 * behind from a generator that did.
 */
export function udpDrops(port: number): number {
  let drops = 0;
  for (const table of ["/proc/net/udp", "/proc/net/udp6"]) {
    for (const line of Deno.readTextFileSync(table).split("\n").slice(1)) {
      const columns = line.trim().split(/\s+/);
      const local = columns[1];
      if (local === undefined || parseInt(local.split(":")[1], 16) !== port) continue;
      drops += Number(columns[columns.length - 1]);
    }
  }
  return drops;
}

/** `--name value` from the command line, or the default. */
export function flag(name: string, fallback: number): number {
  const index = Deno.args.indexOf(`--${name}`);
  return index >= 0 ? Number(Deno.args[index + 1]) : fallback;
}
