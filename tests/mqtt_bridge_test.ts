import assert from "node:assert/strict";
import { MqttBridge, type MqttBridgeOptions } from "../lib/mqtt/bridge.ts";
import { MqttConfigError } from "../lib/mqtt/errors.ts";
import { freePort, type Mosquitto, startMosquitto, Subscriber } from "./support/mosquitto.ts";

const GARDEN = { uid: "95270000ABCDEFGH", name: "garden" };
const STRAY = { uid: "95270000STRAYCAM0456" };

function bridgeOptions(broker: { host: string; port: number }): MqttBridgeOptions {
  return {
    brokerAddr: broker.host,
    port: broker.port,
    topicPrefix: "bairelay",
    discoveryTopic: "homeassistant",
    reconnectInitialMs: 100,
    reconnectMaxMs: 400,
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A broker, a subscriber on everything, and a bridge that records its wake calls. */
async function setup(
  wakeResult = "started",
  extra: Partial<MqttBridgeOptions> = {},
): Promise<{
  broker: Mosquitto;
  sub: Subscriber;
  bridge: MqttBridge;
  wakes: string[];
  dispose(): Promise<void>;
}> {
  const broker = await startMosquitto();
  const sub = await Subscriber.connect(broker);
  const wakes: string[] = [];
  const bridge = MqttBridge.start({ ...bridgeOptions(broker), ...extra }, {
    wake: (target) => {
      wakes.push(target);
      return { result: wakeResult };
    },
  });
  return {
    broker,
    sub,
    bridge,
    wakes,
    async dispose() {
      await bridge.close();
      await sub.close();
      await broker.dispose();
    },
  };
}

Deno.test("the bridge leaves mqtt-packet's number cache (65,536 Buffers, ~7 MB) unbuilt", async () => {
  const broker = await startMosquitto();
  const script = new URL("./support/mqtt_number_cache.ts", import.meta.url).pathname;
  const cached = async (mode: string) => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", "--quiet", script, mode, String(broker.port)],
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 0, stderr);
    return Number(new TextDecoder().decode(output.stdout).trim());
  };
  try {
    assert.equal(await cached("plain"), 65536, "an mqtt.js client on its defaults builds it");
    assert.equal(await cached("bridge"), 0);
  } finally {
    await broker.dispose();
  }
});

Deno.test("state topics are retained QoS 1 and follow the camera", async () => {
  const { sub, bridge, dispose } = await setup();
  try {
    await sub.waitForPayload("bairelay/status", "online");
    bridge.declare(GARDEN);
    await sub.waitForPayload("bairelay/garden/status/registered", "off");
    const at = Date.UTC(2026, 0, 2, 3, 4, 5);
    bridge.setHeartbeat(GARDEN, at);
    await sub.waitForPayload("bairelay/garden/status/last_heartbeat", "2026-01-02T03:04:05.000Z");
    await sub.waitForPayload("bairelay/garden/status/registered", "on");
    bridge.setMotion(GARDEN, true);
    await sub.waitForPayload("bairelay/garden/status/motion", "on");
    bridge.setMotion(GARDEN, false);
    await sub.waitForPayload("bairelay/garden/status/motion", "off", {
      from: sub.messages.length - 1,
    });
    // An unconfigured camera is published under its UID.
    bridge.setMotion(STRAY, true);
    await sub.waitForPayload(`bairelay/${STRAY.uid}/status/motion`, "on");
    bridge.setRegistered(GARDEN, false);
    await sub.waitForPayload("bairelay/garden/status/registered", "off", {
      from: sub.messages.findLastIndex((m) => m.payload === "on"),
    });

    // A late subscriber gets the retained current state.
    const late = await Subscriber.connect(brokerOf(bridge), "bairelay/#");
    try {
      await late.waitForPayload("bairelay/garden/status/motion", "off");
      await late.waitForPayload(`bairelay/${STRAY.uid}/status/motion`, "on");
      await late.waitForPayload("bairelay/status", "online");
      assert.ok(late.messages.every((m) => m.retain), "all state topics are retained");
    } finally {
      await late.close();
    }
  } finally {
    await dispose();
  }
});

