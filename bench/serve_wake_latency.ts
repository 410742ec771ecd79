/**
 * Wake latency: C2R_C sent by a client to the first R2D_C received by the camera, while a
 * separate load process sends 1,000 heartbeats/s to the same wake server (its own
 * process). Client and camera live in this process so both timestamps share one clock.
 * Bursts are 1 packet and the budget is off so wakes can repeat quickly. As a control in
 * the same run, the round trip through a bare UDP echo server (same runtime) under the
 * same 1,000 packets/s load is measured the same way. Loopback only.
 *
 *   scripts/deno run -A bench/serve_wake_latency.ts [--wakes 500] [--rate 1000] [--gap 20]
 */

import dgram from "node:dgram";
import { CameraSim } from "../tests/support/camera_sim.ts";
import { ClientSim } from "../tests/support/client_sim.ts";
import { type Endpoint, flag, percentile, spawnProc } from "./serve_support.ts";

const WAKES = flag("wakes", 500);
const RATE = flag("rate", 1000);
const GAP_MS = flag("gap", 20);
const UID = "95270000LATENCY00123";

function report(label: string, latencies: number[]): void {
  const ms = (v: number) => v.toFixed(3);
  console.log(
    `${label}: p50 ${ms(percentile(latencies, 50))} ms, p90 ${ms(percentile(latencies, 90))} ms, ` +
      `p99 ${ms(percentile(latencies, 99))} ms, max ${ms(Math.max(...latencies))} ms`,
  );
}

/** Round trips through a loaded bare echo server, measured like the wakes. */
async function echoControl(): Promise<number[]> {
  const echo = await spawnProc<{ port: number }>("echo");
  const to = { ip: "127.0.0.1", port: echo.ready.port };
  const echoLoad = await spawnProc("load", JSON.stringify({ to, rate: RATE, uids: 1000 }));
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  let arrived: (() => void) | undefined;
  socket.on("message", () => arrived?.());
  const rtts: number[] = [];
  try {
    await new Promise((r) => setTimeout(r, 2000));
    const probe = new Uint8Array(125);
    for (let i = 0; i < WAKES; i++) {
      const back = new Promise<void>((resolve) => arrived = resolve);
      const timeout = new Promise<void>((resolve) => setTimeout(resolve, 1000));
      const sent = performance.now();
      socket.send(probe, to.port, to.ip);
      await Promise.race([back, timeout]);
      rtts.push(performance.now() - sent);
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
  } finally {
    socket.close();
    await echoLoad.stop();
    await echo.stop();
  }
  return rtts;
}

const server = await spawnProc<{ middleman: Endpoint; register: Endpoint }>(
  "wake",
  JSON.stringify({ burstCount: 1, maxWakesPerHour: 0 }),
);
const load = await spawnProc(
  "load",
  JSON.stringify({ to: server.ready.register, rate: RATE, uids: 1000 }),
);
const camera = await CameraSim.start({
  uid: UID,
  ip: "127.0.0.2",
  middleman: server.ready.middleman,
});
const client = await ClientSim.start();
try {
  await camera.boot();
  camera.startHeartbeats(1000);
  await new Promise((r) => setTimeout(r, 2000)); // let the load settle and register its UIDs
  const latencies: number[] = [];
  let missed = 0;
  for (let i = 0; i < WAKES; i++) {
    const request = client.connectMessage(UID.slice(0, 16), server.ready.register, { cid: i });
    const wake = camera.waitFor("R2D_C", {
      match: (r) => r.message.fields.cid === i,
      timeoutMs: 1000,
    });
    const sent = performance.now();
    await client.send(request, server.ready.register);
    try {
      latencies.push((await wake).at - sent);
    } catch {
      missed++;
    }
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  console.log(
    `${WAKES} wakes under ${RATE} heartbeats/s (load in its own process); missed ${missed}`,
  );
  report("wake server, C2R_C -> first R2D_C (target p99 < 2 ms)", latencies);
} finally {
  await client.close();
  await camera.close();
  await load.stop();
  await server.stop();
}
report(`control: bare echo server round trip under ${RATE} packets/s`, await echoControl());
