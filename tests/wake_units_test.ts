/** Unit tests of the wake server's parts: registry, anchors, budget, advertiser, metrics. */

import assert from "node:assert/strict";
import fc from "fast-check";
import { CounterByPair, Metrics } from "../lib/metrics.ts";
import { AddressAdvertiser } from "../lib/net/advertiser.ts";
import { isWildcard } from "../lib/net/ip.ts";
import { WakeBudget } from "../lib/wake/bursts.ts";
import { SessionAnchors } from "../lib/wake/anchors.ts";
import { CameraRegistry, SHORT_UID_LENGTH } from "../lib/wake/registry.ts";
import { SEND_SLAB_BYTES, SendBuffers } from "../lib/wake/send_buffers.ts";
import { playSteps, registrySteps } from "./support/registry_steps.ts";
import { FakeClock } from "./support/wake_server.ts";

const at = (ip: string, port = 5000) => ({ ip, port });

Deno.test("registry: prefix lookup picks the freshest, stale entries read as absent", () => {
  const clock = new FakeClock();
  const registry = new CameraRegistry({ staleAfterMs: 1000, maxCameras: 10, now: clock.now });
  registry.upsertHeartbeat("AAAA0001", at("127.0.0.2"), 1n);
  clock.advance(100);
  registry.upsertHeartbeat("AAAA0002", at("127.0.0.3"), 1n);
  assert.equal(registry.lookupFresh("AAAA")?.uid, "AAAA0002");
  assert.equal(registry.lookupFresh("AAAA0001")?.uid, "AAAA0001");
  assert.equal(registry.lookupFresh(""), undefined);
  clock.advance(950);
  assert.equal(registry.lookupFresh("AAAA")?.uid, "AAAA0002");
  assert.equal(registry.lookupFresh("AAAA0001"), undefined);
  assert.equal(registry.lookupByIp("127.0.0.2"), undefined);
  assert.equal(registry.list().length, 2, "listed until swept");
  assert.deepEqual(registry.sweep().map((e) => e.uid), ["AAAA0001"]);
  assert.equal(registry.size, 1);
});

Deno.test("registry: UIDs match in any case; identify knows configured and held cameras only", () => {
  const registry = new CameraRegistry({
    staleAfterMs: 1000,
    maxCameras: 10,
    cameras: [{ name: "garden", uid: "95270000garden01" }, {
      name: "porch",
      uid: "95270000PORCH001",
    }],
  });
  registry.upsertHeartbeat("95270000GARDEN010123", at("127.0.0.2"), 1n);
  assert.equal(registry.lookupFresh("95270000garden01")?.uid, "95270000GARDEN010123");
  assert.equal(registry.resolveTarget("95270000Garden010123")?.name, "garden");
  assert.equal(registry.nameFor("95270000GARDEN010123"), "garden");
  assert.deepEqual(registry.identify("porch"), { uid: "95270000PORCH001", name: "porch" });
  assert.deepEqual(registry.identify("95270000porch001"), {
    uid: "95270000PORCH001",
    name: "porch",
  });
  assert.deepEqual(registry.identify("95270000garden01"), {
    uid: "95270000GARDEN01",
    name: "garden",
  });
  assert.equal(registry.identify("nosuch"), undefined);
  assert.equal(registry.identify("95279999XXXXXXXX"), undefined);
});

Deno.test("registry: returned entries are copies; an address change is reported as moved", () => {
  const registry = new CameraRegistry({ staleAfterMs: 1000, maxCameras: 10 });
  registry.upsertHeartbeat("UID1", at("127.0.0.2"), 1n);
  const copy = registry.lookupFresh("UID1")!;
  copy.address.ip = "6.6.6.6";
  assert.equal(registry.lookupFresh("UID1")?.address.ip, "127.0.0.2");
  const moved = registry.upsertHeartbeat("UID1", at("127.0.0.2", 6000), 2n);
  assert.equal(moved.result === "refreshed" && moved.moved, true);
});