/** The broker a bridge talks to, parsed back from its URL. */
function brokerOf(bridge: MqttBridge): { host: string; port: number } {
  const url = new URL(bridge.broker);
  return { host: url.hostname, port: Number(url.port) };
}

Deno.test("control/wakeup wakes by name; unknown targets are refused, never fatal", async () => {
  const { sub, bridge, wakes, dispose } = await setup("not_registered");
  try {
    bridge.declare(GARDEN);
    await sub.waitForPayload("bairelay/garden/status/registered", "off");
    await sub.publish("bairelay/garden/control/wakeup", "");
    await until(() => wakes.length === 1, "wake for garden");
    assert.deepEqual(wakes, ["garden"]);
    await sub.publish("bairelay/NOPE/control/wakeup", "anything");
    await until(() => wakes.length === 2, "wake for unknown");
    assert.equal(wakes[1], "NOPE");
    bridge.setMotion(GARDEN, true);
    await sub.waitForPayload("bairelay/garden/status/motion", "on");
    assert.equal(bridge.status().connection, "connected");
  } finally {
    await dispose();
  }
});

Deno.test("a retained wakeup is not replayed when the bridge (re)connects", async () => {
  const broker = await startMosquitto();
  const sub = await Subscriber.connect(broker);
  await sub.publish("bairelay/garden/control/wakeup", "stale", true);
  const wakes: string[] = [];
  const bridge = MqttBridge.start(bridgeOptions(broker), {
    wake: (target) => {
      wakes.push(target);
      return { result: "started" };
    },
  });
  try {
    await sub.waitForPayload("bairelay/status", "online");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(wakes, [], "the retained wakeup was ignored");
    await sub.publish("bairelay/garden/control/wakeup", "now");
    await until(() => wakes.length === 1, "a live wakeup");
  } finally {
    await sub.publish("bairelay/garden/control/wakeup", "", true); // clear the retained message
    await bridge.close();
    await sub.close();
    await broker.dispose();
  }
});

Deno.test("close publishes offline on the availability topic", async () => {
  const { broker, sub, bridge, dispose } = await setup();
  try {
    await sub.waitForPayload("bairelay/status", "online");
    await bridge.close();
    await sub.waitForPayload("bairelay/status", "offline");
    assert.ok(broker.port > 0);
  } finally {
    await dispose();
  }
});

Deno.test("the last will says offline when the bridge vanishes", async () => {
  const broker = await startMosquitto();
  const sub = await Subscriber.connect(broker);
  // A child process runs the bridge and is killed: the broker publishes the will.
  const script = `
    import { MqttBridge } from "${new URL("../lib/mqtt/bridge.ts", import.meta.url).href}";
    MqttBridge.start({ brokerAddr: "127.0.0.1", port: ${broker.port}, topicPrefix: "willtest",
      discoveryTopic: "homeassistant" }, { wake: () => ({ result: "started" }) });
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await sub.waitForPayload("willtest/status", "online", { timeoutMs: 20_000 });
    child.kill("SIGKILL");
    await child.status;
    await sub.waitForPayload("willtest/status", "offline");
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* exited */ }
    await child.status;
    await sub.close();
    await broker.dispose();
  }
});

Deno.test("broker restarted mid-run: state changed during the outage is published on reconnect", async () => {
  const { broker, sub, bridge, dispose } = await setup();
  let sub2: Subscriber | undefined;
  try {
    bridge.declare(GARDEN);
    bridge.setHeartbeat(GARDEN, Date.now());
    await sub.waitForPayload("bairelay/garden/status/registered", "on");
    await sub.close();
    await broker.stop();
    await until(() => bridge.status().connection !== "connected", "bridge notices the outage");
    // Motion happens while the broker is down.
    bridge.setMotion(GARDEN, true);
    bridge.setMotion(STRAY, true);
    await broker.start(); // a fresh broker: no retained messages survive
    await until(() => bridge.status().connection === "connected", "bridge reconnects");
    sub2 = await Subscriber.connect(broker);
    await sub2.waitForPayload("bairelay/garden/status/motion", "on");
    await sub2.waitForPayload(`bairelay/${STRAY.uid}/status/motion`, "on");
    await sub2.waitForPayload("bairelay/garden/status/registered", "on");
    await sub2.waitForPayload("bairelay/status", "online");
    await sub2.waitFor(
      (m) => m.topic === "homeassistant/device/bairelay_95270000ABCDEFGH/config",
      "discovery again",
    );
  } finally {
    await sub2?.close();
    await dispose().catch(() => {});
  }
});

Deno.test("no broker at start: the bridge keeps retrying, then publishes once one appears", async () => {
  const port = freePort();
  const bridge = MqttBridge.start(bridgeOptions({ host: "127.0.0.1", port }), {
    wake: () => ({ result: "started" }),
  });
  let broker: Mosquitto | undefined;
  let sub: Subscriber | undefined;
  try {
    await until(() => bridge.status().lastError !== undefined, "a connection error");
    assert.equal(bridge.status().connection === "connected", false);
    assert.match(bridge.status().lastError!, new RegExp(`mqtt://127\\.0\\.0\\.1:${port}`));
    assert.match(bridge.status().lastError!, /ECONNREFUSED|refused/i);
    bridge.setMotion(GARDEN, true); // nothing to publish to: kept in the state table
    assert.equal(bridge.cameras()[0].motion, true);
    // Start a broker on that very port.
    broker = await startMosquitto({ port });
    await until(() => bridge.status().connection === "connected", "connected", 8000);
    sub = await Subscriber.connect(broker);
    await sub.waitForPayload("bairelay/garden/status/motion", "on");
  } finally {
    await bridge.close();
    await sub?.close();
    await broker?.dispose();
  }
});

