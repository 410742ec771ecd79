/**
 * Resident memory of the real `bairelay serve`, as the release ships it (the bundled application
 * with the `serve` task's own flags, V8 flags included; `--source`: main.ts, as from a checkout),
 * through the phases a small box lives through, sampled every 0.5 s and printed as a timeline:
 *
 * 1. idle;
 * 2. 1,024 cameras heartbeating (one real simulated camera + 1,023 from a load process),
 *    each every `--camera-interval` s: by default 1, 1,024 heartbeats/s in all, ten times
 *    the cadence of real cameras (about every 10 s);
 * 3. a heartbeat sweep: a second load process at each rate of `--sweep` for `--step` s,
 *    counting replies (lost = sent - answered), then `--settle` s of steady load;
 * 4. a hostile flood: `--flood` s at `--flood-rate` datagrams/s from `--sources` loopback
 *    addresses, cycling through every kind of tests/support/hostile_datagrams.ts (random
 *    bytes, bad magic, bad CRC, truncated, bit-flipped documents, oversized fields, valid
 *    heartbeats from random UIDs), while the real camera heartbeats every 100 ms and a client
 *    wakes it every 1.5 s; then `--settle` s.
 *
 * With `--mqtt`, serve also runs its MQTT bridge, to a Mosquitto the bench starts on loopback
 * (every camera that registers is announced to Home Assistant and gets its state topics), as
 * a Home Assistant user runs it.
 *
 * Idle is idle: nothing is sent to serve, the API included. From the cameras on, the registry
 * size (cameras fresh + stale in /api/status) is read every second.
 * `SERVE_BENCH_V8_FLAGS` replaces the serve task's `--v8-flags` (comma-separated, e.g.
 * `SERVE_BENCH_V8_FLAGS=--max-semi-space-size=1`; empty for V8's defaults). Loopback only.
 *
 *   scripts/deno run -A bench/serve_flood.ts [--source] [--steady 20] [--camera-interval 1]
 *     [--sweep 10000,30000,60000]
 *     [--step 2] [--settle 10] [--flood 30] [--flood-rate 20000] [--sources 256] [--log FILE]
 *     [--mqtt]
 */

import { CameraSim } from "../tests/support/camera_sim.ts";
import { ClientSim } from "../tests/support/client_sim.ts";
import { type Mosquitto, startMosquitto } from "../tests/support/mosquitto.ts";
import {
  freeServePorts,
  freeUdpPort,
  randomLoopback,
  serveAddressArgs,
} from "../tests/support/serve_process.ts";
import { cpuSeconds, MEASURED_CHILD_ENV, rssMiB } from "./measure.ts";
import {
  type Child,
  type Endpoint,
  flag,
  shippedServe,
  spawnProc,
  udpDrops,
} from "./serve_support.ts";

const STEADY_S = flag("steady", 20);
/** Seconds between two heartbeats of one camera (real cameras: about 10). */
const CAMERA_INTERVAL_S = flag("camera-interval", 1);
const STEP_S = flag("step", 2);
const SETTLE_S = flag("settle", 10);
const FLOOD_S = flag("flood", 30);
const FLOOD_RATE = flag("flood-rate", 20_000);
const SOURCES = flag("sources", 256);
const SWEEP = (() => {
  const index = Deno.args.indexOf("--sweep");
  const list = index >= 0 ? Deno.args[index + 1] : "10000,30000,60000";
  return list.split(",").filter((s) => s !== "").map(Number);
})();
/** `--log FILE` keeps the server's log lines there. */
const LOG_FILE = Deno.args.includes("--log") ? Deno.args[Deno.args.indexOf("--log") + 1] : "";
const CAMERAS = 1024;
const REAL_UID = "95270000FLOODCAM0001";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (v: number) => v.toFixed(1);

const ip = randomLoopback();
const ports = await freeServePorts(ip);
const stateDir = await Deno.makeTempDir({ prefix: "bairelay-flood-" });
const configPath = `${stateDir}/config.toml`;
const broker: Mosquitto | undefined = Deno.args.includes("--mqtt")
  ? await startMosquitto()
  : undefined;
