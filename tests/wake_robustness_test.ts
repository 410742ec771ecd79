/** Hostile and odd input: junk, bad CRCs, other packet kinds, caps, bind errors, logs. */

import assert from "node:assert/strict";
import { reset } from "@logtape/logtape";
import { encodeDiscovery, encodePacket, message } from "../lib/bcudp/mod.ts";
import { ListenError } from "../lib/net/listen_error.ts";
import { startWakeServer } from "../lib/wake/mod.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { ClientSim } from "./support/client_sim.ts";
import { captureWakeLogs, renderRecord } from "./support/log_records.ts";
import { startTestServer, testServerOptions, withWakeRig } from "./support/wake_server.ts";

const UID = "95270000ABCDEFGH0123";

function fixture(name: string): Uint8Array {
  return Deno.readFileSync(new URL(`../fixtures/captured/${name}`, import.meta.url));
}

Deno.test("junk, bad CRC, truncated, Data/Ack/Relay and unexpected variants never stop the server", async () => {
  await withWakeRig({}, async ({ server, camera }) => {
    const good = encodeDiscovery(message("D2R_HB", { uid: UID, needrsp: 1, token: 1n }), 9);
    const badCrc = good.slice();
    badCrc[16] ^= 0xff;
    const hostile: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array([1, 2, 3]),
      crypto.getRandomValues(new Uint8Array(1400)),
      badCrc,
      good.slice(0, good.length - 5),
      fixture("udp_data.bin"),
      fixture("udp_ack.bin"),
      fixture("cloud_r2d_c.bin"), // a server-to-camera variant sent to us
      encodePacket({ kind: "relay", tid: 1, crc: 0, body: new Uint8Array([1, 2, 3]) }),
      encodeDiscovery(message("C2D_HB", { cid: 1, did: 2 }), 5),
    ];
    for (const to of [server.middleman, server.register]) {
      for (const bytes of hostile) await camera.sendRaw(bytes, to);
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(camera.received.length, 0, "nothing answered");
    const boot = await camera.boot(); // still serving
    assert.equal(boot.hbr.message.fields.rsp, 0);
    const errors = server.metrics.counter("bairelay_decode_errors_total", "");
    assert.equal(errors.get({ listener: "register", reason: "crc_mismatch" }), 1);
    assert.equal(errors.get({ listener: "middleman", reason: "bad_magic" }), 1);
    assert.equal(errors.get({ listener: "middleman", reason: "truncated_header" }), 2);
    assert.equal(errors.get({ listener: "middleman", reason: "truncated_body" }), 1);
    const dropped = server.metrics.counter("bairelay_dropped_total", "");
    assert.equal(dropped.get({ listener: "register", reason: "not_discovery" }), 3);
    assert.equal(dropped.get({ listener: "middleman", reason: "unexpected_variant" }), 2);
    const text = server.metrics.render();
    assert.match(text, /bairelay_packets_total\{listener="register",variant="DATA"\} 1/);
    assert.match(text, /bairelay_replies_total\{listener="register",variant="R2D_HB_R"\} 1/);
  });
});

Deno.test("a datagram carrying several packets is handled packet by packet", async () => {
  await withWakeRig({}, async ({ server, camera }) => {
    const one = encodeDiscovery(message("D2R_DISC", { sid: 1 }), 1);
    const two = encodeDiscovery(message("D2R_DISC", { sid: 2 }), 2);
    const both = new Uint8Array(one.length + two.length);
    both.set(one);
    both.set(two, one.length);
    await camera.sendRaw(both, server.register);
    await camera.waitFor("R2D_DC_R", { match: (r) => r.message.fields.sid === 2 });
    assert.equal(camera.all("R2D_DC_R").length, 2);
  });
});

Deno.test("registry cap: new UIDs refused when full, known ones still refresh", async () => {
  const server = await startTestServer({ maxCameras: 2 });
  const cameras = await Promise.all(
    [1, 2, 3].map((n) =>
      CameraSim.start({ uid: `95270000CAP0000${n}0123`, middleman: server.middleman })
    ),
  );
  try {
    for (const camera of cameras) camera.register = server.register;
    assert.ok(await cameras[0].heartbeat(1));
    assert.ok(await cameras[1].heartbeat(1));
    await cameras[2].heartbeat(0);
    await cameras[2].send(cameras[2].heartbeatMessage(1), server.register);
    assert.equal(await cameras[2].countDuring("R2D_HB_R", 300), 0);
    assert.equal(server.registry.size, 2);
    assert.equal(server.registry.lookupFresh(cameras[2].uid), undefined);
    assert.ok(await cameras[0].heartbeat(1), "known camera still refreshes");
    const dropped = server.metrics.counter("bairelay_dropped_total", "");
    assert.equal(dropped.get({ listener: "register", reason: "registry_full" }), 2);
  } finally {
    for (const camera of cameras) await camera.close();
    await server.close();
  }
});

