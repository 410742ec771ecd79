import assert from "node:assert/strict";
import { CameraSim } from "./support/camera_sim.ts";
import { ClientSim } from "./support/client_sim.ts";
import { startTestServer } from "./support/wake_server.ts";

const UID = "95270000ABCDEFGH0123";
const SHORT = "95270000ABCDEFGH";

Deno.test("boot handshake: exact M2D_Q_R shape, ac echoed, heartbeat answered", async () => {
  const server = await startTestServer({}, {
    randomU64: () => 1234567890123456789n,
    randomU32: () => 42,
  });
  const camera = await CameraSim.start({ uid: UID, ip: "127.0.0.2", middleman: server.middleman });
  try {
    const boot = await camera.boot();
    const port = server.register.port;
    assert.equal(
      boot.m2dqrXml,
      `<P2P><M2D_Q_R><reg><ip>127.0.0.1</ip><port>${port}</port></reg>` +
        `<log><ip>127.0.0.1</ip><port>${port}</port></log><timer/><retry/><rsp>0</rsp>` +
        `<token>1234567890123456789</token><ac>42</ac></M2D_Q_R></P2P>`,
    );
    assert.deepEqual(boot.r2drr.message.fields, { rsp: -4, ac: 42 });
    assert.equal(boot.hbr.message.fields.rsp, 0);
    assert.deepEqual(boot.hbr.message.fields.timer, { hb: 20000 });
    const entry = server.registry.lookupFresh(SHORT);
    assert.equal(entry?.uid, UID);
    assert.deepEqual(entry?.address, camera.address);
  } finally {
    await camera.close();
    await server.close();
  }
});

Deno.test("C2R_C wakes a registered camera with a burst and answers the client", async () => {
  const server = await startTestServer({ burstCount: 3, burstIntervalMs: 20 });
  const camera = await CameraSim.start({ uid: UID, ip: "127.0.0.2", middleman: server.middleman });
  const client = await ClientSim.start();
  try {
    await camera.boot();
    const { reply, transfer } = await client.connect(server.register, SHORT, { cid: 777 });
    assert.equal(reply.message.fields.rsp, 0);
    assert.ok(transfer);
    const wakes = await camera.waitForWakes(3);
    assert.equal(wakes[0].message.fields.sid, reply.message.fields.sid);
  } finally {
    await client.close();
    await camera.close();
    await server.close();
  }
});