await Deno.writeTextFile(
  configPath,
  "[wake_server]\nmax_wakes_per_hour = 0\n" +
    (broker ? `[mqtt]\nbroker_addr = "${broker.host}"\nport = ${broker.port}\n` : ""),
);
const entry = await shippedServe();
const serve = new Deno.Command(Deno.execPath(), {
  args: [
    ...["run", "--quiet", ...entry.flags, entry.main, "serve", "--no-push", "--config", configPath],
    ...serveAddressArgs(ip, ports),
    ...["--state-dir", stateDir, "--log-format", "json"],
  ],
  stdin: "null",
  stdout: "null",
  stderr: "piped",
  env: { ...MEASURED_CHILD_ENV, NO_COLOR: "1" },
}).spawn();
let logLines = 0;
const { promise: isReady, resolve: ready } = Promise.withResolvers<void>();
const reading = (async () => {
  const decoder = new TextDecoder();
  for await (const chunk of serve.stderr) {
    const text = decoder.decode(chunk, { stream: true });
    if (text.includes("bairelay serve ready")) ready();
    if (LOG_FILE) Deno.writeTextFileSync(LOG_FILE, text, { append: true });
    for (const c of text) if (c === "\n") logLines++;
  }
})();

const register: Endpoint = { ip, port: ports.register };
const samples: { t: number; phase: string; rss: number }[] = [];
let phase = "start";
const started = performance.now();
const sampler = setInterval(() => {
  try {
    samples.push({ t: (performance.now() - started) / 1000, phase, rss: rssMiB(serve.pid) });
  } catch { /* serve has exited: its status says why */ }
}, 500);
let registryMax = 0;
let registryPoll: ReturnType<typeof setInterval> | undefined;
/** Reads the registry size every second, from the end of the idle phase on. */
const pollRegistry = () =>
  setInterval(async () => {
    try {
      const status = await (await fetch(`http://${ip}:${ports.api}/api/status`)).json();
      registryMax = Math.max(registryMax, status.cameras.fresh + status.cameras.stale);
    } catch { /* the next poll */ }
  }, 1000);

const phaseMax = (name: string) =>
  Math.max(...samples.filter((s) => s.phase === name).map((s) => s.rss));
const phaseLast = (name: string) => samples.filter((s) => s.phase === name).at(-1)?.rss ?? NaN;

