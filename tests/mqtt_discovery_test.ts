/**
 * Home Assistant discovery, device-based, against a real Mosquitto: what the broker keeps
 * (retained topics) after start, after a camera registers, after it goes stale, after a
 * configured name is added and after the migration from the per-entity format of earlier builds;
 * what each entity's availability depends on; the wake count's window.
 */

import assert from "node:assert/strict";
import mqtt from "mqtt";
import { MqttBridge, type MqttBridgeOptions } from "../lib/mqtt/bridge.ts";
import {
  bridgeDiscovery,
  cameraDiscovery,
  MIGRATE_PAYLOAD,
  statusUrl,
} from "../lib/mqtt/discovery.ts";
import { MAX_STATE_TEXT } from "../lib/mqtt/camera_states.ts";
import { Topics } from "../lib/mqtt/topics.ts";
import type { CameraDaySummary } from "../lib/history/store.ts";
import { VERSION } from "../lib/version.ts";
import { type Mosquitto, type Received, startMosquitto, Subscriber } from "./support/mosquitto.ts";

const GARDEN = { uid: "95270000ABCDEFGH", name: "garden" };
const NODE = "bairelay_95270000ABCDEFGH";
const BRIDGE_NODE = "bairelay_bridge_bairelay";
const STATUS_URL = "http://192.0.2.10:9899/";
const wake = () => ({ result: "started" });

function options(broker: Mosquitto, extra: Partial<MqttBridgeOptions> = {}): MqttBridgeOptions {
  return {
    brokerAddr: broker.host,
    port: broker.port,
    topicPrefix: "bairelay",
    discoveryTopic: "homeassistant",
    statusUrl: STATUS_URL,
    reconnectInitialMs: 100,
    ...extra,
  };
}

/**
 * Every retained message on the broker, topic to payload: a fresh subscriber on `#`, then a
 * live message of its own, which the broker delivers after every retained one it queued for
 * the subscription.
 */
async function retained(broker: Mosquitto): Promise<Record<string, string>> {
  const sub = await Subscriber.connect(broker);
  try {
    const barrier = `test/barrier/${crypto.randomUUID()}`;
    await sub.publish(barrier, "");
    await sub.waitFor((m) => m.topic === barrier, "the barrier");
    return Object.fromEntries(
      sub.messages.filter((m) => m.retain).map((m) => [m.topic, m.payload]),
    );
  } finally {
    await sub.close();
  }
}

