/** The camera side of the wake server: boot handshake, anchors, heartbeats, disconnect. */

import assert from "node:assert/strict";
import { encodeDiscoveryXml, message } from "../lib/bcudp/mod.ts";
import type { WakeServerEvent } from "../lib/wake/mod.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { startTestServer, withWakeRig } from "./support/wake_server.ts";

const UID = "95270000ABCDEFGH0123";
const SHORT = "95270000ABCDEFGH";

Deno.test("boot handshake: exact M2D_Q_R shape, ac echoed, heartbeat answered", async () => {
  await withWakeRig({
    deps: {
      randomU64: () => 1234567890123456789n,
      randomU32: () => 42,
    },
    camera: { ip: "127.0.0.2" },
  }, async ({ server, camera }) => {
    const before = Math.floor(Date.now() / 1000);
    const boot = await camera.boot();
    const port = server.register.port;
    assert.equal(
      boot.m2dqrXml,
      `<P2P><M2D_Q_R><reg><ip>127.0.0.1</ip><port>${port}</port></reg>` +
        `<log><ip>127.0.0.1</ip><port>${port}</port></log><timer/><retry/><rsp>0</rsp>` +
        `<token>1234567890123456789</token><ac>42</ac></M2D_Q_R></P2P>`,
    );
    assert.deepEqual(boot.r2drr.message.fields, { rsp: -4, ac: 42 });
    assert.equal(boot.r2drr.xml, "<P2P><R2D_R_R><rsp>-4</rsp><ac>42</ac></R2D_R_R></P2P>");
    const hb = boot.hbr.message.fields;
    assert.equal(hb.rsp, 0);
    assert.deepEqual(hb.timer, { hb: 20000 });
    assert.ok(hb.time_t >= BigInt(before) && hb.time_t <= BigInt(before + 5), `${hb.time_t}`);
    assert.match(boot.hbr.xml, /^<P2P><R2D_HB_R><rsp>0<\/rsp><time_t>\d+<\/time_t>/);
    const entry = server.registry.lookupFresh(SHORT);
    assert.equal(entry?.uid, UID);
    assert.deepEqual(entry?.address, camera.address);
    assert.equal(entry?.token, 1234567890123456789n);
  });
});

Deno.test("every reply echoes the request's tid and goes to the UDP source", async () => {
  await withWakeRig({ camera: { ip: "127.0.0.3" } }, async ({ server, camera }) => {
    const tid = 0xdeadbeef;
    const reply = camera.waitFor("M2D_Q_R", { match: (r) => r.tid === tid });
    await camera.send(message("D2M_Q", { uid: UID, r: 3 }), server.middleman, tid);
    const got = await reply;
    assert.deepEqual(got.from, server.middleman);
  });
});

Deno.test("each D2M_Q gets a fresh token and ac; only the latest anchor is answered", async () => {
  await withWakeRig({}, async ({ camera }) => {
    const first = (await camera.query()).message.fields;
    const second = (await camera.query()).message.fields;
    assert.notEqual(first.token, second.token);
    assert.notEqual(first.ac, second.ac);
    const anchored = await camera.anchor(second.token);
    assert.equal(anchored.message.fields.ac, second.ac);
    await camera.send(message("D2R_R", { uid: UID, token: first.token }), camera.register!);
    assert.equal(await camera.countDuring("R2D_R_R", 300), 0, "stale token must be dropped");
  });
});

Deno.test("D2R_R with a wrong token or without an anchor is dropped (no ac leak)", async () => {
  const server = await startTestServer();
  const camera = await CameraSim.start({ uid: UID, middleman: server.middleman });
  const stranger = await CameraSim.start({
    uid: "95270000ZZZZZZZZ0001",
    middleman: server.middleman,
  });
  try {
    const { token } = (await camera.query()).message.fields;
    await camera.send(message("D2R_R", { uid: UID, token: token ^ 1n }), camera.register!);
    stranger.register = camera.register;
    await stranger.send(
      message("D2R_R", { uid: stranger.uid, token: 5n }),
      camera.register!,
    );
    assert.equal(await camera.countDuring("R2D_R_R", 300), 0);
    assert.equal(stranger.all("R2D_R_R").length, 0);
    const dropped = server.metrics.counter("bairelay_dropped_total", "");
    assert.equal(dropped.get({ listener: "register", reason: "token_mismatch" }), 1);
    assert.equal(dropped.get({ listener: "register", reason: "no_anchor" }), 1);
  } finally {
    await stranger.close();
    await camera.close();
    await server.close();
  }
});