Deno.test("anchor cap: D2M_Q from a new UID is refused when full, a known one re-anchors", async () => {
  const server = await startTestServer({ maxAnchors: 1 });
  const a = await CameraSim.start({ uid: "95270000ANCHOR010123", middleman: server.middleman });
  const b = await CameraSim.start({ uid: "95270000ANCHOR020123", middleman: server.middleman });
  try {
    await a.query();
    await b.send(message("D2M_Q", { uid: b.uid }), server.middleman);
    assert.equal(await b.countDuring("M2D_Q_R", 300), 0);
    const again = await a.query();
    assert.equal((await a.anchor()).message.fields.ac, again.message.fields.ac);
    const dropped = server.metrics.counter("bairelay_dropped_total", "");
    assert.equal(dropped.get({ listener: "middleman", reason: "anchors_full" }), 1);
  } finally {
    await a.close();
    await b.close();
    await server.close();
  }
});

Deno.test("a port in use is a ListenError naming the listener, port and remedy", async () => {
  const first = await startTestServer();
  try {
    await assert.rejects(
      () => startWakeServer(testServerOptions({ registerPort: first.register.port })),
      (error: unknown) => {
        assert.ok(error instanceof ListenError);
        assert.equal(error.listener, "register");
        assert.equal(error.code, "EADDRINUSE");
        assert.equal(error.port, first.register.port);
        assert.match(error.message, new RegExp(`port ${first.register.port} is already in use`));
        return true;
      },
    );
    await assert.rejects(
      () => startWakeServer(testServerOptions({ bind: "192.0.2.254" })),
      (error: unknown) => error instanceof ListenError && error.listener === "middleman",
    );
  } finally {
    await first.close();
  }
});

Deno.test("close() resolves within a second, mid-burst, and stops the burst", async () => {
  await withWakeRig(
    { server: { burstCount: 50, burstIntervalMs: 100 } },
    async ({ server, camera }) => {
      await camera.boot();
      server.wake(UID, "api");
      await camera.waitForWakes(1);
      const started = performance.now();
      await server.close();
      assert.ok(performance.now() - started < 1000);
      const count = camera.wakes.length;
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(camera.wakes.length, count, "burst cancelled");
    },
  );
});

Deno.test("refusals are logged at warn with the camera and the reason", async () => {
  const records = await captureWakeLogs();
  const server = await startTestServer({ burstCount: 1, maxWakesPerHour: 1 });
  const camera = await CameraSim.start({ uid: UID, middleman: server.middleman });
  const client = await ClientSim.start();
  try {
    await camera.boot();
    await client.connect(server.register, UID);
    await client.connect(server.register, UID);
    const warnings = records.filter((r) => r.level === "warning").map(renderRecord);
    assert.equal(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], new RegExp(`${UID}.*max_wakes_per_hour = 1`));
    const infos = records.filter((r) => r.level === "info").map(renderRecord);
    assert.ok(infos.some((line) => /registered from 127\.0\.0\.1/.test(line)), infos.join("\n"));
    assert.ok(infos.some((line) => /Waking camera/.test(line)), infos.join("\n"));
  } finally {
    await client.close();
    await camera.close();
    await server.close();
    await reset();
  }
});

Deno.test("bound to :: (dual stack), IPv4 peers are handled and answered as plain IPv4", async () => {
  const server = await startTestServer({ bind: "::", burstCount: 1 });
  const middleman = { ip: "127.0.0.1", port: server.middleman.port };
  const camera = await CameraSim.start({ uid: UID, ip: "127.0.0.2", middleman });
  try {
    const boot = await camera.boot();
    assert.deepEqual(boot.register, { ip: "127.0.0.1", port: server.register.port });
    assert.deepEqual(server.registry.lookupFresh(UID)?.address, camera.address);
    server.wake(UID, "api");
    const [wake] = await camera.waitForWakes(1);
    assert.equal(wake.message.fields.relay.ip, "127.0.0.1");
  } finally {
    await camera.close();
    await server.close();
  }
});
