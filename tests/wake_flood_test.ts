/**
 * A flood of hostile datagrams of every kind (random bytes, bad magic, bad CRC, truncated,
 * bit-flipped documents, oversized fields, valid heartbeats from random UIDs) from many
 * loopback source addresses: the server keeps answering, the registry stays within its cap,
 * and a real camera that keeps heartbeating stays registered and wakeable. Not timed; the
 * figures (memory, rates) are in bench/serve_flood.ts.
 */

import assert from "node:assert/strict";
import { CameraSim } from "./support/camera_sim.ts";
import { ClientSim } from "./support/client_sim.ts";
import { HOSTILE_KINDS, hostileDatagram, seededRandom } from "./support/hostile_datagrams.ts";
import { startTestServer } from "./support/wake_server.ts";

const UID = "95270000FLOODTST0001";
const MAX_CAMERAS = 16;
/** Datagrams of each kind. */
const PER_KIND = 400;
/** Distinct loopback source addresses of the flood. */
const SOURCES = 32;

Deno.test("a hostile flood of every kind leaves the server answering, the registry capped and a real camera wakeable", async () => {
  const server = await startTestServer({ maxCameras: MAX_CAMERAS, maxWakesPerHour: 0 });
  const camera = await CameraSim.start({ uid: UID, ip: "127.76.0.1", middleman: server.middleman });
  const client = await ClientSim.start("127.76.0.2");
  const sources = Array.from(
    { length: SOURCES },
    (_, i) => Deno.listenDatagram({ transport: "udp", hostname: `127.77.0.${i + 1}`, port: 0 }),
  );
  const draining = sources.map(async (socket) => {
    try {
      for await (const _ of socket) { /* replies to random UIDs */ }
    } catch { /* closed */ }
  });
  try {
    await camera.boot();
    camera.startHeartbeats(50);
    const random = seededRandom(14);
    const to = { transport: "udp" as const, hostname: "127.0.0.1", port: server.register.port };
    let largestRegistry = 0;
    let sent = 0;
    for (let round = 0; round < PER_KIND; round++) {
      for (const kind of HOSTILE_KINDS) {
        const socket = sources[sent++ % SOURCES];
        await socket.send(hostileDatagram(kind, random), to);
      }
      if (round % 20 === 19) {
        await new Promise((r) => setTimeout(r, 5)); // let the server read (its buffer is 4 MiB)
        largestRegistry = Math.max(largestRegistry, server.registry.size);
      }
    }
    await new Promise((r) => setTimeout(r, 300));
    largestRegistry = Math.max(largestRegistry, server.registry.size);

    const errors = server.metrics.counter("bairelay_decode_errors_total", "");
    for (const reason of ["bad_magic", "crc_mismatch", "malformed_xml"]) {
      assert.ok(errors.get({ listener: "register", reason }) > 0, `${reason} reached the decoder`);
    }
    assert.ok(
      errors.get({ listener: "register", reason: "truncated_header" }) +
          errors.get({ listener: "register", reason: "truncated_body" }) > 0,
    );
    const dropped = server.metrics.counter("bairelay_dropped_total", "");
    assert.ok(
      dropped.get({ listener: "register", reason: "registry_full" }) > 0,
      "random UIDs filled the registry and were then refused",
    );
    assert.ok(largestRegistry <= MAX_CAMERAS, `registry held ${largestRegistry}`);
    assert.equal(server.registry.size, MAX_CAMERAS);

    assert.ok(server.registry.lookupFresh(UID), "the real camera is still registered");
    const answered = await camera.heartbeat(1);
    assert.equal(answered?.message.fields.rsp, 0, "its heartbeats are still answered");
    const before = camera.wakes.length;
    const { reply } = await client.connect(server.register, UID.slice(0, 16));
    assert.equal(reply.message.fields.rsp, 0, "a client can still wake it");
    await camera.waitForWakes(before + 1);
  } finally {
    camera.stopHeartbeats();
    for (const socket of sources) socket.close();
    await Promise.all(draining);
    await client.close();
    await camera.close();
    await server.close();
  }
});
