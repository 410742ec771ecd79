/**
 * Wake latency: C2R_C sent by a client to the first R2D_C received by the camera, while a
 * separate load process sends 1,000 heartbeats/s to the same wake server (its own
 * process). Client and camera are bare sockets in this process, on the wake server's own
 * socket layer, so both timestamps share one clock and the camera stamps a datagram the
 * moment it is read (decoding comes after). The camera registers by heartbeating (needrsp
 * 0) from 127.0.0.2. Bursts are 1 packet and the budget is off so wakes can repeat
 * quickly. As a control in the same run, the round trip through a bare UDP echo server
 * (same runtime and socket layer) under the same load is measured the same way.
 * Loopback only.
 *
 *   scripts/deno run -A bench/serve_wake_latency.ts [--wakes 500] [--warmup 1000] [--rate 1000]
 *                                                    [--gap 20]
 */

import { decodeDatagram, encodeDiscovery, message } from "../lib/bcudp/mod.ts";
import { bindUdpListener, type UdpListener } from "../lib/wake/udp_listener.ts";
import { percentile } from "./measure.ts";
import { type Endpoint, flag, spawnProc } from "./serve_support.ts";

const WAKES = flag("wakes", 500);
/**
 * Wakes sent first and not counted. V8 compiles the wake path's functions to faster tiers
 * after a few hundred calls, on the main thread, which made a few wakes among the first ~600
 * take 1-5 ms (the same ones in every run); the target is about the server in its steady
 * state. `--warmup 0` counts them.
 */
const WARMUP = flag("warmup", 1000);
const RATE = flag("rate", 1000);
const GAP_MS = flag("gap", 20);
const UID = "95270000LATENCY00123";
/** How long a wake (or an echo) may take before it counts as missed. */
const MISSED_AFTER_MS = 1000;

function report(label: string, latencies: number[]): void {
  const ms = (v: number) => v.toFixed(3);
  console.log(
    `${label}: p50 ${ms(percentile(latencies, 50))} ms, p90 ${ms(percentile(latencies, 90))} ms, ` +
      `p99 ${ms(percentile(latencies, 99))} ms, max ${ms(Math.max(...latencies))} ms`,
  );
}

/** Wakes whoever waits for the next datagram (the measuring loop sleeps until then). */
let arrived: (() => void) | undefined;

/** A bare socket that stamps each datagram on arrival and hands it on with its time. */
function stampingSocket(ip: string, onDatagram: (bytes: Uint8Array, at: number) => void) {
  return bindUdpListener("register", ip, 0, {
    onDatagram: (bytes) => {
      onDatagram(bytes, performance.now());
      arrived?.();
    },
    onSendFailed: () => {},
    onReceiveError: () => {},
  });
}

/**
 * Sends `WARMUP + WAKES` probes `GAP_MS` apart; returns the time from each send to its
 * arrival for the last `WAKES`.
 */
async function measure(
  send: (i: number) => void,
  arrivedAt: (i: number) => number | undefined,
): Promise<{ latencies: number[]; missed: number }> {
  const latencies: number[] = [];
  let missed = 0;
  for (let i = 0; i < WARMUP + WAKES; i++) {
    const sent = performance.now();
    send(i);
    let at = arrivedAt(i);
    while (at === undefined && performance.now() - sent < MISSED_AFTER_MS) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        arrived = resolve;
        timer = setTimeout(resolve, MISSED_AFTER_MS);
      });
      clearTimeout(timer);
      at = arrivedAt(i);
    }
    if (i < WARMUP) continue;
    if (at === undefined) missed++;
    else latencies.push(at - sent);
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  return { latencies, missed };
}

/** Round trips through a loaded bare echo server, measured like the wakes. */
async function echoControl(): Promise<number[]> {
  const echo = await spawnProc<{ port: number }>("echo");
  const to = { ip: "127.0.0.1", port: echo.ready.port };
  const echoLoad = await spawnProc("load", JSON.stringify({ to, rate: RATE, uids: 1000 }));
  const arrivals = new Map<number, number>();
  const socket = stampingSocket("127.0.0.1", (bytes, at) => {
    arrivals.set(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true), at);
  });
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const probe = new Uint8Array(125);
    const { latencies } = await measure((i) => {
      new DataView(probe.buffer).setUint32(0, i, true);
      socket.send(probe.slice(), to);
    }, (i) => arrivals.get(i));
    return latencies;
  } finally {
    await socket.close();
    await echoLoad.stop();
    await echo.stop();
  }
}

const server = await spawnProc<{ middleman: Endpoint; register: Endpoint }>(
  "wake",
  JSON.stringify({ burstCount: 1, maxWakesPerHour: 0 }),
);
const register = server.ready.register;
const load = await spawnProc("load", JSON.stringify({ to: register, rate: RATE, uids: 1000 }));
const wakes = new Map<number, number>();
const stamped: [Uint8Array, number][] = [];
const camera: UdpListener = stampingSocket("127.0.0.2", (bytes, at) => {
  stamped.push([bytes.slice(), at]); // decoded later, off the clock
});
/** Decodes what the camera received: R2D_C arrivals by cid (the client sends cid = wake number). */
function collectWakes(): void {
  for (const [bytes, at] of stamped.splice(0)) {
    for (const packet of decodeDatagram(bytes)) {
      if (packet.kind !== "discovery" || packet.message.variant !== "R2D_C") continue;
      const cid = packet.message.fields.cid;
      if (!wakes.has(cid)) wakes.set(cid, at);
    }
  }
}
const client = stampingSocket("127.0.0.1", () => {}); // replies are not on the clock
const heartbeat = () =>
  camera.send(encodeDiscovery(message("D2R_HB", { uid: UID, needrsp: 0, token: 1n }), 1), register);
heartbeat();
const heartbeats = setInterval(heartbeat, 1000);
try {
  await new Promise((r) => setTimeout(r, 2000)); // let the load settle and register its UIDs
  const { latencies, missed } = await measure((i) => {
    const request = message("C2R_C", {
      uid: UID.slice(0, 16),
      cli: client.address,
      relay: register,
      cid: i,
      debug: 0,
      family: 4,
      p: "MAC",
      r: 3,
    });
    client.send(encodeDiscovery(request, i), register);
  }, (i) => {
    collectWakes();
    return wakes.get(i);
  });
  console.log(
    `${WAKES} wakes after ${WARMUP} not counted, under ${RATE} heartbeats/s (load in its own ` +
      `process); missed ${missed}`,
  );
  report("wake server, C2R_C -> first R2D_C (target p99 < 2 ms)", latencies);
} finally {
  clearInterval(heartbeats);
  await client.close();
  await camera.close();
  await load.stop();
  await server.stop();
}
report(`control: bare echo server round trip under ${RATE} packets/s`, await echoControl());