Deno.test("bad credentials: a clear error naming the broker", async () => {
  const broker = await startMosquitto({ users: { cam: "right-password" } });
  const bridge = MqttBridge.start(
    { ...bridgeOptions(broker), credentials: { username: "cam", password: "wrong" } },
    { wake: () => ({ result: "started" }) },
  );
  const good = MqttBridge.start(
    {
      ...bridgeOptions(broker),
      topicPrefix: "good",
      credentials: { username: "cam", password: "right-password" },
    },
    { wake: () => ({ result: "started" }) },
  );
  try {
    await until(() => bridge.status().lastError !== undefined, "an auth error");
    const error = bridge.status().lastError!;
    assert.match(error, new RegExp(`mqtt://127\\.0\\.0\\.1:${broker.port}`));
    assert.match(error, /refused the login \(user "cam"\)/);
    assert.match(error, /\[mqtt\] credentials/);
    assert.notEqual(bridge.status().connection, "connected");
    await until(() => good.status().connection === "connected", "the right password works");
  } finally {
    await bridge.close();
    await good.close();
    await broker.dispose();
  }
});

Deno.test("an unreadable TLS file is an MqttConfigError naming the key and the file", () => {
  assert.throws(
    () =>
      MqttBridge.start({
        ...bridgeOptions({ host: "127.0.0.1", port: 1 }),
        ca: "/nonexistent/ca.pem",
      }, {
        wake: () => ({ result: "started" }),
      }),
    (error: unknown) => {
      assert.ok(error instanceof MqttConfigError);
      assert.match(error.message, /\[mqtt\] ca: cannot read \/nonexistent\/ca\.pem/);
      return true;
    },
  );
});