Deno.test("registry: the cap refuses new UIDs but makes room once entries go stale", () => {
  const clock = new FakeClock();
  const registry = new CameraRegistry({ staleAfterMs: 1000, maxCameras: 2, now: clock.now });
  registry.upsertHeartbeat("A", at("127.0.0.2"), 1n);
  registry.upsertHeartbeat("B", at("127.0.0.3"), 1n);
  assert.equal(registry.upsertHeartbeat("C", at("127.0.0.4"), 1n).result, "full");
  assert.equal(registry.upsertHeartbeat("A", at("127.0.0.2"), 1n).result, "refreshed");
  clock.advance(2000);
  assert.equal(registry.upsertHeartbeat("C", at("127.0.0.4"), 1n).result, "registered");
});

Deno.test("registry: a full registry makes room at the first moment an entry is stale", () => {
  const clock = new FakeClock();
  const registry = new CameraRegistry({ staleAfterMs: 1000, maxCameras: 2, now: clock.now });
  registry.upsertHeartbeat("A", at("127.0.0.2"), 1n);
  clock.advance(500);
  registry.upsertHeartbeat("B", at("127.0.0.3"), 1n);
  clock.advance(500); // A is 1000 ms old: still fresh
  assert.equal(registry.upsertHeartbeat("C", at("127.0.0.4"), 1n).result, "full");
  registry.upsertHeartbeat("A", at("127.0.0.2"), 1n); // refreshed: B goes stale first now
  clock.advance(501); // B is 1001 ms old: stale; A is 501 ms old
  const made = registry.upsertHeartbeat("C", at("127.0.0.4"), 1n);
  assert.equal(made.result, "registered");
  // The swept entry is handed back so the wake server reports it deregistered.
  assert.deepEqual(made.result === "registered" && made.evicted.map((entry) => entry.uid), ["B"]);
  assert.deepEqual(registry.list().map((entry) => entry.uid).sort(), ["A", "C"]);
  assert.equal(registry.upsertHeartbeat("D", at("127.0.0.5"), 1n).result, "full");
});

Deno.test("registry: configured names resolve to cameras by UID prefix", () => {
  const registry = new CameraRegistry({
    staleAfterMs: 1000,
    maxCameras: 10,
    cameras: [{ name: "door", uid: "95270000DOOR0000" }],
  });
  registry.upsertHeartbeat("95270000DOOR00000123", at("127.0.0.2"), 1n);
  assert.equal(registry.resolveTarget("door")?.uid, "95270000DOOR00000123");
  assert.equal(registry.list()[0].name, "door");
  assert.equal(registry.resolveTarget("window"), undefined);
});

Deno.test("anchors: cap, expiry and token check", () => {
  const anchors = new SessionAnchors(1, 1000);
  assert.ok(anchors.issue("A", { token: 5n, ac: 9, issuedAt: 0 }));
  assert.equal(anchors.issue("B", { token: 6n, ac: 9, issuedAt: 10 }), false);
  assert.deepEqual(anchors.check("A", 5n, 100), { ac: 9 });
  assert.deepEqual(anchors.check("A", 4n, 100), { refused: "token_mismatch" });
  assert.deepEqual(anchors.check("B", 6n, 100), { refused: "no_anchor" });
  assert.deepEqual(anchors.check("A", 5n, 1001), { refused: "no_anchor" });
  assert.ok(anchors.issue("B", { token: 6n, ac: 1, issuedAt: 1001 }), "expired anchor made room");
});

Deno.test("wake budget: sliding hour, bounded history, 0 = unlimited", () => {
  const budget = new WakeBudget(3);
  for (const t of [0, 10, 20]) budget.record("A", t);
  assert.equal(budget.allows("A", 30), false);
  assert.equal(budget.used("A", 3_600_000), 2);
  assert.equal(budget.allows("A", 3_600_000), true);
  const unlimited = new WakeBudget(0);
  for (let i = 0; i < 100; i++) unlimited.record("A", i);
  assert.equal(unlimited.allows("A", 100), true);
  assert.equal(unlimited.used("A", 100), 0, "no history kept when unlimited");
});

