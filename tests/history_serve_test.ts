/**
 * Every wake attributed, and serve's history of each camera: a real serve (in-process, real
 * sockets), the camera and client simulators, the API.
 */

import { strict as assert } from "node:assert";
import { reset } from "@logtape/logtape";
import type { ServeEvent } from "../lib/serve/bus.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { ClientSim } from "./support/client_sim.ts";
import { hostileDatagram, randomUid, seededRandom } from "./support/hostile_datagrams.ts";
import { captureWakeLogs, renderRecord } from "./support/log_records.ts";
import { sendPush } from "./support/push_client.ts";
import { startServiceFixture } from "./support/service_fixture.ts";

const UID = "95270000HISTORY1";

Deno.test("wakes carry their requester: a local client is the CLI, the API its caller, refusals too", async () => {
  const fixture = await startServiceFixture({
    wakeServer: { burstCount: 1, maxWakesPerHour: 2 },
    cameras: [{ name: "garden", uid: UID }],
  });
  const camera = await CameraSim.start({ uid: UID, middleman: fixture.middleman });
  const client = await ClientSim.start("127.0.0.3");
  const wakes: Extract<ServeEvent, { type: "wake" }>[] = [];
  fixture.service.bus.on("wake", (event) => wakes.push(event));
  try {
    await camera.boot();
    await client.connect(fixture.service.wake!.register, UID);
    assert.equal((await fixture.call("POST", "/api/cameras/garden/wake")).status, 202);
    await camera.waitForWakes(2);
    assert.equal((await fixture.call("POST", "/api/cameras/garden/wake")).status, 429);
    assert.deepEqual(
      wakes.map((event) => [event.source, event.requester, event.result]),
      [
        ["cli", { kind: "cli", address: "127.0.0.3" }, "started"],
        ["api", { kind: "api", address: "127.0.0.1" }, "started"],
        ["api", { kind: "api", address: "127.0.0.1" }, "over_budget"],
      ],
    );
  } finally {
    await client.close();
    await camera.close();
    await fixture.close();
  }
});

