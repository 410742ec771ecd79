/**
 * The processes the `serve` benchmarks run, one mode per invocation:
 * - `wake '<options JSON>'`: the real wake server on 127.0.0.1 (ephemeral ports);
 * - `echo ['{"receiveBufferBytes":n}']`: a bare UDP echo server on the wake server's own
 *   socket layer (the baseline);
 * - `load '<{"to":{ip,port},"rate":n,"uids":n,"tag"?:s,"from"?:{ip,port}}>'`: sends D2R_HB at
 *   a steady rate,
 *   counting the replies; prints `{"sent":n,"received":n}` when stdin closes;
 * - `flood '<{"to":{ip,port},"rate":n,"sources":n,"seed":n,"kinds"?:[..]}>'`: sends hostile datagrams of
 *   every kind (tests/support/hostile_datagrams.ts) at a steady rate from `sources` loopback
 *   addresses 127.77.x.y; prints `{"sent":n}` every second and when stdin closes.
 * Each prints one JSON line when ready (`{"middleman":..,"register":..}` / `{"port":..}` /
 * `{"ready":true}`) and runs until stdin closes or it is killed; the wake server then
 * prints `{"registered":n}` every second.
 */

import dgram from "node:dgram";
import { DEFAULT_WAKE_SERVER_OPTIONS, startWakeServer } from "../lib/wake/mod.ts";
import { bindUdpListener, type UdpListener } from "../lib/wake/udp_listener.ts";
import {
  HOSTILE_KINDS,
  hostileDatagram,
  type HostileKind,
  seededRandom,
} from "../tests/support/hostile_datagrams.ts";
import { type Endpoint, heartbeatPackets } from "./serve_support.ts";

async function untilStdinCloses(): Promise<void> {
  for await (const _ of Deno.stdin.readable) { /* ignore input */ }
}

async function runWake(optionsJson: string): Promise<void> {
  const server = await startWakeServer({
    ...DEFAULT_WAKE_SERVER_OPTIONS,
    bind: "127.0.0.1",
    middlemanPort: 0,
    registerPort: 0,
    ...JSON.parse(optionsJson || "{}"),
  });
  console.log(JSON.stringify({ middleman: server.middleman, register: server.register }));
  const status = setInterval(() => {
    console.log(JSON.stringify({ registered: server.registry.size, memory: Deno.memoryUsage() }));
  }, 1000);
  await untilStdinCloses();
  clearInterval(status);
  await server.close();
}

async function runEcho(optionsJson: string): Promise<void> {
  const { receiveBufferBytes = 0 } = JSON.parse(optionsJson || "{}");
  const echo: UdpListener = bindUdpListener("register", "127.0.0.1", 0, {
    onDatagram: (bytes, from) => echo.send(bytes.slice(), from),
    onSendFailed: () => {},
    onReceiveError: () => {},
  }, receiveBufferBytes);
  console.log(JSON.stringify({ port: echo.address.port }));
  await untilStdinCloses();
  await echo.close();
}

async function runLoad(argsJson: string): Promise<void> {
  const args = JSON.parse(argsJson) as {
    to: Endpoint;
    rate: number;
    uids: number;
    tag?: string;
    /** The source address to send from (default 127.0.0.1, ephemeral port). */
    from?: Endpoint;
  };
  const socket = dgram.createSocket("udp4");
  const from = args.from ?? { ip: "127.0.0.1", port: 0 };
  await new Promise<void>((resolve) => socket.bind(from.port, from.ip, resolve));
  let sent = 0;
  let received = 0;
  socket.on("message", () => received++);
  const packets = heartbeatPackets(args.uids, args.tag ?? "LOAD");
  const tickMs = 1; // about one packet per ms at 1,000/s, like independent cameras
  const perTick = args.rate * tickMs / 1000;
  let owed = 0;
  let next = 0;
  const timer = setInterval(() => {
    owed += perTick;
    for (; owed >= 1; owed--) {
      socket.send(packets[next], args.to.port, args.to.ip);
      next = (next + 1) % packets.length;
      sent++;
    }
  }, tickMs);
  console.log(JSON.stringify({ ready: true }));
  await untilStdinCloses();
  clearInterval(timer);
  await new Promise((r) => setTimeout(r, 200)); // the last replies
  console.log(JSON.stringify({ sent, received }));
  socket.close();
}

/** Datagrams kept ready per kind: hostile kinds repeat from here, random UIDs never do. */
const FLOOD_POOL = 1024;

async function runFlood(argsJson: string): Promise<void> {
  const args = JSON.parse(argsJson) as {
    to: Endpoint;
    rate: number;
    sources: number;
    seed: number;
    /** Only these kinds (default all). */
    kinds?: HostileKind[];
  };
  const random = seededRandom(args.seed);
  const kinds = args.kinds ?? HOSTILE_KINDS;
  const pools = kinds.map((kind) =>
    Array.from({ length: FLOOD_POOL }, () => hostileDatagram(kind, random))
  );
  const sockets = Array.from({ length: args.sources }, (_, i) =>
    Deno.listenDatagram({
      transport: "udp",
      hostname: `127.77.${1 + (i >> 8)}.${1 + (i & 0xff) % 254}`,
      port: 0,
    }));
  const drain = sockets.map(async (socket) => {
    try {
      for await (const _ of socket) { /* replies to random UIDs: ignored */ }
    } catch { /* closed */ }
  });
  const to = { transport: "udp" as const, hostname: args.to.ip, port: args.to.port };
  let sent = 0;
  const started = performance.now();
  const timer = setInterval(() => {
    // At most 20 ms of datagrams per tick, so a starved generator still reads stdin.
    const due = Math.min(
      Math.floor((performance.now() - started) * args.rate / 1000),
      sent + args.rate / 50,
    );
    while (sent < due) {
      const i = sent++;
      const kind = kinds[i % kinds.length];
      const bytes = kind === "random_uid"
        ? hostileDatagram(kind, random)
        : pools[i % kinds.length][Math.floor(i / kinds.length) % FLOOD_POOL];
      sockets[i % sockets.length].send(bytes, to).catch(() => {});
    }
  }, 1);
  const report = setInterval(() => console.log(JSON.stringify({ sent })), 1000);
  console.log(JSON.stringify({ ready: true }));
  await untilStdinCloses();
  clearInterval(timer);
  clearInterval(report);
  console.log(JSON.stringify({ sent }));
  for (const socket of sockets) socket.close();
  await Promise.all(drain);
}

if (import.meta.main) {
  const [mode, arg] = Deno.args;
  if (mode === "wake") await runWake(arg);
  else if (mode === "echo") await runEcho(arg);
  else if (mode === "load") await runLoad(arg);
  else if (mode === "flood") await runFlood(arg);
  else {
    console.error("usage: serve_procs.ts wake|echo|load|flood [json]");
    Deno.exit(2);
  }
}