Deno.test("advertiser: fixed bind is used as is; wildcard asks per peer, cached and bounded", async () => {
  const fixed = new AddressAdvertiser({ bind: "127.0.0.9", routeSource: () => Promise.reject() });
  assert.equal(await fixed.resolve("10.1.1.1"), "127.0.0.9");
  const asked: string[] = [];
  const advertiser = new AddressAdvertiser({
    bind: "0.0.0.0",
    maxEntries: 2,
    routeSource: (peer) => {
      asked.push(peer);
      return Promise.resolve(peer === "10.0.0.2" ? "10.0.0.1" : "0.0.0.0");
    },
  });
  assert.equal(advertiser.cached("10.0.0.2"), undefined);
  const [a, b] = await Promise.all([
    advertiser.resolve("10.0.0.2"),
    advertiser.resolve("10.0.0.2"),
  ]);
  assert.deepEqual([a, b, asked.length], ["10.0.0.1", "10.0.0.1", 1], "one lookup per peer");
  assert.equal(advertiser.cached("10.0.0.2"), "10.0.0.1");
  assert.equal(
    await advertiser.resolve("127.0.0.5"),
    "127.0.0.1",
    "a wildcard answer is never used",
  );
  await advertiser.resolve("127.0.0.6");
  assert.equal(advertiser.cacheSize, 2);
  assert.equal(advertiser.cached("10.0.0.2"), undefined, "oldest forgotten");
  assert.ok(isWildcard("::") && isWildcard("0.0.0.0") && !isWildcard("127.0.0.1"));
});

Deno.test("advertiser: an expired answer still serves while a new lookup runs behind it", async () => {
  const clock = new FakeClock();
  let answer = "10.0.0.1";
  let lookups = 0;
  const advertiser = new AddressAdvertiser({
    bind: "0.0.0.0",
    ttlMs: 1000,
    now: clock.now,
    routeSource: () => {
      lookups++;
      return Promise.resolve(answer);
    },
  });
  await advertiser.resolve("10.0.0.2");
  answer = "10.0.0.9"; // the machine's address changed (DHCP)
  clock.advance(999);
  assert.equal(advertiser.cached("10.0.0.2"), "10.0.0.1");
  assert.equal(lookups, 1, "fresh: no lookup");
  clock.advance(2);
  assert.equal(advertiser.cached("10.0.0.2"), "10.0.0.1", "expired: the old answer, at once");
  assert.equal(advertiser.cached("10.0.0.2"), "10.0.0.1");
  await advertiser.settle();
  assert.equal(lookups, 2, "one lookup behind it, not one per call");
  assert.equal(advertiser.cached("10.0.0.2"), "10.0.0.9", "then the new answer");
});

Deno.test("advertiser: the real routing lookup answers 127.0.0.1 for a loopback peer", async () => {
  const advertiser = new AddressAdvertiser({ bind: "0.0.0.0" });
  assert.equal(await advertiser.resolve("127.0.0.7"), "127.0.0.1");
});

Deno.test("metrics: Prometheus text with HELP, TYPE, escaped labels", () => {
  const metrics = new Metrics();
  const packets = metrics.counter("bairelay_packets_total", "BcUdp packets received");
  packets.inc({ listener: "register", variant: "D2R_HB" });
  packets.inc({ listener: "register", variant: "D2R_HB" }, 2);
  packets.inc({ listener: 'a"b\\c\nd', variant: "x" });
  metrics.gauge("bairelay_registered_cameras", "Cameras").set(4);
  assert.equal(metrics.counter("bairelay_packets_total", "ignored"), packets);
  assert.throws(() => metrics.gauge("bairelay_packets_total", "x"), /already registered/);
  assert.equal(
    metrics.render(),
    "# HELP bairelay_packets_total BcUdp packets received\n" +
      "# TYPE bairelay_packets_total counter\n" +
      'bairelay_packets_total{listener="register",variant="D2R_HB"} 3\n' +
      'bairelay_packets_total{listener="a\\"b\\\\c\\nd",variant="x"} 1\n' +
      "# HELP bairelay_registered_cameras Cameras\n" +
      "# TYPE bairelay_registered_cameras gauge\n" +
      "bairelay_registered_cameras 4\n",
  );
});