/** Waits until `check` holds (polling), or fails naming `what`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("serve keeps each camera's history: API, /api/cameras summary, drain warning, metrics, restart", async () => {
  const records = await captureWakeLogs(["bairelay", "history"]);
  const stateDir = await Deno.makeTempDir({ prefix: "bairelay-history-" });
  const options = {
    stateDir,
    wakeServer: { burstCount: 1, burstIntervalMs: 10, maxWakesPerHour: 0 },
    cameras: [{ name: "garden", uid: UID }],
    push: { motionHoldSecs: 1, wakeOnMotion: true },
    history: { drainWakesPerDay: 2 },
    clients: [{ name: "this-box", address: "127.0.0.1" }],
  };
  let fixture = await startServiceFixture(options);
  const camera = await CameraSim.start({ uid: UID, ip: "127.0.0.5", middleman: fixture.middleman });
  try {
    await camera.boot();
    await sendPush({ from: "127.0.0.5", port: fixture.service.motion!.push!.address.port });
    await camera.waitForWakes(1);
    for (let i = 2; i <= 4; i++) {
      await until(
        "the burst to end",
        async () =>
          (await fixture.call("POST", "/api/cameras/garden/wake")).status === 202 &&
          fixture.service.metrics.counter("bairelay_camera_wakes_total", "").get({
              camera: "garden",
              kind: "api",
              requester: "this-box",
              result: "started",
            }) === i - 1,
      );
    }
    await camera.waitForWakes(4);

    const history = await fixture.call("GET", "/api/cameras/garden/history?since=1h");
    assert.equal(history.status, 200);
    assert.equal(history.json.name, "garden");
    const types = history.json.events.map((e: { type: string }) => e.type);
    assert.deepEqual(types.filter((type: string) => type !== "wake"), ["registered", "motion"]);
    const wakes = history.json.events.filter((e: { type: string }) => e.type === "wake");
    assert.deepEqual(
      wakes.map((e: { requester: string; kind: string }) => [e.requester, e.kind]),
      [["motion", "motion"], ["this-box", "api"], ["this-box", "api"], ["this-box", "api"]],
    );
    assert.deepEqual(
      history.json.requesters.map((r: { requester: string; wakes: number }) => [
        r.requester,
        r.wakes,
      ]),
      [["this-box", 3], ["motion", 1]],
    );
    assert.equal(history.json.hours.at(-1).wakes, 4);
    assert.deepEqual(history.json.drain, [{ requester: "this-box", wakes: 3, threshold: 2 }]);

    const cameras = await fixture.call("GET", "/api/cameras");
    const garden = cameras.json.cameras[0];
    assert.equal(garden.wakes_today, 4);
    assert.equal(garden.motion_today, 1);
    assert.equal(garden.last_woken_by.requester, "this-box");
    assert.equal(garden.last_woken_by.kind, "api");
    assert.deepEqual(garden.drain, [{ requester: "this-box", wakes: 3, threshold: 2 }]);

    // Logged once for the day, however many more wakes follow.
    const drainLines = () =>
      records.map(renderRecord).filter((line) => line.includes("times in 24 h"));
    assert.deepEqual(drainLines(), [
      "this-box woke garden 3 times in 24 h: lower that client's polling, or set max_wakes_per_hour",
    ]);

    const metrics = await fixture.call("GET", "/metrics");
    assert.match(
      metrics.text,
      /bairelay_camera_wakes_total\{camera="garden",kind="motion",result="started"\} 1/,
    );
    assert.match(
      metrics.text,
      /bairelay_camera_wakes_total\{camera="garden",kind="api",requester="this-box",result="started"\} 3/,
    );

    assert.equal((await fixture.call("GET", "/api/cameras/nowhere/history")).status, 404);
    const bad = await fixture.call("GET", "/api/cameras/garden/history?since=yesterday");
    assert.equal(bad.status, 400);
    assert.match(bad.json.error, /24h or 7d/);

    // A restart reads the history back from the state directory.
    await fixture.close();
    fixture = await startServiceFixture(options);
    const again = await fixture.call("GET", "/api/cameras");
    assert.equal(again.json.cameras[0].wakes_today, 4);
    assert.equal(again.json.cameras[0].last_woken_by.requester, "this-box");
  } finally {
    await camera.close();
    await fixture.close();
    await Deno.remove(stateDir, { recursive: true });
    await reset();
  }
});

Deno.test("a flood of C2R_C from many addresses and heartbeats from random UIDs cannot grow the history or push a real camera's events out", async () => {
  const MAX_CAMERAS = 8;
  const MAX_EVENTS = 10;
  const MAX_REQUESTERS = 4;
  const fixture = await startServiceFixture({
    wakeServer: { burstCount: 1, burstIntervalMs: 5, maxWakesPerHour: 0, maxCameras: MAX_CAMERAS },
    cameras: [{ name: "garden", uid: UID }],
    push: { motionHoldSecs: 1, wakeOnMotion: false },
    history: { maxEventsPerCamera: MAX_EVENTS, maxRequestersPerHour: MAX_REQUESTERS },
  });
  const camera = await CameraSim.start({ uid: UID, ip: "127.0.0.5", middleman: fixture.middleman });
  const clients = await Promise.all(
    Array.from({ length: 48 }, (_, i) => ClientSim.start(`127.78.0.${i + 1}`)),
  );
  const register = fixture.service.wake!.register;
  try {
    await camera.boot();
    camera.startHeartbeats(50);
    await sendPush({ from: "127.0.0.5", port: fixture.service.motion!.push!.address.port });
    const random = seededRandom(24);
    for (let round = 0; round < 20; round++) {
      for (const client of clients) {
        await client.send(client.connectMessage(UID, register), register);
        await client.send(client.connectMessage(randomUid(random), register), register);
        await clients[0].sendRaw(hostileDatagram("random_uid", random), register);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(fixture.service.history!.uids().length <= MAX_CAMERAS + 1);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));

    const history = await fixture.call("GET", "/api/cameras/garden/history");
    assert.equal(history.status, 200);
    const events = history.json.events as { type: string; requester?: string }[];
    const others = events.filter((event) => event.type !== "wake" && event.type !== "offline");
    assert.deepEqual(others.map((event) => event.type), ["registered", "motion"]);
    const wakes = events.filter((event) => event.type === "wake");
    assert.ok(wakes.length > 0 && wakes.length <= MAX_EVENTS, `${wakes.length} wake events`);
    for (const bucket of history.json.hours) {
      assert.ok(Object.keys(bucket.by_requester).length <= MAX_REQUESTERS + 1);
    }
    assert.ok(
      history.json.requesters.some((r: { requester: string }) => r.requester === "(others)"),
    );
    const store = fixture.service.history!;
    assert.ok(store.uids().length <= MAX_CAMERAS + 1, `${store.uids().length} histories`);
    assert.ok(store.uids().includes(UID), "the configured camera keeps its history");
    for (const uid of store.uids()) {
      const kept = store.get(uid)!;
      assert.ok(kept.events.length <= MAX_EVENTS && kept.wakes.length <= MAX_EVENTS);
    }
  } finally {
    camera.stopHeartbeats();
    await Promise.all(clients.map((client) => client.close()));
    await camera.close();
    await fixture.close();
  }
});
