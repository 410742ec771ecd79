/** The client side of the wake server: C2M_Q, C2R_C, wake bursts and battery guards. */

import assert from "node:assert/strict";
import type { WakeServerEvent } from "../lib/wake/mod.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { ClientSim } from "./support/client_sim.ts";
import { FakeClock, startTestServer, withWakeRig } from "./support/wake_server.ts";

const UID = "95270000ABCDEFGH0123";
const SHORT = "95270000ABCDEFGH";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

Deno.test("C2M_Q -> M2C_Q_R with reg, relay, log and t all our register address", async () => {
  const server = await startTestServer();
  const client = await ClientSim.start();
  try {
    const reply = await client.query(server.middleman, SHORT);
    const us = `<ip>127.0.0.1</ip><port>${server.register.port}</port>`;
    assert.equal(
      reply.xml,
      `<P2P><M2C_Q_R><reg>${us}</reg><relay>${us}</relay><log>${us}</log><t>${us}</t>` +
        `</M2C_Q_R></P2P>`,
    );
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("a wake: 10 R2D_C ~100 ms apart with cli.ip substituted, then R2C_C_R + R2C_T", async () => {
  await withWakeRig(
    { deps: { randomU32: () => 0x01020304 }, camera: { ip: "127.0.0.2" } },
    async ({ server, camera, client }) => {
      await camera.boot();
      const sent = performance.now();
      const { reply, transfer } = await client.connect(server.register, SHORT, {
        cid: -12345,
        cli: { ip: "192.168.1.50", port: 4000 },
      });
      const wakes = await camera.waitForWakes(10, 5000);
      assert.equal(await camera.countDuring("R2D_C", 400), 0, "no 11th packet");
      assert.equal(wakes.length, 10);
      const register = `<ip>127.0.0.1</ip><port>${server.register.port}</port>`;
      const expected = `<P2P><R2D_C><cli><ip>127.0.0.1</ip><port>4000</port></cli>` +
        `<cmap><ip>127.0.0.1</ip><port>${client.address.port}</port></cmap>` +
        `<relay>${register}</relay><sid>16909060</sid><cid>-12345</cid></R2D_C></P2P>`;
      for (const wake of wakes) {
        assert.equal(wake.xml, expected);
        assert.deepEqual(wake.from, server.register);
      }
      const gaps = wakes.slice(1).map((w, i) => w.at - wakes[i].at);
      const spacing = median(gaps);
      assert.ok(spacing > 60 && spacing < 250, `median spacing ${spacing} ms`);
      assert.ok(wakes[9].at - wakes[0].at > 600, "burst spread over ~900 ms");
      assert.ok(wakes[0].at - sent < 1000, "first R2D_C right away");

      const camAddr = `<ip>127.0.0.2</ip><port>${camera.address.port}</port>`;
      assert.equal(
        reply.xml,
        `<P2P><R2C_C_R><dev>${camAddr}</dev><dmap>${camAddr}</dmap><relay>${register}</relay>` +
          `<nat>NULL</nat><sid>16909060</sid><rsp>0</rsp><ac>0</ac></R2C_C_R></P2P>`,
      );
      assert.equal(
        transfer?.xml,
        `<P2P><R2C_T><dev>${camAddr}</dev><dmap>${camAddr}</dmap><sid>16909060</sid>` +
          `<cid>-12345</cid></R2C_T></P2P>`,
      );
      assert.ok(reply.at >= wakes[0].at - 50, "R2C_C_R follows the first R2D_C");
      assert.equal(server.registry.lookupFresh(UID)?.wakes, 1);
    },
  );
});

Deno.test("unknown UID: R2C_C_R {nat NULL, rsp -1, ac 0} only, no burst", async () => {
  await withWakeRig({}, async ({ server, camera, client }) => {
    await camera.boot();
    const { reply, transfer } = await client.connect(server.register, "95279999XXXXXXXX");
    assert.equal(reply.xml, "<P2P><R2C_C_R><nat>NULL</nat><rsp>-1</rsp><ac>0</ac></R2C_C_R></P2P>");
    assert.equal(transfer, undefined);
    assert.equal(await client.countDuring("R2C_T", 200), 0);
    assert.equal(camera.wakes.length, 0);
    // A UID no camera has is "unknown": counted, but no camera of that name is made up.
    const wakes = server.metrics.counter("bairelay_wakes_total", "");
    assert.equal(wakes.get({ result: "unknown" }), 1);
    assert.equal(wakes.get({ result: "not_registered" }), 0);
  });
});

Deno.test("stale camera: reads as absent (rsp -1), is evicted with an event", async () => {
  const clock = new FakeClock();
  await withWakeRig(
    { server: { staleAfterMs: 60_000 }, deps: { now: clock.now } },
    async ({ server, camera, client }) => {
      const events: WakeServerEvent[] = [];
      server.onEvent((e) => events.push(e));
      await camera.boot();
      clock.advance(60_001);
      const { reply } = await client.connect(server.register, SHORT);
      assert.equal(reply.message.fields.rsp, -1);
      assert.equal(server.registry.lookupFresh(SHORT), undefined);
      const deadline = performance.now() + 3000;
      while (!events.some((e) => e.type === "deregistered") && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(events.some((e) => e.type === "deregistered" && e.uid === UID));
      assert.equal(server.registry.size, 0);
      assert.equal(camera.wakes.length, 0);
      await camera.heartbeat(1); // a heartbeat brings it back
      assert.equal(server.registry.lookupFresh(SHORT)?.uid, UID);
    },
  );
});

Deno.test("short UIDs match by prefix (freshest of several); long UIDs match exactly", async () => {
  const clock = new FakeClock();
  const server = await startTestServer({ burstCount: 1 }, { now: clock.now });
  const older = await CameraSim.start({
    uid: SHORT + "0001",
    ip: "127.0.0.2",
    middleman: server.middleman,
  });
  const newer = await CameraSim.start({
    uid: SHORT + "0002",
    ip: "127.0.0.3",
    middleman: server.middleman,
  });
  const client = await ClientSim.start();
  try {
    await older.boot();
    clock.advance(1000);
    await newer.boot();
    const short = await client.connect(server.register, SHORT);
    assert.equal(short.reply.message.fields.dev?.ip, "127.0.0.3");
    await newer.waitForWakes(1);
    const long = await client.connect(server.register, SHORT + "0001");
    assert.equal(long.reply.message.fields.dev?.ip, "127.0.0.2");
    await older.waitForWakes(1);
    const miss = await client.connect(server.register, SHORT + "0003");
    assert.equal(miss.reply.message.fields.rsp, -1);
  } finally {
    await client.close();
    await older.close();
    await newer.close();
    await server.close();
  }
});

Deno.test("one burst in flight per camera: a second C2R_C joins it (same sid)", async () => {
  const server = await startTestServer({ burstCount: 5, burstIntervalMs: 60 });
  const camera = await CameraSim.start({ uid: UID, middleman: server.middleman });
  const first = await ClientSim.start();
  const second = await ClientSim.start();
  try {
    await camera.boot();
    const a = await first.connect(server.register, SHORT);
    const b = await second.connect(server.register, SHORT);
    assert.equal(b.reply.message.fields.rsp, 0);
    assert.equal(b.reply.message.fields.sid, a.reply.message.fields.sid);
    assert.ok(b.transfer);
    assert.equal(server.wake(SHORT, { kind: "api" }).result, "in_flight");
    await camera.waitForWakes(5);
    assert.equal(await camera.countDuring("R2D_C", 500), 0);
    assert.equal(camera.wakes.length, 5);
    assert.equal(server.registry.lookupFresh(UID)?.wakes, 1);
    // Once the burst is over, a new request starts a new one.
    const c = await first.connect(server.register, SHORT);
    assert.notEqual(c.reply.message.fields.sid, a.reply.message.fields.sid);
    await camera.waitForWakes(10);
  } finally {
    await first.close();
    await second.close();
    await camera.close();
    await server.close();
  }
});

Deno.test("wake budget: over max_wakes_per_hour the client gets rsp -1 until the hour passes", async () => {
  const clock = new FakeClock();
  await withWakeRig({
    server: { burstCount: 1, maxWakesPerHour: 2 },
    deps: {
      now: clock.now,
    },
  }, async ({ server, camera, client }) => {
    await camera.boot();
    camera.startHeartbeats(200);
    assert.equal((await client.connect(server.register, SHORT)).reply.message.fields.rsp, 0);
    clock.advance(1000);
    assert.equal(server.wake(SHORT, { kind: "api" }).result, "started");
    clock.advance(1000);
    const refused = await client.connect(server.register, SHORT);
    assert.equal(refused.reply.message.fields.rsp, -1);
    assert.equal(refused.reply.message.fields.nat, "NULL");
    assert.deepEqual(server.wake(UID, { kind: "mqtt" }), {
      result: "over_budget",
      uid: UID,
      wakesInLastHour: 2,
      limit: 2,
    });
    await camera.waitForWakes(2);
    assert.equal(await camera.countDuring("R2D_C", 300), 0);
    clock.advance(3_600_000 - 1000);
    await camera.heartbeat(1);
    assert.equal((await client.connect(server.register, SHORT)).reply.message.fields.rsp, 0);
    await camera.waitForWakes(3);
    const wakes = server.metrics.counter("bairelay_wakes_total", "");
    assert.equal(wakes.get({ result: "over_budget" }), 2);
    assert.equal(wakes.get({ result: "started" }), 3);
  });
});

Deno.test("max_wakes_per_hour = 0 means unlimited", async () => {
  await withWakeRig(
    { server: { burstCount: 1, maxWakesPerHour: 0 } },
    async ({ server, camera }) => {
      await camera.boot();
      for (let i = 0; i < 70; i++) {
        assert.equal(server.wake(SHORT, { kind: "api" }).result, "started");
      }
      await camera.waitForWakes(70);
    },
  );
});

Deno.test("server.wake by configured name, short or long UID; not yet registered is not_registered", async () => {
  await withWakeRig({
    server: {
      burstCount: 1,
      cameras: [{ name: "garden", uid: SHORT }],
    },
  }, async ({ server, camera }) => {
    const events: WakeServerEvent[] = [];
    server.onEvent((e) => e.type === "wake" && events.push(e));
    assert.deepEqual(server.wake("garden", { kind: "api" }), {
      result: "not_registered",
      target: "garden",
      uid: SHORT,
    });
    assert.deepEqual(server.wake("nosuch", { kind: "api" }), {
      result: "unknown",
      target: "nosuch",
    });
    await camera.boot();
    assert.equal(server.registry.lookupFresh(UID)?.name, "garden");
    const outcome = server.wake("garden", { kind: "mqtt" });
    assert.equal(outcome.result, "started");
    const [wake] = await camera.waitForWakes(1);
    const relay = { ip: "127.0.0.1", port: server.register.port };
    assert.deepEqual(wake.message.fields.relay, relay);
    assert.equal(wake.message.fields.sid, (outcome as { sid: number }).sid);
    assert.deepEqual(
      events.map((e) => [e.type === "wake" && e.source, e.type === "wake" && e.result]),
      [["api", "not_registered"], ["mqtt", "started"]],
    );
  });
});

Deno.test("several cameras on distinct loopback addresses are each woken alone", async () => {
  const server = await startTestServer({ burstCount: 2, burstIntervalMs: 20 });
  const cameras = await Promise.all([2, 3, 4, 5].map((n) =>
    CameraSim.start({
      uid: `9527000${n}CAMERA0000${n}`.padEnd(20, "0"),
      ip: `127.0.0.${n}`,
      middleman: server.middleman,
    })
  ));
  const client = await ClientSim.start();
  try {
    for (const camera of cameras) await camera.boot();
    assert.equal(server.registry.size, 4);
    const target = cameras[2];
    const { reply } = await client.connect(server.register, target.uid.slice(0, 16));
    assert.equal(reply.message.fields.dev?.ip, "127.0.0.4");
    await target.waitForWakes(2);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(cameras.map((c) => c.wakes.length), [0, 0, 2, 0]);
    for (const camera of cameras) {
      assert.equal(server.registry.lookupByIp(camera.address.ip)?.uid, camera.uid);
    }
  } finally {
    await client.close();
    for (const camera of cameras) await camera.close();
    await server.close();
  }
});

Deno.test("a woken camera can open its TCP port (tcpOnWake)", async () => {
  await withWakeRig(
    { server: { burstCount: 1 }, camera: { tcpOnWake: 0 } },
    async ({ server, camera }) => {
      await camera.boot();
      server.wake(SHORT, { kind: "api" });
      await camera.waitForWakes(1);
      assert.ok(camera.tcpPort);
      const conn = await Deno.connect({ hostname: camera.address.ip, port: camera.tcpPort });
      conn.close();
    },
  );
});
