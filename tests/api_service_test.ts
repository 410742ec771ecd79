/** The control API on a real service: cameras, wake 202/404/429, metrics, health, tokens. */

import assert from "node:assert/strict";
import { CameraSim } from "./support/camera_sim.ts";
import { startServiceFixture } from "./support/service_fixture.ts";

const LONG_UID = "95270000ABCDEFGH0123";
const SHORT_UID = "95270000ABCDEFGH";
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

Deno.test("GET /api/cameras lists a registered camera with every documented field", async () => {
  const fixture = await startServiceFixture({ cameras: [{ name: "garden", uid: SHORT_UID }] });
  const camera = await CameraSim.start({
    uid: LONG_UID,
    ip: "127.0.0.2",
    middleman: fixture.middleman,
  });
  try {
    const empty = await fixture.call("GET", "/api/cameras");
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.json.cameras.map((c: { name: string; state: string }) => c.state), [
      "never_seen",
    ]);

    const before = Date.now();
    await camera.boot();
    const { status, json } = await fixture.call("GET", "/api/cameras");
    assert.equal(status, 200);
    assert.equal(json.cameras.length, 1);
    const doc = json.cameras[0];
    assert.deepEqual(Object.keys(doc).sort(), [
      "address",
      "age_ms",
      "drain",
      "first_seen",
      "fresh",
      "last_heartbeat",
      "last_motion",
      "last_wake",
      "last_woken_by",
      "motion_today",
      "name",
      "state",
      "uid",
      "wake_budget",
      "wakes",
      "wakes_last_hour",
      "wakes_today",
    ]);
    assert.equal(doc.uid, LONG_UID);
    assert.equal(doc.name, "garden");
    assert.deepEqual(doc.address, { ip: "127.0.0.2", port: camera.address.port });
    assert.match(doc.first_seen, ISO);
    assert.match(doc.last_heartbeat, ISO);
    assert.ok(Date.parse(doc.last_heartbeat) >= before - 5);
    assert.ok(doc.age_ms >= 0 && doc.age_ms < 5000, `age_ms ${doc.age_ms}`);
    assert.equal(doc.fresh, true);
    assert.equal(doc.wakes, 0);
    assert.equal(doc.last_wake, null);
    assert.equal(doc.last_motion, null);
    assert.equal(doc.wakes_today, 0);
    assert.equal(doc.motion_today, 0);
    assert.equal(doc.last_woken_by, null);
    assert.deepEqual(doc.drain, []);
  } finally {
    await camera.close();
    await fixture.close();
  }
});

Deno.test("POST wake: 202 with uid+sid, in-flight join, 404 unknown, 429 over budget", async () => {
  const fixture = await startServiceFixture({
    cameras: [{ name: "garden", uid: SHORT_UID }],
    wakeServer: { burstCount: 3, burstIntervalMs: 150, maxWakesPerHour: 1 },
  });
  const camera = await CameraSim.start({
    uid: LONG_UID,
    ip: "127.0.0.3",
    middleman: fixture.middleman,
  });
  try {
    await camera.boot();
    const woken = await fixture.call("POST", "/api/cameras/garden/wake");
    assert.equal(woken.status, 202, woken.text);
    assert.equal(woken.json.uid, LONG_UID);
    assert.equal(woken.json.result, "started");
    assert.ok(Number.isInteger(woken.json.sid));

    // A second request during the burst (by short UID) joins it: same sid, no new burst.
    const joined = await fixture.call("POST", `/api/cameras/${SHORT_UID}/wake`);
    assert.equal(joined.status, 202, joined.text);
    assert.deepEqual(joined.json, { uid: LONG_UID, sid: woken.json.sid, result: "in_flight" });

    const wakes = await camera.waitForWakes(3);
    assert.ok(wakes.every((w) => w.message.fields.sid === woken.json.sid));

    // The burst is over and the budget (1 per hour) is spent.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const refused = await fixture.call("POST", "/api/cameras/garden/wake");
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.json.uid, LONG_UID);
    assert.equal(refused.json.limit, 1);
    assert.equal(refused.json.wakes_in_last_hour, 1);
    assert.match(refused.json.error, /max_wakes_per_hour/);

    const unknown = await fixture.call("POST", "/api/cameras/NOSUCHCAMERA/wake");
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error, /no camera is named NOSUCHCAMERA or has that UID/);

    const listed = await fixture.call("GET", "/api/cameras");
    assert.equal(listed.json.cameras[0].wakes, 1);
    assert.match(listed.json.cameras[0].last_wake, ISO);
    assert.equal(camera.wakes.length, 3, "no second burst was sent");
  } finally {
    await camera.close();
    await fixture.close();
  }
});