Deno.test("an anchor older than anchorTtlMs is no longer answered", async () => {
  let now = 1_000_000;
  await withWakeRig(
    { server: { anchorTtlMs: 5000 }, deps: { now: () => now } },
    async ({ camera }) => {
      await camera.query();
      now += 6000;
      await camera.send(message("D2R_R", { uid: UID, token: camera.token }), camera.register!);
      assert.equal(await camera.countDuring("R2D_R_R", 300), 0);
    },
  );
});

Deno.test("heartbeats register the UDP source (not <dev>); needrsp 0 gets no reply", async () => {
  const server = await startTestServer();
  const events: WakeServerEvent[] = [];
  const unsubscribe = server.onEvent((e) => events.push(e));
  const camera = await CameraSim.start({
    uid: UID,
    ip: "127.0.0.4",
    middleman: server.middleman,
    dev: { ip: "192.168.77.77", port: 1234 },
  });
  try {
    camera.register = server.register;
    await camera.heartbeat(0);
    assert.equal(await camera.countDuring("R2D_HB_R", 300), 0);
    const entry = server.registry.lookupFresh(UID);
    assert.deepEqual(entry?.address, camera.address);
    await camera.heartbeat(1);
    assert.deepEqual(events.map((e) => e.type), ["registered", "heartbeat"]);
    assert.deepEqual(server.registry.lookupByIp("127.0.0.4")?.uid, UID);
    assert.equal(server.registry.lookupByIp("192.168.77.77"), undefined);
    assert.match(server.metrics.render(), /bairelay_registered_cameras 1/);
  } finally {
    unsubscribe();
    await camera.close();
    await server.close();
  }
});

Deno.test("D2R_DISC gets R2D_DC_R with the same sid and rsp 0", async () => {
  await withWakeRig({}, async ({ server, camera }) => {
    const reply = await camera.request(
      message("D2R_DISC", { sid: 31337 }),
      server.register,
      "R2D_DC_R",
    );
    assert.equal(reply.xml, "<P2P><R2D_DC_R><sid>31337</sid><rsp>0</rsp></R2D_DC_R></P2P>");
  });
});

Deno.test("the camera's D2R_C_R records the wake's completion once", async () => {
  await withWakeRig(
    { server: { burstCount: 3, burstIntervalMs: 30 } },
    async ({ server, camera, client }) => {
      const confirmed: WakeServerEvent[] = [];
      server.onEvent((e) => e.type === "wake_confirmed" && confirmed.push(e));
      await camera.boot();
      const { reply } = await client.connect(server.register, SHORT);
      await camera.waitForWakes(3);
      const sid = reply.message.fields.sid!;
      await client.send(
        message("C2R_CFM", { sid, conn: "local", rsp: 0, cid: 1, did: 2 }),
        server.register,
      );
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(confirmed.length, 1);
      const confirmations = server.metrics.counter("bairelay_wakes_confirmed_total", "");
      assert.equal(confirmations.get({ variant: "D2R_C_R" }), 1, "the camera confirmed first");
      assert.deepEqual(
        { type: confirmed[0].type, uid: (confirmed[0] as { uid: string }).uid },
        { type: "wake_confirmed", uid: UID },
      );
    },
  );
});

Deno.test("UIDs longer than 64 bytes are rejected; 64 bytes are accepted", async () => {
  const server = await startTestServer();
  const camera = await CameraSim.start({ uid: "A".repeat(64), middleman: server.middleman });
  try {
    camera.register = server.register;
    assert.ok(await camera.heartbeat(1));
    const long = "B".repeat(65);
    const xml =
      `<P2P><D2R_HB><uid>${long}</uid><needrsp>1</needrsp><token>1</token></D2R_HB></P2P>`;
    await camera.sendRaw(encodeDiscoveryXml(xml, 7), server.register);
    assert.equal(await camera.countDuring("R2D_HB_R", 300), 0);
    assert.equal(server.registry.size, 1);
    const errors = server.metrics.counter("bairelay_decode_errors_total", "");
    assert.equal(errors.get({ listener: "register", reason: "out_of_range" }), 1);
  } finally {
    await camera.close();
    await server.close();
  }
});
