/**
 * The history feed on its own: serve's bus, a real registry, the state directory, and a manual
 * clock that drives the periodic check (the drain warning on a new day without a new wake) and
 * the slow pace of writing heartbeat counts.
 */

import assert from "node:assert/strict";
import { reset } from "@logtape/logtape";
import { loadConfig } from "../lib/config.ts";
import { HISTORY_FILE_NAME } from "../lib/history/file.ts";
import { HOUR_MS } from "../lib/history/hours.ts";
import { startOfDay } from "../lib/history/store.ts";
import { Metrics } from "../lib/metrics.ts";
import { createServeBus } from "../lib/serve/bus.ts";
import { HEARTBEAT_FLUSH_INTERVAL_MS, startHistoryFeed } from "../lib/serve/history_feed.ts";
import { CameraRegistry } from "../lib/wake/registry.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { captureWakeLogs, renderRecord } from "./support/log_records.ts";

const UID = "95270000FEEDTEST0001";

Deno.test("history feed: the drain warning once a day, again on the next day from the timer alone", async () => {
  const records = await captureWakeLogs(["bairelay", "history"]);
  const stateDir = await Deno.makeTempDir({ prefix: "bairelay-feed-" });
  const clock = new FakeClock();
  clock.time = startOfDay(Date.UTC(2026, 11, 6, 12)) + 22 * HOUR_MS;
  const registry = new CameraRegistry({
    staleAfterMs: 80_000,
    maxCameras: 4,
    cameras: [{ name: "garden", uid: UID.slice(0, 16) }],
    now: clock.now,
  });
  const bus = createServeBus();
  const config = loadConfig({ env: { uid: 1000, vars: {} } });
  const feed = await startHistoryFeed({
    bus,
    registry,
    history: { ...config.history, drainWakesPerDay: 2 },
    clients: [],
    stateDir,
    metrics: new Metrics(),
    clock,
  });
  const warnings = () => records.map(renderRecord).filter((line) => line.includes("in 24 h"));
  try {
    for (let sid = 1; sid <= 3; sid++) {
      bus.emit({
        type: "wake",
        uid: UID,
        sid,
        source: "client",
        requester: { kind: "client", address: "192.168.1.5" },
        result: "started",
        at: clock.now(),
      });
      // Not registered: a made-up UID gets no history.
      bus.emit({
        type: "wake",
        uid: "NOSUCHCAMERA",
        sid: 0,
        source: "client",
        requester: { kind: "client", address: "192.168.1.5" },
        result: "not_registered",
        at: clock.now(),
      });
    }
    assert.deepEqual(warnings(), [
      "192.168.1.5 woke garden 3 times in 24 h: lower that client's polling, or set max_wakes_per_hour",
    ]);
    assert.deepEqual(feed.store.uids(), [UID]);
    clock.advance(HOUR_MS); // 23:00, same day: nothing new
    assert.equal(warnings().length, 1);
    clock.advance(2 * HOUR_MS); // 01:00 the next day, the wakes still within 24 h
    assert.equal(warnings().length, 2);
  } finally {
    await feed.close();
    await Deno.remove(stateDir, { recursive: true });
    await reset();
  }
});

Deno.test("history feed: heartbeats alone are written at the slow pace and on close, not at once", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "bairelay-feed-" });
  const path = `${stateDir}/${HISTORY_FILE_NAME}`;
  const clock = new FakeClock();
  clock.time = startOfDay(Date.UTC(2026, 11, 6, 12)) + 12 * HOUR_MS;
  const registry = new CameraRegistry({ staleAfterMs: 80_000, maxCameras: 4, now: clock.now });
  const bus = createServeBus();
  const config = loadConfig({ env: { uid: 1000, vars: {} } });
  const feed = await startHistoryFeed({
    bus,
    registry,
    history: config.history,
    clients: [],
    stateDir,
    metrics: new Metrics(),
    clock,
  });
  const heartbeat = () =>
    bus.emit({
      type: "heartbeat",
      uid: UID,
      address: { ip: "127.0.0.5", port: 5000 },
      at: clock.now(),
    });
  const savedHeartbeats = async () => {
    const saved = JSON.parse(await Deno.readTextFile(path));
    return saved.cameras[UID].hours.reduce((sum: number, row: number[]) => sum + row[4], 0);
  };
  // A write of the history is due at once (nothing was written yet); a short real wait lets it run.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));
  let closed = false;
  try {
    heartbeat();
    await settle();
    await assert.rejects(Deno.stat(path), Deno.errors.NotFound, "a heartbeat alone waits");
    clock.advance(HEARTBEAT_FLUSH_INTERVAL_MS);
    await settle();
    assert.equal(await savedHeartbeats(), 1);
    heartbeat();
    heartbeat();
    closed = true;
    await feed.close();
    assert.equal(await savedHeartbeats(), 3, "close writes the heartbeats counted since");
  } finally {
    if (!closed) await feed.close();
    await Deno.remove(stateDir, { recursive: true });
  }
});
