/**
 * The motion path end to end, in-process: a real service (wake server, push listener, API,
 * MQTT bridge), a real Mosquitto, simulated cameras on their own loopback addresses that
 * register over UDP and then connect to the push port over TCP.
 */

import assert from "node:assert/strict";
import type { Config } from "../lib/config.ts";
import type { Service, ServiceDeps } from "../lib/serve/service.ts";
import { STATE_FILE_NAME } from "../lib/wake/mod.ts";
import { parseState, serializeState } from "../lib/wake/state.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { freePort, type Mosquitto, startMosquitto, Subscriber } from "./support/mosquitto.ts";
import { sendPush } from "./support/push_client.ts";
import { startServiceFixture } from "./support/service_fixture.ts";

const GARDEN_UID = "95270000ABCDEFGH0123";
const GARDEN_SHORT = "95270000ABCDEFGH";
const DRIVEWAY_UID = "95270000DRIVEWAY0456";
const BURST = 3;

interface Setup {
  service: Service;
  /** With `mqtt: "start"`: the broker the test started and a subscriber on everything. */
  broker?: Mosquitto;
  sub?: Subscriber;
  push: { port: number };
  cameras: Map<string, CameraSim>;
  // deno-lint-ignore no-explicit-any
  api(path: string): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

/**
 * A service on loopback with push (hold 1 s) and booted cameras; `mqtt: "start"` starts a
 * broker and a subscriber for it, an address points the bridge at a broker the test owns.
 */
async function setup(options: {
  mqtt?: "start" | { host: string; port: number };
  credentials?: { username: string; password: string };
  cameras?: { uid: string; ip: string }[];
  wakeOnMotion?: boolean;
  deps?: ServiceDeps;
  configured?: Config["cameras"];
}): Promise<Setup> {
  const broker = options.mqtt === "start" ? await startMosquitto() : undefined;
  const sub = broker ? await Subscriber.connect(broker) : undefined;
  const brokerAddress = broker ?? (options.mqtt === "start" ? undefined : options.mqtt);
  const fixture = await startServiceFixture({
    wakeServer: { burstCount: BURST, burstIntervalMs: 20 },
    cameras: options.configured ?? [],
    push: { motionHoldSecs: 1, wakeOnMotion: options.wakeOnMotion ?? true },
    mqtt: {
      brokerAddr: brokerAddress?.host ?? null,
      port: brokerAddress?.port ?? 1883,
      credentials: options.credentials ?? null,
    },
    deps: options.deps,
  });
  const service = fixture.service;
  const cameras = new Map<string, CameraSim>();
  try {
    for (const { uid, ip } of options.cameras ?? []) {
      const camera = await CameraSim.start({ uid, ip, middleman: service.wake!.middleman });
      cameras.set(uid, camera);
      await camera.boot();
    }
  } catch (error) {
    for (const camera of cameras.values()) await camera.close();
    await fixture.close();
    await sub?.close();
    await broker?.dispose();
    throw error;
  }
  return {
    service,
    broker,
    sub,
    push: { port: service.motion!.push!.address.port },
    cameras,
    async api(path) {
      const reply = await fixture.call("GET", path);
      return { status: reply.status, json: reply.json };
    },
    async close() {
      for (const camera of cameras.values()) await camera.close();
      await fixture.close();
      await sub?.close();
      await broker?.dispose();
    },
  };
}

/** One unconfigured camera on 127.0.0.5 and a broker whose subscriber has seen it registered. */
async function gardenOnBroker(): Promise<{ s: Setup; sub: Subscriber }> {
  const s = await setup({ mqtt: "start", cameras: [{ uid: GARDEN_UID, ip: "127.0.0.5" }] });
  try {
    await s.sub!.waitForPayload(`bairelay/${GARDEN_UID}/status/registered`, "on");
  } catch (error) {
    await s.close();
    throw error;
  }
  return { s, sub: s.sub! };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("a push turns motion on for the right camera, then off after the hold", async () => {
  const s = await setup({
    mqtt: "start",
    cameras: [{ uid: GARDEN_UID, ip: "127.0.0.5" }, { uid: DRIVEWAY_UID, ip: "127.0.0.6" }],
    configured: [{ name: "garden", uid: GARDEN_SHORT }],
  });
  const sub = s.sub!;
  try {
    const motion = "bairelay/garden/status/motion";
    await sub.waitForPayload("bairelay/garden/status/registered", "on");
    await sub.waitForPayload(`bairelay/${DRIVEWAY_UID}/status/registered`, "on");
    const before = sub.messages.length;
    const pushedAt = Date.now();
    await sendPush({ from: "127.0.0.5", port: s.push.port, sni: "pushx.reolink.com" });
    await sub.waitForPayload(motion, "on", { from: before });
    await sub.waitForPayload(motion, "off", { from: before, timeoutMs: 3000 });
    const offAfter = Date.now() - pushedAt;
    assert.ok(offAfter >= 950, `off came ${offAfter} ms after the push, the hold is 1 s`);
    assert.deepEqual(sub.payloads(`bairelay/${DRIVEWAY_UID}/status/motion`), ["off"]);

    // The registry and the API know about it.
    const cameras = (await s.api("/api/cameras")).json.cameras as Record<string, unknown>[];
    const garden = cameras.find((c) => c.uid === GARDEN_UID)!;
    assert.ok(Date.parse(garden.last_motion as string) >= pushedAt - 5);
    assert.equal(cameras.find((c) => c.uid === DRIVEWAY_UID)!.last_motion, null);
    const events = (await s.api("/api/events")).json.events as Record<string, unknown>[];
    const motions = events.filter((e) => e.type === "motion");
    assert.deepEqual(motions.map((e) => [e.uid, e.name, e.motion]), [
      [GARDEN_UID, "garden", false],
      [GARDEN_UID, "garden", true],
    ]);
    assert.ok(events.some((e) => e.type === "wake" && e.source === "motion"));
    assert.equal((await s.api("/api/events?limit=1")).json.events.length, 1);
    assert.equal((await s.api("/api/events?limit=-1")).status, 400);
  } finally {
    await s.close();
  }
});

Deno.test("repeated pushes extend the hold without flicker", async () => {
  const { s, sub } = await gardenOnBroker();
  try {
    const motion = `bairelay/${GARDEN_UID}/status/motion`;
    const before = sub.messages.length;
    let lastPush = 0;
    for (let i = 0; i < 5; i++) {
      lastPush = Date.now(); // the motion fires on accept, before sendPush returns
      await sendPush({ from: "127.0.0.5", port: s.push.port });
      await sleep(400); // well inside the 1 s hold
    }
    await sub.waitForPayload(motion, "off", { from: before, timeoutMs: 3000 });
    const offLag = Date.now() - lastPush;
    assert.ok(offLag >= 950, `off ${offLag} ms after the last push`);
    const payloads = sub.messages.slice(before).filter((m) => m.topic === motion).map((m) =>
      m.payload
    );
    assert.deepEqual(payloads, ["on", "off"], "one on, one off, nothing in between");
  } finally {
    await s.close();
  }
});

Deno.test("a push from an unregistered IP produces nothing", async () => {
  const { s, sub } = await gardenOnBroker();
  try {
    await sendPush({ from: "127.0.0.9", port: s.push.port, sni: "pushx.reolink.com" });
    const counter = s.service.metrics.counter("bairelay_push_connections_total", "");
    await until(() => counter.get({ result: "unknown_ip" }) === 1, "unknown_ip counted");
    await sleep(200);
    assert.ok(!sub.messages.some((m) => m.topic.endsWith("/motion") && m.payload === "on"));
    assert.equal(s.cameras.get(GARDEN_UID)!.wakes.length, 0);
    const events = (await s.api("/api/events")).json.events as { type: string }[];
    assert.deepEqual(events.map((e) => e.type), ["registered"], "no motion, no wake");
    const metrics = await (await fetch(
      `http://127.0.0.1:${s.service.api!.address.port}/metrics`,
    )).text();
    assert.match(metrics, /bairelay_push_connections_total\{result="unknown_ip"\} 1/);
  } finally {
    await s.close();
  }
});

Deno.test("a stale camera reads registered off on MQTT and its pushes produce nothing", async () => {
  let skew = 0;
  const s = await setup({
    mqtt: "start",
    cameras: [{ uid: GARDEN_UID, ip: "127.0.0.5" }],
    deps: { now: () => Date.now() + skew },
  });
  const sub = s.sub!;
  try {
    const registered = `bairelay/${GARDEN_UID}/status/registered`;
    await sub.waitForPayload(registered, "on");
    skew = s.service.wake!.registry.staleAfterMs + 1000; // the heartbeat is now too old
    await sub.waitForPayload(registered, "off", { from: sub.messages.length });
    await sendPush({ from: "127.0.0.5", port: s.push.port });
    const counter = s.service.metrics.counter("bairelay_push_connections_total", "");
    await until(() => counter.get({ result: "unknown_ip" }) === 1, "stale camera not matched");
    assert.equal(counter.get({ result: "motion" }), 0);
    await sleep(150);
    assert.equal(s.cameras.get(GARDEN_UID)!.wakes.length, 0);
    assert.deepEqual(s.service.events!.list().map((e) => e.type), ["stale", "registered"]);
    assert.ok(!sub.messages.some((m) => m.topic.endsWith("/motion") && m.payload === "on"));
  } finally {
    await s.close();
  }
});

Deno.test("wake_on_motion sends the camera a wake burst; off sends none", async () => {
  const s = await setup({
    cameras: [{ uid: GARDEN_UID, ip: "127.0.0.5" }, { uid: DRIVEWAY_UID, ip: "127.0.0.6" }],
  });
  try {
    await sendPush({ from: "127.0.0.5", port: s.push.port });
    const wakes = await s.cameras.get(GARDEN_UID)!.waitForWakes(BURST);
    assert.equal(wakes.length, BURST);
    assert.equal(s.cameras.get(DRIVEWAY_UID)!.wakes.length, 0);
  } finally {
    await s.close();
  }
  const quiet = await setup({
    cameras: [{ uid: GARDEN_UID, ip: "127.0.0.5" }],
    wakeOnMotion: false,
  });
  try {
    await sendPush({ from: "127.0.0.5", port: quiet.push.port });
    await until(
      () => quiet.service.events!.list().some((e) => e.type === "motion"),
      "motion on",
    );
    await sleep(200);
    assert.equal(quiet.cameras.get(GARDEN_UID)!.wakes.length, 0);
  } finally {
    await quiet.close();
  }
});

Deno.test("control/wakeup over MQTT sends the wake burst", async () => {
  const s = await setup({
    mqtt: "start",
    cameras: [{ uid: GARDEN_UID, ip: "127.0.0.5" }, { uid: DRIVEWAY_UID, ip: "127.0.0.6" }],
    configured: [{ name: "garden", uid: GARDEN_SHORT }],
  });
  const sub = s.sub!;
  try {
    await sub.waitForPayload("bairelay/garden/status/registered", "on");
    await sub.publish("bairelay/garden/control/wakeup", "wake");
    assert.equal((await s.cameras.get(GARDEN_UID)!.waitForWakes(BURST)).length, BURST);
    await sub.publish(`bairelay/${DRIVEWAY_UID}/control/wakeup`, "");
    assert.equal((await s.cameras.get(DRIVEWAY_UID)!.waitForWakes(BURST)).length, BURST);
    // A target nobody knows is refused (counted, no event: it is no camera) and the bridge
    // carries on.
    await sub.publish("bairelay/nobody/control/wakeup", "");
    const wakes = s.service.metrics.counter("bairelay_wakes_total", "");
    await until(() => wakes.get({ result: "unknown" }) === 1, "refused wake counted");
    assert.ok(!s.service.events!.list().some((e) => e.uid === "nobody"));
    assert.equal(s.service.bridge!.status().connection, "connected");
  } finally {
    await s.close();
  }
});

Deno.test("a registered camera's device message; motion and wakes reach its MQTT topics", async () => {
  const s = await setup({ mqtt: "start", cameras: [{ uid: DRIVEWAY_UID, ip: "127.0.0.6" }] });
  const sub = s.sub!;
  try {
    const node = `bairelay_${DRIVEWAY_UID}`;
    const topic = `homeassistant/device/${node}/config`;
    const config = JSON.parse((await sub.waitFor((m) => m.topic === topic, topic)).payload);
    assert.deepEqual(config.dev.identifiers, [node]);
    assert.equal(config.dev.manufacturer, "Reolink");
    assert.deepEqual(Object.keys(config.cmps).sort(), [
      "last_heartbeat",
      "last_motion",
      "last_wake",
      "last_woken_by",
      "motion",
      "motion_today",
      "registered",
      "wake",
      "wakes",
      "wakes_today",
    ]);
    // A push is motion, and motion wakes the camera (wake_on_motion): both reach MQTT.
    await sendPush({ from: "127.0.0.6", port: s.push.port });
    const state = (what: string) => `bairelay/${DRIVEWAY_UID}/status/${what}`;
    await sub.waitForPayload(state("motion"), "on");
    await sub.waitForPayload(state("wakes"), "1");
    const lastMotion = await sub.waitFor((m) => m.topic === state("last_motion"), "last motion");
    const lastWake = await sub.waitFor((m) => m.topic === state("last_wake"), "last wake");
    for (const { payload } of [lastMotion, lastWake]) {
      assert.ok(Math.abs(Date.parse(payload) - Date.now()) < 10_000, payload);
    }
    // The day's sensors follow the camera's history: one motion, one wake, woken by motion.
    await sub.waitForPayload(state("motion_today"), "1");
    await sub.waitForPayload(state("wakes_today"), "1");
    await sub.waitForPayload(state("last_woken_by"), "motion");
  } finally {
    await s.close();
  }
});

Deno.test("broker restarted mid-test: motion during the outage is visible after reconnect", async () => {
  // A persistent broker and session, as in production: the watcher misses nothing it is sent.
  const broker = await startMosquitto({ persistent: true });
  const session = { clientId: "push-test-watcher", clean: false };
  let sub = await Subscriber.connect(broker, "bairelay/#", session);
  const s = await setup({ mqtt: broker, cameras: [{ uid: GARDEN_UID, ip: "127.0.0.5" }] });
  const bridge = s.service.bridge!;
  const motion = `bairelay/${GARDEN_UID}/status/motion`;
  try {
    await sub.waitForPayload(`bairelay/${GARDEN_UID}/status/registered`, "on");
    await broker.stop();
    await sub.close();
    await until(() => bridge.status().connection !== "connected", "bridge sees the outage");
    await sendPush({ from: "127.0.0.5", port: s.push.port }); // motion while the broker is down
    assert.equal((await s.cameras.get(GARDEN_UID)!.waitForWakes(BURST)).length, BURST);
    await until(
      () => s.service.events!.list().some((e) => e.type === "motion" && !e.motion),
      "the motion (hold 1 s) ending before the broker is back",
    );
    await broker.start();
    sub = await Subscriber.connect(broker, "bairelay/#", session);
    await until(() => bridge.status().connection === "connected", "reconnected", 8000);
    const on = await sub.waitForPayload(motion, "on");
    await sub.waitForPayload(motion, "off", { from: sub.messages.indexOf(on) });
    await sub.waitForPayload("bairelay/status", "online");
  } finally {
    await sub.close();
    await s.close();
    await broker.dispose();
  }
});

Deno.test("no broker at all: serve still records motion and wakes", async () => {
  const s = await setup({
    mqtt: { host: "127.0.0.1", port: freePort() },
    cameras: [{ uid: GARDEN_UID, ip: "127.0.0.5" }],
  });
  try {
    await sendPush({ from: "127.0.0.5", port: s.push.port });
    assert.equal((await s.cameras.get(GARDEN_UID)!.waitForWakes(BURST)).length, BURST);
    const events = s.service.events!.list();
    assert.ok(events.some((e) => e.type === "motion" && e.motion));
    assert.notEqual(s.service.bridge!.status().connection, "connected");
    assert.match(s.service.bridge!.status().lastError ?? "", /unreachable/);
  } finally {
    await s.close();
  }
});

Deno.test("bad MQTT credentials: a clear error naming the broker, serve keeps working", async () => {
  const broker: Mosquitto = await startMosquitto({ users: { ha: "secret" } });
  const s = await setup({
    mqtt: broker,
    credentials: { username: "ha", password: "wrong" },
    cameras: [{ uid: GARDEN_UID, ip: "127.0.0.5" }],
  });
  try {
    const bridge = s.service.bridge!;
    await until(() => bridge.status().lastError !== undefined, "auth error");
    assert.match(
      bridge.status().lastError!,
      new RegExp(`broker mqtt://127\\.0\\.0\\.1:${broker.port} refused the login \\(user "ha"\\)`),
    );
    await sendPush({ from: "127.0.0.5", port: s.push.port });
    assert.equal((await s.cameras.get(GARDEN_UID)!.waitForWakes(BURST)).length, BURST);
  } finally {
    await s.close();
    await broker.dispose();
  }
});

Deno.test("a camera's last motion reaches the state file without waiting for a heartbeat", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "bairelay-push-state-" });
  try {
    // A camera restored from the state file: nothing is pending for the state writer, and no
    // heartbeat comes before the service stops.
    const at = Date.now();
    const camera = {
      uid: GARDEN_UID,
      address: { ip: "127.0.0.5", port: 5000 },
      firstSeen: at,
      lastHeartbeat: at,
      wakes: 0,
    };
    await Deno.writeTextFile(`${stateDir}/${STATE_FILE_NAME}`, serializeState([camera], at));
    const fixture = await startServiceFixture({ stateDir, push: { wakeOnMotion: false } });
    let motionAt: number | undefined;
    try {
      await sendPush({ from: "127.0.0.5", port: fixture.service.motion!.push!.address.port });
      await until(
        () => fixture.service.events!.list().some((e) => e.type === "motion"),
        "motion on",
      );
      motionAt = fixture.service.events!.list().find((e) => e.type === "motion")!.at;
    } finally {
      await fixture.close();
    }
    const saved = parseState(await Deno.readTextFile(`${stateDir}/${STATE_FILE_NAME}`));
    assert.equal(saved[0].lastMotion, motionAt);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});
