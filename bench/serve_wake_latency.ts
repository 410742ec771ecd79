/**
 * Wake latency: C2R_C sent by a client to the first R2D_C received by the camera, while a
 * separate load process sends 1,000 heartbeats/s to the same wake server (its own
 * process). Client and camera live in this process so both timestamps share one clock.
 * Bursts are 1 packet and the budget is off so wakes can repeat quickly. Loopback only.
 *
 *   scripts/deno run -A bench/serve_wake_latency.ts [--wakes 500] [--rate 1000] [--gap 20]
 */

import { CameraSim } from "../tests/support/camera_sim.ts";
import { ClientSim } from "../tests/support/client_sim.ts";
import { type Endpoint, flag, percentile, spawnProc } from "./serve_support.ts";

const WAKES = flag("wakes", 500);
const RATE = flag("rate", 1000);
const GAP_MS = flag("gap", 20);
const UID = "95270000LATENCY00123";

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
  const ms = (v: number) => v.toFixed(3);
  console.log(
    `${WAKES} wakes under ${RATE} heartbeats/s (load in its own process); missed ${missed}`,
  );
  console.log(
    `C2R_C -> first R2D_C: p50 ${ms(percentile(latencies, 50))} ms, p90 ${
      ms(percentile(latencies, 90))
    } ms, ` +
      `p99 ${ms(percentile(latencies, 99))} ms, max ${
        ms(Math.max(...latencies))
      } ms (target p99 < 2 ms)`,
  );
} finally {
  await client.close();
  await camera.close();
  await load.stop();
  await server.stop();
}