Deno.test("metrics: CounterByPair counts into the same series as labelled inc", () => {
  const metrics = new Metrics();
  const packets = metrics.counter("bairelay_packets_total", "BcUdp packets received");
  const byPair = new CounterByPair(packets, "listener", "variant");
  assert.equal(metrics.render().includes("D2R_HB"), false, "no series before first use");
  byPair.inc("register", "D2R_HB");
  packets.inc({ listener: "register", variant: "D2R_HB" });
  byPair.inc("register", "D2R_HB");
  byPair.inc("middleman", "D2M_Q");
  assert.equal(packets.get({ listener: "register", variant: "D2R_HB" }), 3);
  assert.equal(packets.get({ listener: "middleman", variant: "D2M_Q" }), 1);
  assert.equal(packets.values().length, 2);
});

Deno.test("send buffers: never shared, zero-filled, a new slab when full, big ones apart", () => {
  const buffers = new SendBuffers();
  const taken: Uint8Array[] = [];
  let total = 0;
  while (total < SEND_SLAB_BYTES * 2.5) {
    const buffer = buffers.take(100);
    assert.equal(buffer.length, 100);
    assert.ok(buffer.every((byte) => byte === 0), "fresh bytes");
    buffer.fill(0xff);
    taken.push(buffer);
    total += 100;
  }
  const slabs = new Set(taken.map((b) => b.buffer));
  assert.equal(slabs.size, 3, "slabs are replaced, not reused");
  for (const slab of slabs) {
    const views = taken.filter((b) => b.buffer === slab).sort((a, b) =>
      a.byteOffset - b.byteOffset
    );
    for (let i = 1; i < views.length; i++) {
      assert.ok(views[i].byteOffset >= views[i - 1].byteOffset + 100, "no overlap");
    }
  }
  const big = buffers.take(SEND_SLAB_BYTES);
  assert.equal(big.byteLength, big.buffer.byteLength, "a large request gets its own buffer");
});

Deno.test("registry: indexed prefix lookup agrees with a scan of every camera", () => {
  // A few stems (16 characters, shorter, longer) with short tails: UIDs that share a short
  // UID, prefixes of each other and UIDs shorter than a short UID all occur.
  const uid = fc
    .tuple(
      fc.constantFrom("95270000AAAAAAAA", "95270000AAAAAAAB", "95270000AAAAAAA", "9527", ""),
      fc.string({ unit: fc.constantFrom("0", "1"), maxLength: 5 }),
    )
    .map(([stem, tail]) => stem + tail)
    .filter((text) => text.length > 0);
  fc.assert(
    fc.property(
      registrySteps(uid, 40),
      fc.array(uid, { maxLength: 20 }),
      (steps, queries) => {
        const clock = new FakeClock();
        const registry = new CameraRegistry({ staleAfterMs: 1000, maxCameras: 64, now: clock.now });
        playSteps(registry, clock, steps);
        const fresh = registry.list().filter((e) => registry.isFresh(e));
        for (const query of [...queries, ...fresh.map((e) => e.uid.slice(0, SHORT_UID_LENGTH))]) {
          const exact = fresh.find((e) => e.uid === query);
          const matches = fresh.filter((e) => e.uid.startsWith(query));
          const newest = Math.max(...matches.map((e) => e.lastHeartbeat));
          const found = registry.lookupFresh(query);
          if (exact) assert.equal(found?.uid, query);
          else if (matches.length === 0) assert.equal(found, undefined, query);
          else assert.equal(found?.lastHeartbeat, newest, query);
          if (found) assert.ok(found.uid.startsWith(query));
        }
      },
    ),
    { numRuns: 400 },
  );
});
