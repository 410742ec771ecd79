/**
 * 1,000 push connections per second for a minute against a real `bairelay serve` subprocess
 * (MQTT bridge connected to a real Mosquitto): the server's open file descriptors and resident
 * memory must not grow. Half the pushes come from registered cameras, half from unknown IPs;
 * each sends a real ClientHello, and the server closes it after reading the SNI.
 *
 *   scripts/deno run --allow-all bench/push_flood.ts [seconds=60] [rate=1000]
 *
 * Loopback only. Readings of /proc/<pid>/fd and VmRSS every 5 s; "growth" compares the last
 * reading with the one taken after a 5 s warm-up, and with the one at half time (V8 sizes its
 * heap up during the first tens of seconds; a leak keeps growing in the second half).
 */

import { startMosquitto } from "../tests/support/mosquitto.ts";
import {
  bootCameras,
  cameraIps,
  cannedClientHello,
  openFds,
  push,
  startBenchServer,
} from "./push_support.ts";
import { rssMiB } from "./measure.ts";

const SECONDS = Number(Deno.args[0] ?? 60);
const RATE = Number(Deno.args[1] ?? 1000);
const REGISTERED = 20;
const UNKNOWN = 20;
const TICK_MS = 10;
const SAMPLE_EVERY_MS = 5000;
/** The generator's own bound on pushes in flight (it must not be the thing that leaks). */
const MAX_IN_FLIGHT = 5000;

const broker = await startMosquitto();
const server = await startBenchServer({ holdSecs: 30, wakeOnMotion: true, mqtt: broker });
const ips = cameraIps(REGISTERED + UNKNOWN);
const cameras = await bootCameras(ips.slice(0, REGISTERED), server.middleman);
// Keep the cameras registered for the whole run (heartbeats every 10 s, as real ones do).
for (const camera of cameras) camera.startHeartbeats(10_000);
const hello = await cannedClientHello();

const readings: { t: number; fds: number; rss: number }[] = [];
const sample = (t: number) => {
  readings.push({ t, fds: openFds(server.pid), rss: rssMiB(server.pid) });
};
sample(0);

let sent = 0;
let completed = 0;
let inFlight = 0;
let skipped = 0;
const start = performance.now();
const perTick = RATE * TICK_MS / 1000;
let nextSample = SAMPLE_EVERY_MS;
while (performance.now() - start < SECONDS * 1000) {
  const elapsed = performance.now() - start;
  const due = Math.floor((elapsed / TICK_MS + 1) * perTick);
  while (sent < due) {
    if (inFlight >= MAX_IN_FLIGHT) {
      skipped++;
      sent++;
      continue;
    }
    const from = ips[sent % ips.length];
    sent++;
    inFlight++;
    push(from, server.pushPort, hello).then(() => {
      inFlight--;
      completed++;
    });
  }
  if (elapsed >= nextSample) {
    sample(Math.round(elapsed / 1000));
    nextSample += SAMPLE_EVERY_MS;
  }
  await new Promise((resolve) => setTimeout(resolve, TICK_MS));
}
const deadline = performance.now() + 10_000;
while (inFlight > 0 && performance.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
const wall = (performance.now() - start) / 1000;
sample(Math.round(wall));

const metrics = await (await fetch(`${server.apiUrl}/metrics`)).text();
const counted = (result: string) =>
  Number(
    new RegExp(`bairelay_push_connections_total\\{result="${result}"\\} (\\d+)`).exec(
      metrics,
    )?.[1] ?? 0,
  );

console.log("t(s)  open fds  RSS (MiB)");
for (const r of readings) {
  console.log(
    `${String(r.t).padStart(4)}  ${String(r.fds).padStart(8)}  ${r.rss.toFixed(1).padStart(9)}`,
  );
}
const warm = readings.find((r) => r.t >= 5) ?? readings[0];
const half = readings.find((r) => r.t >= wall / 2) ?? warm;
const last = readings[readings.length - 1];
const maxFds = Math.max(...readings.map((r) => r.fds));
console.log(
  `pushes: sent ${sent - skipped} in ${wall.toFixed(1)} s (${
    ((sent - skipped) / wall).toFixed(0)
  }/s), ` +
    `completed ${completed}, generator-skipped ${skipped}; server counted motion ` +
    `${counted("motion")} + unknown_ip ${counted("unknown_ip")}`,
);
console.log(
  `fds: after warm-up ${warm.fds}, max ${maxFds}, end ${last.fds} (growth ${
    last.fds - warm.fds
  }); ` +
    `RSS: after warm-up ${warm.rss.toFixed(1)} MiB, end ${last.rss.toFixed(1)} MiB ` +
    `(growth ${(last.rss - warm.rss).toFixed(1)} MiB; over the second half ` +
    `${(last.rss - half.rss).toFixed(1)} MiB, from ${half.t} s)`,
);

for (const camera of cameras) await camera.close();
await server.stop();
await broker.dispose();
