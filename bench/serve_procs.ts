/**
 * The processes the `serve` benchmarks run, one mode per invocation:
 * - `wake '<options JSON>'`: the real wake server on 127.0.0.1 (ephemeral ports);
 * - `echo ['{"receiveBufferBytes":n}']`: a bare UDP echo server on the wake server's own
 *   socket layer (the baseline);
 * - `load '<{"to":{ip,port},"rate":n,"uids":n}>'`: sends D2R_HB at a steady rate until killed.
 * Each prints one JSON line when ready (`{"middleman":..,"register":..}` / `{"port":..}` /
 * `{"ready":true}`) and runs until stdin closes or it is killed; the wake server then
 * prints `{"registered":n}` every second.
 */

import dgram from "node:dgram";
import { DEFAULT_WAKE_SERVER_OPTIONS, startWakeServer } from "../lib/wake/mod.ts";
import { bindUdpListener, type UdpListener } from "../lib/wake/udp_listener.ts";
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
  const args = JSON.parse(argsJson) as { to: Endpoint; rate: number; uids: number };
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  socket.on("message", () => {});
  const packets = heartbeatPackets(args.uids, "LOAD");
  const tickMs = 1; // about one packet per ms at 1,000/s, like independent cameras
  const perTick = args.rate * tickMs / 1000;
  let owed = 0;
  let next = 0;
  const timer = setInterval(() => {
    owed += perTick;
    for (; owed >= 1; owed--) {
      socket.send(packets[next], args.to.port, args.to.ip);
      next = (next + 1) % packets.length;
    }
  }, tickMs);
  console.log(JSON.stringify({ ready: true }));
  await untilStdinCloses();
  clearInterval(timer);
  socket.close();
}

if (import.meta.main) {
  const [mode, arg] = Deno.args;
  if (mode === "wake") await runWake(arg);
  else if (mode === "echo") await runEcho(arg);
  else if (mode === "load") await runLoad(arg);
  else {
    console.error("usage: serve_procs.ts wake|echo|load [json]");
    Deno.exit(2);
  }
}