const camera = await CameraSim.start({
  uid: REAL_UID,
  ip: randomLoopback(),
  middleman: { ip, port: ports.middleman },
});
const client = await ClientSim.start(randomLoopback());
const loads: Child<unknown>[] = [];
try {
  await Promise.race([isReady, sleep(30_000).then(() => Promise.reject(new Error("no ready")))]);
  phase = "idle";
  await sleep(5000);
  registryPoll = pollRegistry();

  await camera.boot();
  phase = "cameras";
  // Every load process sends the same 1,023 cameras from the same address, one at a time,
  // so the cameras never look as if they moved.
  const from = { ip: "127.0.0.1", port: await freeUdpPort("127.0.0.1") };
  const startLoad = (rate: number) =>
    spawnProc("load", JSON.stringify({ to: register, rate, uids: CAMERAS - 1, from }));
  let steady = await startLoad((CAMERAS - 1) / CAMERA_INTERVAL_S);
  await sleep(STEADY_S * 1000);

  const sweep: string[] = [];
  for (const rate of SWEEP) {
    await steady.stop();
    phase = `sweep ${rate}`;
    const dropsBefore = udpDrops(ports.register);
    const load = await startLoad(rate);
    await sleep(STEP_S * 1000);
    await load.stop();
    const { sent, received } = JSON.parse(load.latest()!);
    const drops = udpDrops(ports.register) - dropsBefore;
    sweep.push(`${rate}/s: ${sent - received} of ${sent} lost (${drops} at the server's socket)`);
    steady = await startLoad((CAMERAS - 1) / CAMERA_INTERVAL_S);
  }
  loads.push(steady);
  phase = "after sweep";
  await sleep(SETTLE_S * 1000);

  phase = "flood";
  const hbBefore = camera.all("R2D_HB_R").length;
  const wakesBefore = new Set(camera.wakes.map((w) => w.message.fields.sid)).size;
  let heartbeats = 0;
  let wakes = 0;
  const heartbeating = setInterval(() => {
    heartbeats++;
    camera.send(camera.heartbeatMessage(1), register).catch(() => {});
  }, 100);
  const waking = setInterval(() => {
    wakes++;
    client.send(client.connectMessage(REAL_UID.slice(0, 16), register), register).catch(() => {});
  }, 1500);
  const floodDropsBefore = udpDrops(ports.register);
  const cpuBefore = cpuSeconds(serve.pid);
  const flood = await spawnProc(
    "flood",
    JSON.stringify({ to: register, rate: FLOOD_RATE, sources: SOURCES, seed: 14 }),
  );
  await sleep(FLOOD_S * 1000);
  await flood.stop();
  const floodDrops = udpDrops(ports.register) - floodDropsBefore;
  const floodCpu = (cpuSeconds(serve.pid) - cpuBefore) / FLOOD_S;
  clearInterval(heartbeating);
  clearInterval(waking);
  phase = "after flood";
  await sleep(SETTLE_S * 1000);
  const answered = camera.all("R2D_HB_R").length - hbBefore;
  const woken = new Set(camera.wakes.map((w) => w.message.fields.sid)).size - wakesBefore;
  const cameras = await (await fetch(`http://${ip}:${ports.api}/api/cameras`)).json();
  const listed = JSON.stringify(cameras).includes(REAL_UID);

  const overall = Math.max(...samples.map((s) => s.rss));
  console.log(
    `serve: ${entry.what}; ${
      entry.flags.filter((f) => f.startsWith("--v8")).join(" ") || "(V8 defaults)"
    }${broker ? "; MQTT bridge on" : ""}`,
  );
  console.log(`idle ${fmt(phaseMax("idle"))} MB`);
  console.log(
    `1,024 cameras heartbeating every ${CAMERA_INTERVAL_S} s (${STEADY_S} s): ` +
      `max ${fmt(phaseMax("cameras"))} MB`,
  );
  for (const [i, rate] of SWEEP.entries()) {
    console.log(`sweep ${sweep[i]}; max ${fmt(phaseMax(`sweep ${rate}`))} MB`);
  }
  console.log(
    `after sweep: max ${fmt(phaseMax("after sweep"))}, last ${fmt(phaseLast("after sweep"))} MB`,
  );
  const floodSent = JSON.parse(flood.latest()!).sent;
  console.log(
    `flood ${floodSent} datagrams in ${FLOOD_S} s (${Math.round(floodSent / FLOOD_S)}/s, ` +
      `${SOURCES} sources; ${floodDrops} dropped at the server's socket; serve used ` +
      `${Math.round(100 * floodCpu)}% of a core): max ` +
      `${fmt(phaseMax("flood"))} MB; after: max ` +
      `${fmt(phaseMax("after flood"))}, last ${fmt(phaseLast("after flood"))} MB`,
  );
  console.log(
    `during the flood: real camera heartbeats answered ${answered} of ${heartbeats} ` +
      `(${(100 * answered / heartbeats).toFixed(2)}%), wakes delivered ${woken} of ${wakes}; ` +
      `registry max ${registryMax} (max_cameras ${CAMERAS}); real camera listed after: ${listed}`,
  );
  console.log(`max RSS at any point: ${fmt(overall)} MB; serve log lines: ${logLines}`);
  console.log(
    `timeline (s: MB): ${
      samples.filter((_, i) => i % 2 === 0).map((s) => `${Math.round(s.t)}:${fmt(s.rss)}`).join(
        " ",
      )
    }`,
  );
} finally {
  clearInterval(sampler);
  clearInterval(registryPoll);
  for (const load of loads) await load.stop();
  await camera.close();
  await client.close();
  serve.kill("SIGTERM");
  await serve.status;
  await reading;
  await broker?.dispose();
  await Deno.remove(stateDir, { recursive: true });
  await entry.remove();
}