Deno.test("TLS: ca + client_auth connect to a broker that requires a client certificate", async () => {
  const broker = await startMosquitto({ tls: true });
  const pki = broker.pki!;
  const options = { ...bridgeOptions(broker), ca: pki.ca };
  const good = MqttBridge.start(
    { ...options, clientAuth: { cert: pki.clientCert, key: pki.clientKey } },
    { wake: () => ({ result: "started" }) },
  );
  const noClientCert = MqttBridge.start({ ...options, topicPrefix: "nocert" }, {
    wake: () => ({ result: "started" }),
  });
  try {
    assert.match(good.broker, /^mqtts:\/\//);
    await until(
      () => good.status().connection === "connected",
      "TLS connection with a client cert",
    );
    await until(() => noClientCert.status().lastError !== undefined, "refused without a cert");
    assert.notEqual(noClientCert.status().connection, "connected");
    assert.match(
      noClientCert.status().lastError!,
      new RegExp(`mqtts://127\\.0\\.0\\.1:${broker.port}`),
    );
  } finally {
    await good.close();
    await noClientCert.close();
    await broker.dispose();
  }
});

Deno.test("beyond maxCameras the oldest idle unconfigured camera is forgotten and undiscovered", async () => {
  const { sub, bridge, dispose } = await setup("started", { maxCameras: 2 });
  try {
    bridge.declare(GARDEN); // configured: never evicted
    bridge.setRegistered({ uid: "OLDSTRAY" }, false);
    const oldStray = "homeassistant/device/bairelay_OLDSTRAY/config";
    await sub.waitFor((m) => m.topic === oldStray, "discovery of the first stray");
    bridge.setRegistered({ uid: "NEWSTRAY" }, false);
    await sub.waitFor(
      (m) => m.topic === oldStray && m.payload === "",
      "the forgotten camera's discovery removed",
    );
    assert.deepEqual(bridge.cameras().map((c) => c.segment).sort(), ["NEWSTRAY", "garden"]);
  } finally {
    await dispose();
  }
});

Deno.test("a camera published under its UID, then named: its UID device and topics are cleared", async () => {
  const longUid = "95270000ABCDEFGH0123";
  const broker = await startMosquitto();
  const sub = await Subscriber.connect(broker);
  const wake = () => ({ result: "started" });
  try {
    // First run: the camera is not configured, so it is published under its long UID.
    const before = MqttBridge.start(bridgeOptions(broker), { wake });
    before.setHeartbeat({ uid: longUid }, Date.now());
    await sub.waitFor(
      (m) => m.topic === `bairelay/${longUid}/status/last_heartbeat` && m.payload !== "",
      "the UID-named heartbeat topic",
    );
    await before.close();
    // Second run: the configured (short) UID names it "garden".
    const after = MqttBridge.start(bridgeOptions(broker), { wake });
    try {
      after.declare(GARDEN);
      after.setHeartbeat({ uid: longUid, name: "garden" }, Date.now());
      await sub.waitFor(
        (m) =>
          m.topic === `homeassistant/device/bairelay_${longUid}/config` && m.payload === "" &&
          m.retain === false,
        "the UID-named device removed",
      );
      await sub.waitFor(
        (m) => m.topic === `bairelay/${longUid}/status/last_heartbeat` && m.payload === "",
        "the UID-named state topic cleared",
      );
      await sub.waitFor(
        (m) => m.topic === "bairelay/garden/status/last_heartbeat",
        "the named topic",
      );
      // What a newcomer (Home Assistant starting) gets: only the named camera's device.
      const fresh = await Subscriber.connect(broker);
      try {
        await fresh.waitFor(
          (m) => m.topic === "bairelay/garden/status/registered",
          "retained state",
        );
        await new Promise((resolve) => setTimeout(resolve, 200));
        const leftovers = fresh.messages.filter((m) => m.topic.includes(longUid));
        assert.deepEqual(leftovers, [], "nothing retained under the long UID");
        assert.ok(fresh.messages.some((m) => m.topic.includes("bairelay_95270000ABCDEFGH/")));
      } finally {
        await fresh.close();
      }
    } finally {
      await after.close();
    }
  } finally {
    await sub.close();
    await broker.dispose();
  }
});

Deno.test("a motion that began and ended during an outage is replayed on reconnect", async () => {
  const broker = await startMosquitto({ persistent: true });
  const session = { clientId: "bridge-test-watcher", clean: false };
  let sub = await Subscriber.connect(broker, "bairelay/#", session);
  const bridge = MqttBridge.start(bridgeOptions(broker), { wake: () => ({ result: "started" }) });
  const motion = "bairelay/garden/status/motion";
  try {
    bridge.declare(GARDEN);
    await sub.waitForPayload(motion, "off");
    await broker.stop();
    await sub.close();
    await until(() => bridge.status().connection !== "connected", "outage seen");
    bridge.setMotion(GARDEN, true);
    bridge.setMotion(GARDEN, false);
    await broker.start();
    sub = await Subscriber.connect(broker, "bairelay/#", session);
    await until(() => bridge.status().connection === "connected", "reconnected");
    const on = await sub.waitForPayload(motion, "on");
    await sub.waitForPayload(motion, "off", { from: sub.messages.indexOf(on) });
  } finally {
    await bridge.close();
    await sub.close();
    await broker.dispose();
  }
});