Deno.test("GET /metrics is Prometheus text with packets, replies, cameras and wakes", async () => {
  const fixture = await startServiceFixture({
    wakeServer: { burstCount: 1, burstIntervalMs: 10 },
  });
  const camera = await CameraSim.start({
    uid: LONG_UID,
    ip: "127.0.0.4",
    middleman: fixture.middleman,
  });
  try {
    await camera.boot();
    assert.equal((await fixture.call("POST", `/api/cameras/${SHORT_UID}/wake`)).status, 202);
    await camera.waitForWakes(1);
    assert.equal((await fixture.call("POST", "/api/cameras/unknown/wake")).status, 404);
    const metrics = await fixture.call("GET", "/metrics");
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const text = metrics.text;
    assert.match(text, /^# TYPE bairelay_packets_total counter$/m);
    assert.match(text, /^bairelay_packets_total\{listener="middleman",variant="D2M_Q"\} 1$/m);
    assert.match(text, /^bairelay_packets_total\{listener="register",variant="D2R_HB"\} 1$/m);
    assert.match(text, /^bairelay_replies_total\{listener="register",variant="R2D_HB_R"\} 1$/m);
    assert.match(text, /^bairelay_registered_cameras 1$/m);
    assert.match(text, /^bairelay_wakes_total\{result="started"\} 1$/m);
    assert.match(text, /^bairelay_wakes_total\{result="unknown"\} 1$/m);
    assert.match(text, /^bairelay_wakes_total\{result="not_registered"\} 0$/m);
  } finally {
    await camera.close();
    await fixture.close();
  }
});

Deno.test("with a token: 401 without it, 200 with it, /healthz open", async () => {
  const fixture = await startServiceFixture({ token: "tok-123" });
  try {
    const refused = await fixture.call("GET", "/api/cameras", null);
    assert.equal(refused.status, 401);
    assert.equal((await fixture.call("GET", "/metrics", "wrong")).status, 401);
    assert.equal((await fixture.call("POST", "/api/cameras/x/wake", null)).status, 401);
    assert.equal((await fixture.call("GET", "/api/cameras")).status, 200);
    const health = await fixture.call("GET", "/healthz", null);
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { status: "ok" });
  } finally {
    await fixture.close();
  }
});

Deno.test("a stale camera reads stale (or is gone) and cannot be woken", async () => {
  let clock = Date.now();
  const fixture = await startServiceFixture({ deps: { now: () => clock } });
  const camera = await CameraSim.start({
    uid: LONG_UID,
    ip: "127.0.0.5",
    middleman: fixture.middleman,
  });
  try {
    await camera.boot();
    clock += fixture.config.wakeServer.staleAfterMs + 1;
    const listed = await fixture.call("GET", "/api/cameras");
    for (const doc of listed.json.cameras) assert.equal(doc.fresh, false);
    const woken = await fixture.call("POST", `/api/cameras/${SHORT_UID}/wake`);
    assert.equal(woken.status, 404);
  } finally {
    await camera.close();
    await fixture.close();
  }
});

Deno.test("POST wake: an unknown name is 404 and no event; a camera never seen is 404 with its name and UID", async () => {
  const fixture = await startServiceFixture({
    cameras: [{ name: "porch", uid: "95270000porch123" }],
  });
  try {
    const unknown = await fixture.call("POST", "/api/cameras/nosuch/wake");
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error, /no camera is named nosuch or has that UID/);
    const porch = await fixture.call("POST", "/api/cameras/porch/wake");
    assert.equal(porch.status, 404);
    assert.match(porch.json.error, /camera porch is not registered/);
    assert.equal(porch.json.uid, "95270000PORCH123");
    // By UID in another case than the config's: the same camera.
    const byUid = await fixture.call("POST", "/api/cameras/95270000Porch123/wake");
    assert.equal(byUid.status, 404);
    assert.equal(byUid.json.uid, "95270000PORCH123");
    const events = (await fixture.call("GET", "/api/events")).json.events;
    const wakes = events.filter((event: { type: string }) => event.type === "wake");
    assert.equal(wakes.length, 2, JSON.stringify(events));
    for (const wake of wakes) {
      assert.equal(wake.uid, "95270000PORCH123");
      assert.equal(wake.name, "porch");
      assert.equal(wake.result, "not_registered");
    }
  } finally {
    await fixture.close();
  }
});
