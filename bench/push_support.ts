/**
 * Shared set-up of the push benchmarks: a real `bairelay serve` subprocess on loopback with a
 * generated config (push listener on a free port, optional MQTT broker), simulated cameras
 * registered with it from their own 127.0.x.y addresses, a canned real ClientHello, and
 * the server's open file descriptors from /proc.
 */

import * as net from "node:net";
import * as tls from "node:tls";
import { CameraSim } from "../tests/support/camera_sim.ts";
import { freeServePorts, freeTcpPort, ServeProcess } from "../tests/support/serve_process.ts";

/** A running server for a benchmark. */
export interface BenchServer {
  serve: ServeProcess;
  pid: number;
  pushPort: number;
  apiUrl: string;
  middleman: { ip: string; port: number };
  stop(): Promise<void>;
}

/** Starts `bairelay serve` with push on a free loopback port; `extraToml` adds sections. */
export async function startBenchServer(options: {
  holdSecs: number;
  wakeOnMotion: boolean;
  mqtt?: { host: string; port: number };
  logLevel?: string;
}): Promise<BenchServer> {
  const dir = await Deno.makeTempDir({ prefix: "bairelay-bench-" });
  const ports = await freeServePorts("127.0.0.1");
  const pushPort = freeTcpPort("127.0.0.1");
  const configPath = `${dir}/config.toml`;
  const toml = [
    `bind = "127.0.0.1"`,
    `state_dir = "${dir}/state"`,
    `[log]`,
    `level = "${options.logLevel ?? "info"}"`,
    `[wake_server]`,
    `middleman_port = ${ports.middleman}`,
    `register_port = ${ports.register}`,
    `max_cameras = 4096`,
    `max_anchors = 4096`,
    `[api]`,
    `listen = "127.0.0.1:${ports.api}"`,
    `[push_listener]`,
    `port = ${pushPort}`,
    `motion_hold_secs = ${options.holdSecs}`,
    `wake_on_motion = ${options.wakeOnMotion}`,
    ...(options.mqtt
      ? [`[mqtt]`, `broker_addr = "${options.mqtt.host}"`, `port = ${options.mqtt.port}`]
      : []),
  ].join("\n") + "\n";
  await Deno.writeTextFile(configPath, toml);
  const serve = ServeProcess.start(["--config", configPath]);
  await serve.ready();
  return {
    serve,
    pid: await pidWithArgument(configPath),
    pushPort,
    apiUrl: `http://127.0.0.1:${ports.api}`,
    middleman: { ip: "127.0.0.1", port: ports.middleman },
    async stop() {
      await serve.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The pid of the process whose command line holds `argument` (unique per run). */
async function pidWithArgument(argument: string): Promise<number> {
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`);
      if (cmdline.split("\0").includes(argument)) return Number(entry.name);
    } catch { /* exited meanwhile */ }
  }
  throw new Error(`no process runs with ${argument}`);
}

/** `count` loopback source addresses 127.0.x.y (x from 10), one per simulated camera. */
export function cameraIps(count: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `127.0.${10 + Math.floor(i / 250)}.${1 + i % 250}`,
  );
}

/** Boots one simulated camera per address against `middleman` (they stay registered). */
export async function bootCameras(
  ips: string[],
  middleman: { ip: string; port: number },
): Promise<CameraSim[]> {
  const cameras: CameraSim[] = [];
  for (const [i, ip] of ips.entries()) {
    const uid = `95270000BENCH${String(i).padStart(3, "0")}0123`;
    const camera = await CameraSim.start({ uid, ip, middleman });
    await camera.boot();
    cameras.push(camera);
  }
  return cameras;
}

/** The first bytes node:tls sends for SNI pushx.reolink.com: a real ClientHello to replay. */
export async function cannedClientHello(): Promise<Uint8Array> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = tls.connect({
    host: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
    servername: "pushx.reolink.com",
    rejectUnauthorized: false,
  });
  client.on("error", () => {});
  const conn = await listener.accept();
  const buffer = new Uint8Array(4096);
  const count = (await conn.read(buffer)) ?? 0;
  conn.close();
  listener.close();
  client.destroy();
  return buffer.slice(0, count);
}

/**
 * One push: connect from `from`, send `hello` once connected, resolve when the server closes
 * (or after `timeoutMs`).
 */
export function push(
  from: string,
  port: number,
  hello: Uint8Array,
  timeoutMs = 5000,
): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress: from });
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on("connect", () => socket.write(hello));
    socket.on("data", () => {});
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Open file descriptors of `pid`. */
export function openFds(pid: number): number {
  let count = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) count++;
  return count;
}
