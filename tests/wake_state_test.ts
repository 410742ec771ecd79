/** The wake server's state file: restart with state, atomic writes, corrupt files. */

import assert from "node:assert/strict";
import fc from "fast-check";
import { EventBus } from "../lib/event_bus.ts";
import {
  type CameraEntry,
  type MotionSeenEvent,
  STATE_FILE_NAME,
  type WakeServerEvent,
} from "../lib/wake/mod.ts";
import {
  parseState,
  serializeState,
  STATE_VERSION,
  StateStore,
  ThrottledWriter,
} from "../lib/wake/state.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { ClientSim } from "./support/client_sim.ts";
import { startTestServer } from "./support/wake_server.ts";

const UID = "95270000ABCDEFGH0123";
const SHORT = "95270000ABCDEFGH";

Deno.test("a restarted server wakes a camera before its next heartbeat", async () => {
  const stateDir = await Deno.makeTempDir();
  const camera = await CameraSim.start({
    uid: UID,
    ip: "127.0.0.2",
    middleman: { ip: "127.0.0.1", port: 1 },
  });
  const client = await ClientSim.start();
  try {
    const first = await startTestServer({ stateDir, burstCount: 1 });
    camera.register = first.register;
    await camera.heartbeat(1);
    first.wake(SHORT, "api");
    await camera.waitForWakes(1);
    await first.close();
    const saved = parseState(await Deno.readTextFile(`${stateDir}/${STATE_FILE_NAME}`));
    assert.equal(saved.length, 1);
    assert.equal(saved[0].wakes, 1);

    const second = await startTestServer({ stateDir, burstCount: 1 });
    try {
      const entry = second.registry.lookupFresh(SHORT);
      assert.equal(entry?.uid, UID);
      assert.deepEqual(entry?.address, camera.address);
      assert.equal(entry?.wakes, 1);
      const { reply } = await client.connect(second.register, SHORT);
      assert.equal(reply.message.fields.rsp, 0);
      const wakes = await camera.waitForWakes(2);
      assert.equal(wakes[1].message.fields.sid, reply.message.fields.sid);
    } finally {
      await second.close();
    }
  } finally {
    await client.close();
    await camera.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("state is written within about a second of a change, atomically", async () => {
  const stateDir = await Deno.makeTempDir();
  const server = await startTestServer({ stateDir });
  const camera = await CameraSim.start({ uid: UID, middleman: server.middleman });
  try {
    await camera.boot();
    const path = `${stateDir}/${STATE_FILE_NAME}`;
    const deadline = performance.now() + 3000;
    let cameras: ReturnType<typeof parseState> = [];
    while (performance.now() < deadline) {
      try {
        cameras = parseState(await Deno.readTextFile(path));
        if (cameras.length > 0) break;
      } catch { /* not written yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(cameras[0]?.uid, UID);
    const leftovers = [...Deno.readDirSync(stateDir)].map((e) => e.name);
    assert.deepEqual(leftovers, [STATE_FILE_NAME], "no temp files left behind");
  } finally {
    await camera.close();
    await server.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("motion heard on the bus is recorded and written with the registry", async () => {
  const stateDir = await Deno.makeTempDir();
  try {
    // Restored from the file: nothing is pending for the writer until the motion.
    const at = Date.now();
    await Deno.writeTextFile(
      `${stateDir}/${STATE_FILE_NAME}`,
      serializeState([{
        uid: UID,
        address: { ip: "127.0.0.2", port: 5000 },
        firstSeen: at,
        lastHeartbeat: at,
        wakes: 0,
      }], at),
    );
    const bus = new EventBus<WakeServerEvent | MotionSeenEvent>();
    const server = await startTestServer({ stateDir }, { bus });
    try {
      bus.emit({ type: "motion_seen", uid: UID, at: at + 5 });
      assert.equal(server.registry.lookupFresh(UID)?.lastMotion, at + 5);
    } finally {
      await server.close();
    }
    const saved = parseState(await Deno.readTextFile(`${stateDir}/${STATE_FILE_NAME}`));
    assert.equal(saved[0].lastMotion, at + 5);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("stale entries in the state file are not restored", async () => {
  const stateDir = await Deno.makeTempDir();
  try {
    const old = Date.now() - 120_000;
    await Deno.writeTextFile(
      `${stateDir}/${STATE_FILE_NAME}`,
      serializeState([
        {
          uid: UID,
          address: { ip: "127.0.0.2", port: 5000 },
          firstSeen: old,
          lastHeartbeat: old,
          wakes: 0,
        },
      ], old),
    );
    const server = await startTestServer({ stateDir, staleAfterMs: 60_000 });
    assert.equal(server.registry.size, 0);
    await server.close();
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

for (
  const [what, content] of [
    ["junk", "\u0000\u0001 not json at all"],
    ["wrong shape", JSON.stringify({ version: 1, cameras: [{ uid: 5 }] })],
    ["wrong version", JSON.stringify({ version: 99, cameras: [] })],
    [
      "a bad port",
      JSON.stringify({
        version: 1,
        cameras: [{
          uid: "X",
          address: { ip: "1.2.3.4", port: 0 },
          first_seen: 1,
          last_heartbeat: 1,
          wakes: 0,
        }],
      }),
    ],
  ]
) {
  Deno.test(`a corrupt state file (${what}) is moved aside and the server starts empty`, async () => {
    const stateDir = await Deno.makeTempDir();
    const path = `${stateDir}/${STATE_FILE_NAME}`;
    await Deno.writeTextFile(path, content);
    const server = await startTestServer({ stateDir });
    const camera = await CameraSim.start({ uid: UID, middleman: server.middleman });
    try {
      assert.equal(server.registry.size, 0);
      const names = [...Deno.readDirSync(stateDir)].map((e) => e.name);
      const aside = names.find((n) => n.startsWith(`${STATE_FILE_NAME}.corrupt-`));
      assert.ok(aside, `moved aside: ${names.join(", ")}`);
      assert.equal(await Deno.readTextFile(`${stateDir}/${aside}`), content);
      await camera.boot(); // serving normally
    } finally {
      await camera.close();
      await server.close();
      await Deno.remove(stateDir, { recursive: true });
    }
  });
}

Deno.test("an unreadable state file (a directory) is reported, the server still starts", async () => {
  const stateDir = await Deno.makeTempDir();
  await Deno.mkdir(`${stateDir}/${STATE_FILE_NAME}`);
  try {
    const loaded = await new StateStore(stateDir).load();
    assert.equal(loaded.cameras.length, 0);
    assert.match(loaded.problem?.message ?? "", /unusable/);
    const server = await startTestServer({ stateDir });
    assert.equal(server.registry.size, 0);
    await server.close();
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("an unwritable state directory does not stop the server", async () => {
  const parent = await Deno.makeTempDir();
  const blocker = `${parent}/file`;
  await Deno.writeTextFile(blocker, "x");
  const server = await startTestServer({ stateDir: `${blocker}/state` });
  const camera = await CameraSim.start({ uid: UID, middleman: server.middleman });
  try {
    await camera.boot();
    await new Promise((r) => setTimeout(r, 1200));
    assert.ok(await camera.heartbeat(1));
  } finally {
    await camera.close();
    await server.close();
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("writes are coalesced: urgent changes soon, heartbeat-only changes later", async () => {
  const writes: number[] = [];
  const started = performance.now();
  const writer = new ThrottledWriter(
    () => {
      writes.push(performance.now() - started);
      return Promise.resolve();
    },
    (error) => {
      throw error;
    },
    100,
    600,
  );
  try {
    for (let i = 0; i < 50; i++) writer.markDirty(false);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(writes.length, 1, "the first write is immediate");
    for (let i = 0; i < 50; i++) writer.markDirty(false);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(writes.length, 1, "a routine change waits for the relaxed interval");
    writer.markDirty(true);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(writes.length, 2, "an urgent change is written within the short interval");
    writer.markDirty(false);
  } finally {
    await writer.close();
  }
  assert.equal(writes.length, 3, "close() writes what is pending");
});

Deno.test("the state file written in pieces is the one JSON document, whatever the count", async () => {
  const entry: fc.Arbitrary<CameraEntry> = fc.record({
    uid: fc.string({ maxLength: 24 }),
    address: fc.record({
      ip: fc.constantFrom("127.0.0.2", "::1"),
      port: fc.integer({ min: 1, max: 65535 }),
    }),
    token: fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { nil: undefined }),
    firstSeen: fc.nat(),
    lastHeartbeat: fc.nat(),
    wakes: fc.nat(),
    lastWake: fc.option(fc.nat(), { nil: undefined }),
    lastMotion: fc.option(fc.nat(), { nil: undefined }),
  }, { requiredKeys: ["uid", "address", "firstSeen", "lastHeartbeat", "wakes"] });
  // Counts around the piece size (64 cameras) and its multiples.
  const count = fc.constantFrom(0, 1, 2, 63, 64, 65, 128, 129);
  fc.assert(
    fc.property(count, entry, fc.nat(), (n, template, savedAt) => {
      const cameras = Array.from(
        { length: n },
        (_, i) => ({ ...template, uid: `${template.uid}${i}` }),
      );
      const text = serializeState(cameras, savedAt);
      const stored = JSON.parse(text);
      assert.equal(text, JSON.stringify(stored, null, 1) + "\n");
      assert.equal(stored.version, STATE_VERSION);
      assert.equal(stored.saved_at, savedAt);
      assert.deepEqual(parseState(text).map((camera) => camera.uid), cameras.map((c) => c.uid));
    }),
    { numRuns: 60 },
  );
  const dir = await Deno.makeTempDir();
  try {
    const store = new StateStore(dir);
    const cameras = Array.from({ length: 200 }, (_, i) => ({
      uid: `95270000STATE${String(i).padStart(4, "0")}0123`,
      address: { ip: "127.0.0.2", port: 5000 + i },
      firstSeen: 1,
      lastHeartbeat: 2,
      wakes: i,
    }));
    await store.save(cameras, 3);
    assert.equal(await Deno.readTextFile(store.path), serializeState(cameras, 3));
    // Pieces too large for the write buffer (very long UIDs) are written whole too.
    const long = cameras.slice(0, 70).map((camera) => ({ ...camera, uid: camera.uid.repeat(100) }));
    await store.save(long, 4);
    assert.equal(await Deno.readTextFile(store.path), serializeState(long, 4));
    await store.save(cameras, 3);
    assert.deepEqual(
      (await store.load(3)).cameras.map((camera) => camera.wakes),
      cameras.map((c) => c.wakes),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
