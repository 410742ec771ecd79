/**
 * Push accepted -> `status/motion = on` received by an MQTT subscriber, through a real
 * `bairelay serve` subprocess and a real Mosquitto, with simulated cameras on their own
 * loopback addresses. Target: p99 under 20 ms.
 *
 *   scripts/deno run --allow-all bench/push_latency.ts [cameras=100] [rounds=3]
 *
 * Each camera pushes once per round (20 ms apart); the clock starts just before the TCP connect
 * (so it includes the handshake: an upper bound) and stops when the subscriber gets "on".
 * For scale, the same run first measures the broker alone: publish QoS 1 -> subscriber.
 */

import mqtt from "mqtt";
import { startMosquitto } from "../tests/support/mosquitto.ts";
import {
  bootCameras,
  cameraIps,
  cannedClientHello,
  push,
  startBenchServer,
} from "./push_support.ts";
import { percentile } from "./measure.ts";

const CAMERAS = Number(Deno.args[0] ?? 100);
const ROUNDS = Number(Deno.args[1] ?? 3);
const HOLD_SECS = 1;
const SPACING_MS = 20;
/** Longest wait for one "on" before the sample counts as lost. */
const SAMPLE_TIMEOUT_MS = 2000;

const broker = await startMosquitto();
const server = await startBenchServer({ holdSecs: HOLD_SECS, wakeOnMotion: true, mqtt: broker });
const cameras = await bootCameras(cameraIps(CAMERAS), server.middleman);
const hello = await cannedClientHello();

const subscriber = await mqtt.connectAsync({ host: broker.host, port: broker.port });
const waiting = new Map<string, (at: number) => void>();
subscriber.on("message", (topic, payload) => {
  if (payload.toString() !== "on") return;
  const at = performance.now();
  waiting.get(topic)?.(at);
});
await subscriber.subscribeAsync("bairelay/+/status/motion", { qos: 1 });
await new Promise((resolve) => setTimeout(resolve, 500)); // retained "off"s flow by

// Baseline in the same run: the broker alone (publish QoS 1 -> subscriber), same spacing.
const publisher = await mqtt.connectAsync({ host: broker.host, port: broker.port });
const baseline: number[] = [];
await subscriber.subscribeAsync("bench/baseline", { qos: 1 });
for (let i = 0; i < CAMERAS * ROUNDS; i++) {
  const received = new Promise<number>((resolve) => waiting.set("bench/baseline", resolve));
  const sentAt = performance.now();
  publisher.publish("bench/baseline", "on", { qos: 1 });
  baseline.push((await received) - sentAt);
  await new Promise((resolve) => setTimeout(resolve, SPACING_MS));
}
waiting.delete("bench/baseline");
await publisher.endAsync();

const latencies: number[] = [];
let lost = 0;
for (let round = 0; round < ROUNDS; round++) {
  const samples: Promise<void>[] = [];
  for (const camera of cameras) {
    const topic = `bairelay/${camera.uid}/status/motion`;
    let startedAt = performance.now();
    samples.push(
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(topic);
          lost++;
          resolve();
        }, SAMPLE_TIMEOUT_MS);
        waiting.set(topic, (at) => {
          clearTimeout(timer);
          waiting.delete(topic);
          latencies.push(at - startedAt);
          resolve();
        });
      }),
    );
    startedAt = performance.now();
    await push(camera.address.ip, server.pushPort, hello);
    await new Promise((resolve) => setTimeout(resolve, SPACING_MS));
  }
  await Promise.all(samples);
  await new Promise((resolve) => setTimeout(resolve, HOLD_SECS * 1000 + 500)); // all off again
}

const fmt = (ms: number) => ms.toFixed(2);
console.log(
  `baseline, broker alone (publish -> subscriber): n=${baseline.length} ` +
    `p50=${fmt(percentile(baseline, 50))} ms p99=${fmt(percentile(baseline, 99))} ms ` +
    `max=${fmt(Math.max(...baseline))} ms`,
);
console.log(
  `push -> MQTT motion on: n=${latencies.length} lost=${lost} ` +
    `p50=${fmt(percentile(latencies, 50))} ms p99=${fmt(percentile(latencies, 99))} ms ` +
    `max=${fmt(Math.max(...latencies))} ms (target p99 < 20 ms: ` +
    `${percentile(latencies, 99) < 20 && lost === 0 ? "met" : "NOT met"})`,
);

await subscriber.endAsync();
for (const camera of cameras) await camera.close();
await server.stop();
await broker.dispose();