/** Waits until `topic` is retained with `payload` (or just retained, when payload is null). */
async function retainedUntil(
  broker: Mosquitto,
  expected: Record<string, string | null>,
): Promise<Record<string, string>> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const now = await retained(broker);
    const ok = Object.entries(expected).every(([topic, payload]) =>
      payload === null ? topic in now : now[topic] === payload
    );
    if (ok) return now;
    if (Date.now() > deadline) {
      throw new Error(
        `retained topics never matched ${JSON.stringify(expected)}: ${
          JSON.stringify(now, null, 1)
        }`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const DEVICE_TOPIC = `homeassistant/device/${NODE}/config`;
const BRIDGE_TOPIC = `homeassistant/device/${BRIDGE_NODE}/config`;

Deno.test("retained topics: at start, registered, with motion and a wake, stale", async () => {
  const broker = await startMosquitto();
  const bridge = MqttBridge.start(options(broker), { wake });
  bridge.declare(GARDEN);
  try {
    // A configured camera that never registered: its device, registered off, no times yet.
    let now = await retainedUntil(broker, {
      "bairelay/status": "online",
      [DEVICE_TOPIC]: null,
      "bairelay/garden/status/wakes": "0",
    });
    const atStart = [
      "bairelay/cameras_registered",
      "bairelay/garden/status/motion",
      "bairelay/garden/status/registered",
      "bairelay/garden/status/wakes",
      "bairelay/status",
      BRIDGE_TOPIC,
      DEVICE_TOPIC,
    ];
    assert.deepEqual(Object.keys(now).sort(), atStart.sort());
    assert.equal(now["bairelay/cameras_registered"], "0");
    assert.equal(now["bairelay/garden/status/registered"], "off");
    assert.equal(now["bairelay/garden/status/motion"], "off");
    assert.equal(now[BRIDGE_TOPIC], bridgeDiscovery(context()).payload);
    assert.equal(
      now[DEVICE_TOPIC],
      cameraDiscovery({ ...GARDEN, segment: "garden" }, context()).payload,
    );

    // It registers.
    const at = Date.UTC(2026, 10, 29, 4, 0, 0);
    bridge.setHeartbeat(GARDEN, at);
    now = await retainedUntil(broker, {
      "bairelay/garden/status/registered": "on",
      "bairelay/cameras_registered": "1",
      "bairelay/garden/status/last_heartbeat": "2026-11-29T04:00:00.000Z",
    });

    // Motion, and a wake.
    bridge.setMotion(GARDEN, true, at + 1000);
    bridge.recordWake(GARDEN, Date.now());
    now = await retainedUntil(broker, {
      "bairelay/garden/status/motion": "on",
      "bairelay/garden/status/last_motion": "2026-11-29T04:00:01.000Z",
      "bairelay/garden/status/wakes": "1",
      "bairelay/garden/status/last_wake": null,
    });

    // It goes stale: registered off, one camera fewer registered, the times stay.
    bridge.setMotion(GARDEN, false);
    bridge.setRegistered(GARDEN, false);
    now = await retainedUntil(broker, {
      "bairelay/garden/status/registered": "off",
      "bairelay/cameras_registered": "0",
      "bairelay/garden/status/motion": "off",
    });
    const times = ["last_heartbeat", "last_motion", "last_wake"].map((t) =>
      `bairelay/garden/status/${t}`
    );
    assert.deepEqual(Object.keys(now).sort(), [...atStart, ...times].sort());
    assert.equal(now["bairelay/garden/status/last_motion"], "2026-11-29T04:00:01.000Z");
  } finally {
    await bridge.close();
    await broker.dispose();
  }
});

function context() {
  return {
    topics: new Topics("bairelay"),
    discoveryPrefix: "homeassistant",
    statusUrl: STATUS_URL,
  };
}

Deno.test("the device message: dev, o, cmps, qos, ids, availability per entity", () => {
  const { topic, payload } = cameraDiscovery({ ...GARDEN, segment: "garden" }, context());
  assert.equal(topic, DEVICE_TOPIC);
  const config = JSON.parse(payload);
  assert.deepEqual(config.dev, {
    identifiers: [NODE],
    name: "garden",
    manufacturer: "Reolink",
    model: "Battery camera",
    serial_number: GARDEN.uid,
    via_device: BRIDGE_NODE,
  });
  assert.deepEqual(config.o, { name: "bairelay", sw_version: VERSION, support_url: STATUS_URL });
  assert.equal(config.qos, 1);
  const bridgeOnline = {
    topic: "bairelay/status",
    payload_available: "online",
    payload_not_available: "offline",
  };
  assert.deepEqual(config.availability, [bridgeOnline]);
  const platforms: Record<string, string> = {
    motion: "binary_sensor",
    registered: "binary_sensor",
    wake: "button",
    last_heartbeat: "sensor",
    last_motion: "sensor",
    wakes: "sensor",
    last_wake: "sensor",
    wakes_today: "sensor",
    motion_today: "sensor",
    last_woken_by: "sensor",
  };
  assert.deepEqual(Object.keys(config.cmps).sort(), Object.keys(platforms).sort());
  for (const [key, entity] of Object.entries(config.cmps) as [string, Record<string, unknown>][]) {
    assert.equal(entity.p, platforms[key]);
    // The unique_id of the old per-entity message: Home Assistant keeps the entity.
    assert.equal(entity.unique_id, `${NODE}_${key}`);
    // The same readable entity id for new entities on Home Assistant before 2025.10
    // (object_id) and after (default_entity_id): from the configured name.
    assert.equal(entity.default_entity_id, `${platforms[key]}.garden_${key}`);
    assert.equal(entity.object_id, `garden_${key}`);
    // Home Assistant before 2026.5 reads qos only from the component.
    assert.equal(entity.qos, 1, `${key}: qos in the component`);
  }
  // Motion and Wake need the camera registered too; the rest only the bridge (root level).
  const registered = {
    topic: "bairelay/garden/status/registered",
    payload_available: "on",
    payload_not_available: "off",
  };
  for (const key of ["motion", "wake"]) {
    assert.deepEqual(config.cmps[key].availability, [bridgeOnline, registered]);
    assert.equal(config.cmps[key].availability_mode, "all");
  }
  for (const key of Object.keys(platforms).filter((key) => key !== "motion" && key !== "wake")) {
    assert.equal(config.cmps[key].availability, undefined, key);
  }
  assert.equal(config.cmps.motion.device_class, "motion");
  assert.equal(config.cmps.registered.device_class, "connectivity");
  assert.equal(config.cmps.wake.command_topic, "bairelay/garden/control/wakeup");
  for (const key of ["last_heartbeat", "last_motion", "last_wake"]) {
    assert.equal(config.cmps[key].device_class, "timestamp");
    assert.equal(config.cmps[key].state_topic, `bairelay/garden/status/${key}`);
  }
  assert.equal(config.cmps.wakes.name, "Wakes in the last hour");
  assert.equal(config.cmps.wakes.state_class, "measurement");
  // The day from the history: counts that start again at midnight, and who woke it last.
  assert.equal(config.cmps.wakes_today.name, "Wakes today");
  assert.equal(config.cmps.motion_today.name, "Motion today");
  for (const key of ["wakes_today", "motion_today"]) {
    assert.equal(config.cmps[key].state_class, "total_increasing", key);
    assert.equal(config.cmps[key].state_topic, `bairelay/garden/status/${key}`);
  }
  assert.equal(config.cmps.last_woken_by.name, "Last woken by");
  assert.equal(config.cmps.last_woken_by.state_topic, "bairelay/garden/status/last_woken_by");
  assert.equal(
    config.cmps.last_woken_by.json_attributes_topic,
    "bairelay/garden/status/last_woken_by_attributes",
  );
  // No component evaluates what it reads: a requester's label stays text.
  for (const [key, entity] of Object.entries(config.cmps) as [string, object][]) {
    assert.ok(!Object.keys(entity).some((name) => name.endsWith("template")), key);
  }

  const bridge = JSON.parse(bridgeDiscovery(context()).payload);
  assert.deepEqual(bridge.dev.identifiers, [BRIDGE_NODE]);
  assert.equal(bridge.dev.sw_version, VERSION);
  assert.equal(bridge.dev.configuration_url, STATUS_URL);
  assert.equal(bridge.qos, 1);
  assert.equal(bridge.cmps.cameras_registered.state_topic, "bairelay/cameras_registered");
  assert.deepEqual(bridge.cmps.cameras_registered.availability, [bridgeOnline]);
  assert.equal(
    bridge.cmps.cameras_registered.default_entity_id,
    "sensor.bairelay_cameras_registered",
  );
  assert.equal(bridge.cmps.cameras_registered.object_id, "bairelay_cameras_registered");
  assert.equal(bridge.cmps.cameras_registered.unique_id, `${BRIDGE_NODE}_cameras_registered`);
  // Whether bairelay itself is connected: the availability topic (and last will) as a
  // connectivity sensor that stays available, so "offline" reads as disconnected.
  assert.deepEqual(bridge.cmps.status, {
    p: "binary_sensor",
    unique_id: `${BRIDGE_NODE}_status`,
    default_entity_id: "binary_sensor.bairelay_status",
    object_id: "bairelay_status",
    qos: 1,
    name: "Status",
    device_class: "connectivity",
    entity_category: "diagnostic",
    state_topic: "bairelay/status",
    payload_on: "online",
    payload_off: "offline",
  });
  assert.equal(bridge.availability, undefined, "no shared availability: Status has none");
  for (const [key, entity] of Object.entries(bridge.cmps) as [string, { qos: number }][]) {
    assert.equal(entity.qos, 1, `${key}: qos in the component`);
  }
  // Without a reachable API there is no link at all.
  const offline = JSON.parse(bridgeDiscovery({ ...context(), statusUrl: null }).payload);
  assert.equal(offline.dev.configuration_url, undefined);
  assert.equal(offline.o.support_url, undefined);
});

Deno.test("statusUrl: the status page at the API's address, an advertised one for a wildcard, loopback last", () => {
  assert.equal(statusUrl(null, ["192.0.2.10"]), null);
  assert.equal(statusUrl({ host: "0.0.0.0", port: 0 }, ["192.0.2.10"]), null);
  assert.equal(
    statusUrl({ host: "0.0.0.0", port: 9899 }, ["192.0.2.10", "198.51.100.1"]),
    "http://192.0.2.10:9899/",
  );
  assert.equal(statusUrl({ host: "::", port: 9899 }, []), "http://127.0.0.1:9899/");
  assert.equal(
    statusUrl({ host: "127.0.0.1", port: 9899 }, ["192.0.2.10"]),
    "http://127.0.0.1:9899/",
  );
  assert.equal(statusUrl({ host: "fd00::2", port: 80 }, []), "http://[fd00::2]:80/");
});

/** The per-entity discovery messages earlier builds published for a camera, as it did. */
function legacyMessages(uid: string, segment: string, name: string, prefix = "bairelay") {
  const node = `bairelay_${uid}`;
  const common = {
    availability_topic: `${prefix}/status`,
    payload_available: "online",
    payload_not_available: "offline",
    device: {
      identifiers: [node],
      name,
      manufacturer: "Reolink",
      model: "Battery camera",
      serial_number: uid,
    },
    origin: { name: "bairelay", sw_version: "0.1.0" },
  };
  const state = (what: string) => `${prefix}/${segment}/status/${what}`;
  const entities: [string, string, Record<string, unknown>][] = [
    ["binary_sensor", "motion", {
      name: "Motion",
      device_class: "motion",
      state_topic: state("motion"),
    }],
    ["binary_sensor", "registered", { name: "Registered", state_topic: state("registered") }],
    ["button", "wake", { name: "Wake", command_topic: `${prefix}/${segment}/control/wakeup` }],
    ["sensor", "last_heartbeat", { name: "Last heartbeat", state_topic: state("last_heartbeat") }],
  ];
  return entities.map(([component, object, config]) => ({
    topic: `homeassistant/${component}/${node}/${object}/config`,
    payload: JSON.stringify({ ...config, unique_id: `${node}_${object}`, ...common }),
  }));
}

Deno.test("migration from earlier per-entity messages follows Home Assistant's procedure", async () => {
  const broker = await startMosquitto();
  const seed = await Subscriber.connect(broker, "nothing/#");
  const watcher = await Subscriber.connect(broker, "homeassistant/#");
  const known = legacyMessages(GARDEN.uid, "garden", "garden");
  const unknown = legacyMessages("95270000GONEAWAY", "95270000GONEAWAY", "95270000GONEAWAY");
  const otherBridge = legacyMessages("95270000OTHERINS", "cam", "cam", "elsewhere");
  const foreign = { topic: "homeassistant/binary_sensor/zigbee_1/motion/config", payload: "{}" };
  try {
    for (const { topic, payload } of [...known, ...unknown, ...otherBridge, foreign]) {
      await seed.publish(topic, payload, true);
    }
    await retainedUntil(broker, { [known[3].topic]: null, [foreign.topic]: "{}" });

    const bridge = MqttBridge.start(options(broker), { wake });
    bridge.declare(GARDEN);
    try {
      const after = await retainedUntil(broker, { [DEVICE_TOPIC]: null });
      await waitUntilGone(broker, [...known, ...unknown].map((m) => m.topic));
      const now = await retained(broker);
      // What is left under homeassistant/: the two devices, and what is not this bridge's.
      assert.deepEqual(
        Object.keys(now).filter((t) => t.startsWith("homeassistant/")).sort(),
        [BRIDGE_TOPIC, DEVICE_TOPIC, ...otherBridge.map((m) => m.topic), foreign.topic].sort(),
      );
      assert.ok(after[DEVICE_TOPIC]);

      // The order Home Assistant needs, per old topic: migrate_discovery (not retained), then
      // the device message holding the entity, then the empty retained payload.
      const log = watcher.messages;
      for (const { topic } of known) {
        const migrate = log.findIndex((m) => m.topic === topic && m.payload === MIGRATE_PAYLOAD);
        assert.ok(migrate >= 0, `migrate_discovery sent to ${topic}`);
        const device = log.findIndex((m, i) => i > migrate && m.topic === DEVICE_TOPIC);
        assert.ok(device > migrate, `device message after migrate_discovery on ${topic}`);
        const cleared = log.findIndex((m, i) =>
          i > device && m.topic === topic && m.payload === ""
        );
        assert.ok(cleared > device, `${topic} cleared after the device message`);
      }
      // The device message never comes before a migrate_discovery (Home Assistant would call
      // it a conflict), and the bridge device comes before the camera that names it.
      const firstDevice = log.findIndex((m) => m.topic === DEVICE_TOPIC);
      const lastMigrate = log.findLastIndex((m) => m.payload === MIGRATE_PAYLOAD);
      assert.ok(firstDevice > lastMigrate, "no device message before the migration began");
      assert.ok(log.findIndex((m) => m.topic === BRIDGE_TOPIC) < firstDevice);
      // A camera this run does not know is removed, not migrated (no orphan, no device).
      for (const { topic } of unknown) {
        assert.ok(!log.some((m: Received) => m.topic === topic && m.payload === MIGRATE_PAYLOAD));
      }
      assert.ok(!log.some((m) => m.topic.startsWith("homeassistant/device/bairelay_95270000GONE")));
      // Nothing touched the other bridge's or another integration's messages.
      for (const { topic } of [...otherBridge, foreign]) {
        assert.equal(log.filter((m) => m.topic === topic).length, 1, topic);
      }

      // A restart finds nothing left to migrate.
      await bridge.close();
      const before = watcher.messages.length;
      const again = MqttBridge.start(options(broker), { wake });
      again.declare(GARDEN);
      try {
        await watcher.waitFor((m) => m.topic === DEVICE_TOPIC, "republished", { from: before });
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.ok(!watcher.messages.slice(before).some((m) => m.payload === MIGRATE_PAYLOAD));
      } finally {
        await again.close();
      }
    } finally {
      await bridge.close();
    }
  } finally {
    await seed.close();
    await watcher.close();
    await broker.dispose();
  }
});

/** Waits until none of `topics` is retained any more. */
async function waitUntilGone(broker: Mosquitto, topics: string[]): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const now = await retained(broker);
    const left = topics.filter((t) => t in now);
    if (left.length === 0) return;
    if (Date.now() > deadline) throw new Error(`still retained: ${left.join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

Deno.test("retained topics after a configured name is added: one device, nothing under the UID", async () => {
  const longUid = "95270000ABCDEFGH0123";
  const broker = await startMosquitto();
  try {
    // First run: not configured, so published under its long UID.
    const first = MqttBridge.start(options(broker), { wake });
    first.setHeartbeat({ uid: longUid }, Date.now());
    first.recordWake({ uid: longUid });
    await retainedUntil(broker, {
      [`homeassistant/device/bairelay_${longUid}/config`]: null,
      [`bairelay/${longUid}/status/last_wake`]: null,
    });
    await first.close();
    // Second run: [[cameras]] names it garden (with the short UID).
    const second = MqttBridge.start(options(broker), { wake });
    second.declare(GARDEN);
    second.setHeartbeat({ uid: longUid, name: "garden" }, Date.now());
    try {
      const now = await retainedUntil(broker, {
        [DEVICE_TOPIC]: null,
        "bairelay/garden/status/registered": "on",
      });
      await waitUntilGone(broker, Object.keys(now).filter((t) => t.includes(longUid)));
      const after = await retained(broker);
      assert.deepEqual(Object.keys(after).filter((t) => t.includes(longUid)), []);
      assert.deepEqual(
        Object.keys(after).filter((t) => t.startsWith("homeassistant/")).sort(),
        [BRIDGE_TOPIC, DEVICE_TOPIC].sort(),
      );
    } finally {
      await second.close();
    }
  } finally {
    await broker.dispose();
  }
});

Deno.test("wakes count within the window, at most maxCountedWakes, and fall back to 0; the history's count after a restart", async () => {
  const broker = await startMosquitto();
  const sub = await Subscriber.connect(broker, "bairelay/garden/status/wakes");
  const bridge = MqttBridge.start(options(broker, { wakeWindowMs: 400, maxCountedWakes: 3 }), {
    wake,
  });
  try {
    bridge.declare(GARDEN);
    await sub.waitForPayload("bairelay/garden/status/wakes", "0");
    for (let i = 0; i < 4; i++) bridge.recordWake(GARDEN);
    await sub.waitForPayload("bairelay/garden/status/wakes", "3");
    assert.ok(!sub.payloads("bairelay/garden/status/wakes").includes("4"), "capped at 3");
    assert.equal(bridge.cameras()[0].wakes, 3);
    const from = sub.messages.length;
    await sub.waitForPayload("bairelay/garden/status/wakes", "0", { from, timeoutMs: 3000 });
    assert.equal(bridge.cameras()[0].wakes, 0);

    // As after a restart: this run counted none, the history counts 2 in the last hour.
    // (Checked at once, well within the window; what was published is checked after.)
    const restarted = sub.messages.length;
    bridge.setDaySummary(GARDEN, daySummary({ wakesLastHour: 2 }));
    assert.equal(bridge.cameras()[0].wakes, 2);
    bridge.recordWake(GARDEN);
    assert.equal(bridge.cameras()[0].wakes, 2, "the more of its own 1 and the history's 2");
    bridge.recordWake(GARDEN);
    bridge.recordWake(GARDEN);
    assert.equal(bridge.cameras()[0].wakes, 3, "its own 3, more than the history's");
    bridge.setDaySummary(GARDEN, daySummary({ wakesLastHour: 9 }));
    assert.equal(bridge.cameras()[0].wakes, 3, "the history's count capped too");
    await sub.waitForPayload("bairelay/garden/status/wakes", "2", { from: restarted });
    await sub.waitForPayload("bairelay/garden/status/wakes", "3", { from: restarted });
    // Once the window has passed, neither count is left.
    await sub.waitForPayload("bairelay/garden/status/wakes", "0", {
      from: sub.messages.findLastIndex((m) => m.payload === "3"),
      timeoutMs: 3000,
    });
    assert.equal(bridge.cameras()[0].wakes, 0);
  } finally {
    await bridge.close();
    await sub.close();
    await broker.dispose();
  }
});

Deno.test("history from the registry: the newer of restored and live times wins", async () => {
  const broker = await startMosquitto();
  const bridge = MqttBridge.start(options(broker), { wake });
  try {
    bridge.declare(GARDEN);
    bridge.setMotion(GARDEN, true, Date.UTC(2026, 10, 29, 5));
    bridge.setHistory(GARDEN, {
      lastMotion: Date.UTC(2026, 10, 28),
      lastWake: Date.UTC(2026, 10, 28, 12),
    });
    await retainedUntil(broker, {
      "bairelay/garden/status/last_motion": "2026-11-29T05:00:00.000Z",
      "bairelay/garden/status/last_wake": "2026-11-28T12:00:00.000Z",
    });
  } finally {
    await bridge.close();
    await broker.dispose();
  }
});

Deno.test("Home Assistant coming online gets the bridge and the camera devices again", async () => {
  const broker = await startMosquitto();
  const sub = await Subscriber.connect(broker, "homeassistant/#");
  const bridge = MqttBridge.start(options(broker), { wake });
  try {
    bridge.declare(GARDEN);
    await sub.waitFor((m) => m.topic === DEVICE_TOPIC, "first discovery");
    const before = sub.messages.length;
    await sub.publish("homeassistant/status", "online");
    await sub.waitFor((m) => m.topic === BRIDGE_TOPIC, "bridge again", { from: before });
    await sub.waitFor((m) => m.topic === DEVICE_TOPIC, "camera again", { from: before });
  } finally {
    await bridge.close();
    await sub.close();
    await broker.dispose();
  }
});

/** A component of a device discovery message, as retained on the broker. */
interface Component {
  p: string;
  unique_id: string;
  default_entity_id: string;
  object_id: string;
  qos?: number;
  state_topic?: string;
  payload_on?: string;
  payload_off?: string;
  availability?: unknown;
}

function components(payload: string): Record<string, Component> {
  return JSON.parse(payload).cmps;
}

Deno.test("as Home Assistant reads the broker: qos in each component, readable entity ids, unique_ids kept", async () => {
  const stray = "95270000STRAYCAM0456";
  const strayTopic = `homeassistant/device/bairelay_${stray}/config`;
  const broker = await startMosquitto();
  const bridge = MqttBridge.start(options(broker), { wake });
  let homeAssistant: mqtt.MqttClient | undefined;
  try {
    bridge.declare(GARDEN);
    bridge.setHeartbeat({ uid: stray }, Date.now());
    const now = await retainedUntil(broker, {
      [DEVICE_TOPIC]: null,
      [strayTopic]: null,
      [BRIDGE_TOPIC]: null,
    });
    // Named: ids from the name; unnamed: from the UID. Old (object_id) and new
    // (default_entity_id) Home Assistant get the same; unique_ids stay as they were.
    for (
      const [topic, node, base] of [[DEVICE_TOPIC, NODE, "garden"], [
        strayTopic,
        `bairelay_${stray}`,
        stray.toLowerCase(),
      ]]
    ) {
      const cmps = components(now[topic]);
      assert.equal(Object.keys(cmps).length, 10);
      for (const [key, entity] of Object.entries(cmps)) {
        assert.equal(entity.unique_id, `${node}_${key}`);
        assert.equal(entity.default_entity_id, `${entity.p}.${base}_${key}`);
        assert.equal(entity.object_id, `${base}_${key}`);
        assert.equal(entity.qos, 1, `${topic} ${key}`);
      }
    }
    const bridgeCmps = components(now[BRIDGE_TOPIC]);
    assert.equal(
      bridgeCmps.cameras_registered.default_entity_id,
      "sensor.bairelay_cameras_registered",
    );
    assert.equal(bridgeCmps.status.default_entity_id, "binary_sensor.bairelay_status");
    for (const entity of Object.values(bridgeCmps)) assert.equal(entity.qos, 1);

    // An older Home Assistant subscribes with the component's qos (0 when it has none):
    // the camera's motion then reaches it at QoS 1.
    const motion = components(now[DEVICE_TOPIC]).motion;
    const client = homeAssistant = await mqtt.connectAsync({
      host: broker.host,
      port: broker.port,
      reconnectPeriod: 0,
    });
    const received: { payload: string; qos: number }[] = [];
    client.on("message", (_topic, payload, packet) => {
      received.push({ payload: payload.toString(), qos: packet.qos });
    });
    await client.subscribeAsync(motion.state_topic!, { qos: (motion.qos ?? 0) as 0 | 1 });
    bridge.setMotion(GARDEN, true);
    const deadline = Date.now() + 5000;
    while (!received.some((m) => m.payload === "on")) {
      if (Date.now() > deadline) throw new Error(`no motion: ${JSON.stringify(received)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(received.find((m) => m.payload === "on")!.qos, 1);
  } finally {
    await homeAssistant?.endAsync(true);
    await bridge.close();
    await broker.dispose();
  }
});

Deno.test("the bridge's Status reads connected while bairelay runs and disconnected once it stops", async () => {
  const broker = await startMosquitto();
  const bridge = MqttBridge.start(options(broker), { wake });
  try {
    const now = await retainedUntil(broker, {
      [BRIDGE_TOPIC]: null,
      "bairelay/status": "online",
    });
    const status = components(now[BRIDGE_TOPIC]).status;
    assert.equal(status.p, "binary_sensor");
    assert.equal(now[status.state_topic!], status.payload_on, "connected");
    // It has no availability of its own, so Home Assistant shows it disconnected rather than
    // unavailable when bairelay goes (close here; the last will when it vanishes).
    assert.equal(status.availability, undefined);
    assert.deepEqual(JSON.parse(now[BRIDGE_TOPIC]).availability, undefined);
    await bridge.close();
    const after = await retainedUntil(broker, { "bairelay/status": "offline" });
    assert.equal(after[status.state_topic!], status.payload_off, "disconnected");
    assert.equal(after[BRIDGE_TOPIC], now[BRIDGE_TOPIC], "the entity stays");
  } finally {
    await bridge.close();
    await broker.dispose();
  }
});

/** A camera's day as the history gives it. */
function daySummary(extra: Partial<CameraDaySummary> = {}): CameraDaySummary {
  return {
    wakesToday: 48,
    motionToday: 7,
    wakesLastDay: 52,
    wakesLastHour: 3,
    lastWokenBy: { requester: "home-assistant", kind: "client", at: Date.UTC(2026, 11, 6, 5) },
    ...extra,
  };
}

Deno.test("the day's sensors: setDaySummary publishes wakes and motion today, who woke it last", async () => {
  const broker = await startMosquitto();
  const bridge = MqttBridge.start(options(broker), { wake });
  try {
    bridge.declare(GARDEN);
    bridge.setDaySummary(GARDEN, daySummary());
    const now = await retainedUntil(broker, {
      "bairelay/garden/status/wakes_today": "48",
      "bairelay/garden/status/motion_today": "7",
      "bairelay/garden/status/last_woken_by": "home-assistant",
      "bairelay/garden/status/wakes": "3",
      // Last wake follows the history's last wake when that is newer.
      "bairelay/garden/status/last_wake": "2026-12-06T05:00:00.000Z",
    });
    assert.deepEqual(JSON.parse(now["bairelay/garden/status/last_woken_by_attributes"]), {
      kind: "client",
      at: "2026-12-06T05:00:00.000Z",
    });
    // The new sensors are entities of the camera's own device, reading those very topics.
    const cmps = components(now[DEVICE_TOPIC]);
    for (const key of ["wakes_today", "motion_today", "last_woken_by"]) {
      assert.equal(cmps[key].state_topic, `bairelay/garden/status/${key}`);
      assert.equal(cmps[key].unique_id, `${NODE}_${key}`);
      assert.equal(cmps[key].default_entity_id, `sensor.garden_${key}`);
      assert.equal(cmps[key].qos, 1);
    }
    assert.deepEqual(bridge.cameras()[0].day, daySummary());

    // The next day: the counts start again; an older last wake does not move Last wake back.
    bridge.setDaySummary(
      GARDEN,
      daySummary({
        wakesToday: 0,
        motionToday: 0,
        wakesLastHour: 0,
        lastWokenBy: { requester: "mqtt", kind: "mqtt", at: Date.UTC(2026, 11, 6, 4) },
      }),
    );
    await retainedUntil(broker, {
      "bairelay/garden/status/wakes_today": "0",
      "bairelay/garden/status/motion_today": "0",
      "bairelay/garden/status/last_woken_by": "mqtt",
      "bairelay/garden/status/last_wake": "2026-12-06T05:00:00.000Z",
    });
  } finally {
    await bridge.close();
    await broker.dispose();
  }
});

Deno.test("hostile requester labels are published as the plain text they are", async () => {
  const broker = await startMosquitto();
  const bridge = MqttBridge.start(options(broker), { wake });
  const hostile = [
    "{{ states('alarm_control_panel.home') }}",
    "{% for s in states %}{{ s.entity_id }}{% endfor %}",
    '"}, "kind": "api", "x": {"',
    "line\nbreak \u0000 \u202e ☃",
  ];
  try {
    bridge.declare(GARDEN);
    const device = await retainedUntil(broker, { [DEVICE_TOPIC]: null });
    // Home Assistant shows the state topic's payload as is: with no value_template (nor an
    // attributes template) nothing evaluates it.
    const lastWokenBy = components(device[DEVICE_TOPIC]).last_woken_by as unknown as Record<
      string,
      unknown
    >;
    assert.deepEqual(Object.keys(lastWokenBy).filter((key) => key.includes("template")), []);
    for (const requester of hostile) {
      bridge.setDaySummary(
        GARDEN,
        daySummary({ lastWokenBy: { requester, kind: "api", at: Date.UTC(2026, 11, 6, 5) } }),
      );
      const now = await retainedUntil(broker, {
        "bairelay/garden/status/last_woken_by": requester,
      });
      // The attributes are JSON the bridge wrote: the label cannot add a key to them.
      assert.deepEqual(JSON.parse(now["bairelay/garden/status/last_woken_by_attributes"]), {
        kind: "api",
        at: "2026-12-06T05:00:00.000Z",
      });
    }
    // Longer than Home Assistant takes for a state: cut to MAX_STATE_TEXT whole characters.
    const long = "☃".repeat(MAX_STATE_TEXT + 10);
    bridge.setDaySummary(
      GARDEN,
      daySummary({ lastWokenBy: { requester: long, kind: "api", at: Date.UTC(2026, 11, 6, 5) } }),
    );
    await retainedUntil(broker, {
      "bairelay/garden/status/last_woken_by": "☃".repeat(MAX_STATE_TEXT),
    });
  } finally {
    await bridge.close();
    await broker.dispose();
  }
});
