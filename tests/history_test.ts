/**
 * A camera's history: gaps from the heartbeat cadence, wakes attributed to requesters,
 * today's summary, the drain warning, the bounds under a flood, and the file across restarts.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { HOUR_MS, OTHERS } from "../lib/history/hours.ts";
import { HISTORY_FILE_NAME, HISTORY_VERSION, HistoryFile } from "../lib/history/file.ts";
import { LabelTable, MAX_REQUESTER_LABELS, OTHERS_INDEX } from "../lib/history/labels.ts";
import { ColumnRing } from "../lib/history/ring.ts";
import { RequesterNames } from "../lib/history/requesters.ts";
import { type HistoryOptions, HistoryStore, startOfDay } from "../lib/history/store.ts";

const OPTIONS: HistoryOptions = {
  retentionMs: 7 * 24 * HOUR_MS,
  maxEvents: 200,
  maxRequestersPerHour: 8,
  gapFactor: 3,
  minGapMs: 30_000,
  maxCameras: 16,
  drainWakesPerDay: 24,
};
const UID = "95270000HISTORY1-0123";
/** A fixed local noon, so "today" has room on both sides. */
const NOON = startOfDay(Date.UTC(2026, 11, 6, 12)) + 12 * HOUR_MS;

function store(options: Partial<HistoryOptions> = {}) {
  return new HistoryStore(
    { ...OPTIONS, ...options },
    new RequesterNames([{ name: "home-assistant", address: "192.168.1.5" }]),
  );
}

Deno.test("history: a silence longer than the gap factor times the cadence is an offline span", () => {
  const history = store();
  history.registered(UID, NOON, "192.168.1.20:5000");
  let at = NOON;
  for (let i = 0; i < 60; i++) history.heartbeat(UID, at += 10_000);
  const lastBefore = at;
  // 25 s is an ordinary late heartbeat (under 3 x 10 s); 28 minutes is a gap.
  history.heartbeat(UID, at += 25_000);
  history.heartbeat(UID, at += 28 * 60_000);
  const report = history.report(UID, NOON - 1, at)!;
  const offline = report.events.filter((event) => event.type === "offline");
  assert.deepEqual(offline, [{ type: "offline", from: lastBefore + 25_000, to: at }]);
  // The late heartbeat moves the average a little; the gap does not move it at all.
  assert.ok(report.cadenceMs! >= 10_000 && report.cadenceMs! <= 13_000, String(report.cadenceMs));
  // A silence going on now is shown as an open span.
  const open = history.report(UID, NOON, at + 10 * 60_000)!.events.at(-1);
  assert.deepEqual(open, { type: "offline", from: at, to: at + 10 * 60_000 });
  assert.equal(report.hours.reduce((sum, bucket) => sum + bucket.heartbeats, 0), 62);
});

Deno.test("history: wakes are attributed by requester, named clients by name", () => {
  const history = store();
  history.registered(UID, NOON, "192.168.1.20:5000");
  history.wake(UID, NOON + 1000, { kind: "client", address: "192.168.1.5" }, "started", 77);
  history.wake(UID, NOON + 2000, { kind: "api", address: "10.0.0.9" }, "started", 78);
  history.wake(UID, NOON + 3000, { kind: "mqtt" }, "started", 79);
  history.acknowledged(UID, 77);
  for (let i = 0; i < 5; i++) {
    history.wake(UID, NOON + 4000 + i, { kind: "client", address: "192.168.1.5" }, "refused");
  }
  const report = history.report(UID, NOON, NOON + 10_000)!;
  const wakes = report.events.filter((event) => event.type === "wake");
  assert.equal(wakes.length, 4, "five refusals within the hour fold into one event");
  assert.deepEqual(
    wakes.map((w) => w.type === "wake" && [w.requester, w.kind, w.result, w.acknowledged, w.count]),
    [
      ["home-assistant", "client", "started", true, 1],
      ["10.0.0.9", "api", "started", false, 1],
      ["mqtt", "mqtt", "started", false, 1],
      ["home-assistant", "client", "refused", false, 5],
    ],
  );
  assert.deepEqual(report.requesters, [
    { requester: "home-assistant", kind: "client", wakes: 1, refused: 5, acknowledged: 1 },
    { requester: "10.0.0.9", kind: "api", wakes: 1, refused: 0, acknowledged: 0 },
    { requester: "mqtt", kind: "mqtt", wakes: 1, refused: 0, acknowledged: 0 },
  ]);
  assert.equal(report.hours[0].refused, 5);
});

Deno.test("history: today's summary counts since local midnight; the last hour survives", () => {
  const history = store();
  const yesterday = startOfDay(NOON) - HOUR_MS;
  history.wake(UID, yesterday, { kind: "mqtt" }, "started", 1);
  history.motion(UID, yesterday);
  history.wake(UID, NOON - 2 * HOUR_MS, { kind: "motion" }, "started", 2);
  history.motion(UID, NOON - 2 * HOUR_MS);
  history.wake(UID, NOON - 60_000, { kind: "api", address: "127.0.0.1" }, "started", 3);
  assert.deepEqual(history.summary(UID, NOON), {
    wakesToday: 2,
    motionToday: 1,
    wakesLastDay: 3,
    wakesLastHour: 1,
    lastWokenBy: { requester: "127.0.0.1", kind: "api", at: NOON - 60_000 },
  });
  assert.deepEqual(history.summary("95270000NOBODY00", NOON), {
    wakesToday: 0,
    motionToday: 0,
    wakesLastDay: 0,
    wakesLastHour: 0,
    lastWokenBy: null,
  });
});

Deno.test("history: more wakes than the threshold in 24 h is a drain, warned once a day", () => {
  const history = store();
  for (let i = 0; i < 30; i++) {
    history.wake(
      UID,
      NOON - i * 40 * 60_000,
      { kind: "client", address: "192.168.1.5" },
      "started",
      i,
    );
  }
  for (let i = 0; i < 10; i++) history.wake(UID, NOON - i * 60_000, { kind: "mqtt" }, "started", i);
  const drains = history.drains(NOON);
  assert.equal(drains.length, 1);
  assert.equal(drains[0].requester, "home-assistant");
  assert.ok(drains[0].wakes > 24 && drains[0].wakes <= 30, String(drains[0].wakes));
  assert.deepEqual(history.drains(NOON, UID), drains);
  assert.deepEqual(history.drains(NOON, "95270000OTHERCAM0001"), [], "one camera's alone");
  assert.equal(history.drainsToWarn(NOON, UID).length, 1);
  assert.equal(history.drainsToWarn(NOON + HOUR_MS).length, 0, "once a day");
  const tomorrow = NOON + 24 * HOUR_MS;
  for (let i = 0; i < 25; i++) {
    history.wake(
      UID,
      tomorrow - i * 60_000,
      { kind: "client", address: "192.168.1.5" },
      "started",
      i,
    );
  }
  assert.equal(history.drainsToWarn(tomorrow).length, 1, "again the next day");
});

Deno.test("history: a flood of wake requests cannot grow it or push a camera's events out", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.ipV4(), fc.boolean(), fc.nat(3 * HOUR_MS)), {
        minLength: 1,
        maxLength: 2000,
      }),
      (requests) => {
        const history = store();
        history.registered(UID, NOON, "192.168.1.20:5000");
        history.motion(UID, NOON + 1);
        for (const [address, started, offset] of requests) {
          const result = started ? "started" : "refused";
          history.wake(UID, NOON + offset, { kind: "client", address }, result, offset);
        }
        const kept = history.get(UID)!;
        assert.ok(kept.wakes.length <= OPTIONS.maxEvents);
        assert.deepEqual(kept.events.map((event) => event.type), ["registered", "motion"]);
        for (const bucket of kept.hours) {
          assert.ok(Object.keys(bucket.byRequester).length <= OPTIONS.maxRequestersPerHour + 1);
          const counted = Object.values(bucket.byRequester).reduce((a, b) => a + b, 0);
          assert.equal(counted, bucket.wakes);
        }
      },
    ),
    { numRuns: 40 },
  );
  const history = store();
  for (let i = 0; i < 20; i++) {
    history.wake(UID, NOON, { kind: "client", address: `10.0.0.${i}` }, "started", i);
  }
  assert.equal(history.get(UID)!.hours[0].byRequester[OTHERS], 12);
});

Deno.test("history: cameras are bounded; the one seen least recently goes first", () => {
  const history = store({ maxCameras: 4 });
  for (let i = 0; i < 10; i++) history.registered(`95270000CAMERA${i}0`, NOON + i, "10.0.0.2:1");
  assert.deepEqual(history.uids(), [
    "95270000CAMERA60",
    "95270000CAMERA70",
    "95270000CAMERA80",
    "95270000CAMERA90",
  ]);
});

Deno.test("history: what is older than the retention is dropped", () => {
  const history = store();
  history.motion(UID, NOON - 8 * 24 * HOUR_MS);
  history.wake(UID, NOON - 8 * 24 * HOUR_MS, { kind: "mqtt" }, "started", 1);
  history.motion(UID, NOON);
  history.prune(NOON);
  const report = history.report(UID, 0, NOON)!;
  assert.deepEqual(report.events, [{ type: "motion", at: NOON }]);
  assert.equal(report.hours.length, 1);
  history.prune(NOON + 8 * 24 * HOUR_MS);
  assert.deepEqual(history.uids(), []);
});

Deno.test("history file: a restart keeps the history; a torn file is kept aside", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const before = store();
    before.registered(UID, NOON, "192.168.1.20:5000");
    for (let i = 1; i <= 20; i++) before.heartbeat(UID, NOON + i * 10_000);
    before.wake(UID, NOON + 5000, { kind: "client", address: "192.168.1.5" }, "started", 9);
    before.acknowledged(UID, 9);
    before.motion(UID, NOON + 6000);
    const file = new HistoryFile(dir);
    await file.save(before, NOON + 300_000);
    const after = store();
    const loaded = await file.load(after, NOON + 300_000);
    assert.deepEqual(loaded, { cameras: 1, removed: [] });
    assert.deepEqual(after.report(UID, 0, NOON + 300_000), before.report(UID, 0, NOON + 300_000));
    assert.deepEqual(after.summary(UID, NOON + 300_000), before.summary(UID, NOON + 300_000));

    const text = await Deno.readTextFile(`${dir}/${HISTORY_FILE_NAME}`);
    await Deno.writeTextFile(`${dir}/${HISTORY_FILE_NAME}`, text.slice(0, text.length / 2));
    await Deno.writeTextFile(`${dir}/${HISTORY_FILE_NAME}.4242.tmp`, "");
    const torn = store();
    const result = await file.load(torn, NOON);
    assert.equal(result.cameras, 0);
    assert.match(result.problem!.message, /unusable: line 2 is not JSON/);
    assert.ok(result.problem!.movedTo!.includes(".corrupt-"));
    assert.deepEqual(result.removed, [`${dir}/${HISTORY_FILE_NAME}.4242.tmp`]);
    assert.deepEqual(torn.uids(), []);
    for (
      const bad of [
        '{"version":1,"cameras":{"x":{"events":[{"type":"wake"}],"wakes":[],"hours":[]}}}',
        '{"version":2,"labels":["(others)"],"cameras":{"x":{"events":[],"wakes":[[1,5,0,0,0,1,1]],"hours":[]}}}',
        '{"version":2,"labels":["(others)"],"cameras":{"x":{"events":[],"wakes":[],"hours":[[1,0,0,0,0,0]]}}}',
        '{"version":2,"labels":[7],"cameras":{}}',
        '{"version":3,"labels":[],"cameras":{}}',
        "[]",
        "",
      ]
    ) {
      await Deno.writeTextFile(`${dir}/${HISTORY_FILE_NAME}`, bad);
      const fresh = store();
      assert.ok((await file.load(fresh, NOON)).problem, bad);
      assert.deepEqual(fresh.uids(), []);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history file: read a camera (a line) at a time; cut between two cameras, after the last or with more after its end, nothing of it is used", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = new HistoryFile(dir);
    const before = store();
    const uids = ["95270000AAAAAAAA", "95270000BBBBBBBB", "95270000CCCCCCCC"];
    for (const [i, uid] of uids.entries()) {
      before.registered(uid, NOON + i, "192.168.1.20:5000");
      before.wake(uid, NOON + 5000, { kind: "client", address: `192.168.1.${i}` }, "started", 9);
    }
    await file.save(before, NOON + 60_000);
    const path = `${dir}/${HISTORY_FILE_NAME}`;
    const text = await Deno.readTextFile(path);
    const lines = text.split("\n");
    assert.equal(lines.length, 1 + uids.length + 2, "header, a line per camera, }}, end");
    assert.deepEqual(lines.slice(-2), ["}}", ""]);
    const after = store();
    assert.deepEqual(await file.load(after, NOON + 60_000), { cameras: 3, removed: [] });
    for (const uid of uids) {
      assert.deepEqual(after.report(uid, 0, NOON + 60_000), before.report(uid, 0, NOON + 60_000));
    }
    // The same file on one line (as a person might rewrite it) is read whole.
    await Deno.writeTextFile(path, JSON.stringify(JSON.parse(text)));
    const oneLine = store();
    assert.deepEqual(await file.load(oneLine, NOON + 60_000), { cameras: 3, removed: [] });
    for (
      const [cut, message] of [
        [lines.slice(0, 3).join("\n") + "\n", /ends at line 3, before its closing line/],
        [lines.slice(0, 4).join("\n"), /ends at line 4, before its closing line/],
        [text + "{}\n", /line 6 follows the closing line/],
        [lines[0] + "\n" + lines[1] + "\n" + '"x":[]\n}}\n', /cameras\.x is not a camera/],
        [lines[0] + "\n" + '{"a":1}\n}}\n', /line 2 is not JSON/],
      ] as const
    ) {
      await Deno.writeTextFile(path, cut);
      const fresh = store();
      const result = await file.load(fresh, NOON);
      assert.match(result.problem?.message ?? "", message, cut);
      assert.deepEqual(fresh.uids(), [], "nothing of a torn file is used");
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history file: compact (the labels once, rows of numbers); a version 1 file is still read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = new HistoryFile(dir);
    const before = store();
    before.registered(UID, NOON, "192.168.1.20:5000");
    before.heartbeat(UID, NOON + 10_000);
    before.wake(UID, NOON + 5000, { kind: "client", address: "192.168.1.5" }, "started", 9);
    before.acknowledged(UID, 9);
    before.wake(UID, NOON + 6000, { kind: "api", address: "10.0.0.9" }, "refused");
    before.wake(UID, NOON + 7000, { kind: "api", address: "10.0.0.9" }, "refused");
    before.motion(UID, NOON + 8000);
    await file.save(before, NOON + 60_000);
    const saved = JSON.parse(await Deno.readTextFile(`${dir}/${HISTORY_FILE_NAME}`));
    assert.equal(saved.version, HISTORY_VERSION);
    assert.deepEqual(saved.labels, [OTHERS, "home-assistant", "10.0.0.9"]);
    assert.deepEqual(saved.cameras[UID].wakes, [
      [NOON + 5000, 1, 0, 0, 1, 9, 1],
      [NOON + 6000, 2, 1, 1, 0, 0, 2],
    ]);
    assert.deepEqual(saved.cameras[UID].hours, [[NOON / HOUR_MS, 1, 2, 1, 1, 1, 1]]);
    assert.deepEqual(saved.cameras[UID].events, [[0, NOON, "192.168.1.20:5000"], [2, NOON + 8000]]);

    // The same history as version 1 wrote it: one object per event and hour.
    const report = before.report(UID, 0, NOON + 60_000)!;
    const { lastSeen, cadenceMs, events, wakes, hours } = before.get(UID)!;
    const version1 = {
      version: 1,
      saved_at: NOON + 60_000,
      cameras: { [UID]: { lastSeen, cadenceMs, events, wakes, hours } },
    };
    await Deno.writeTextFile(`${dir}/${HISTORY_FILE_NAME}`, JSON.stringify(version1));
    const after = store();
    assert.deepEqual(await file.load(after, NOON + 60_000), { cameras: 1, removed: [] });
    assert.deepEqual(after.report(UID, 0, NOON + 60_000), report);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history: requester labels are interned once, bounded, and dropped when nothing refers to them", () => {
  const table = new LabelTable(3);
  assert.equal(table.index(OTHERS), OTHERS_INDEX);
  assert.deepEqual([table.index("a"), table.index("b"), table.index("a")], [1, 2, 1]);
  assert.equal(table.index("c"), OTHERS_INDEX, "past the bound: counted as others");
  assert.deepEqual([...table.compact(new Set([2]))].slice(0, 3), [0, 0, 1]);
  assert.deepEqual(table.all(), [OTHERS, "b"]);
  assert.equal(table.index("c"), 2, "room again");
  assert.ok(MAX_REQUESTER_LABELS < 2 ** 16, "an index fits the Uint16Array columns");

  // A week later nothing refers to last week's requesters: their labels go at the prune.
  const history = store();
  for (let i = 0; i < 20; i++) {
    history.wake(UID, NOON, { kind: "client", address: `10.0.0.${i}` }, "started", i);
  }
  const weekLater = NOON + 7 * 24 * HOUR_MS + HOUR_MS;
  history.motion(UID, weekLater);
  assert.equal(history.labels.size, 21);
  history.prune(weekLater);
  assert.deepEqual(history.labels.all(), [OTHERS]);
  history.wake(UID, weekLater, { kind: "mqtt" }, "started", 1);
  assert.deepEqual(history.drains(weekLater), []);
  assert.deepEqual(history.report(UID, NOON, weekLater)!.hours.at(-1)!.byRequester, { mqtt: 1 });
});

Deno.test("history: the hourly ring holds the retention's hours and drops older ones as it turns", () => {
  const history = store({ retentionMs: 24 * HOUR_MS });
  for (let hour = 0; hour < 60; hour++) history.motion(UID, NOON + hour * HOUR_MS);
  const now = NOON + 59 * HOUR_MS;
  const hours = history.report(UID, 0, now)!.hours;
  assert.deepEqual(
    hours.map((bucket) => bucket.hour),
    Array.from({ length: 25 }, (_, i) => hourOfNoon(35 + i)),
  );
  assert.ok(hours.every((bucket) => bucket.motion === 1));
  // An hour older than every one held is not counted over a newer one.
  history.motion(UID, NOON + 10 * HOUR_MS);
  assert.deepEqual(history.report(UID, 0, now)!.hours, hours);
});

function hourOfNoon(hours: number): number {
  return NOON + hours * HOUR_MS;
}

Deno.test("history: an event ring grows to its bound in order, then drops the oldest first", () => {
  const columns = (capacity: number) => ({ value: new Float64Array(capacity) });
  const ring = new ColumnRing(6, columns, columns(0));
  // push() first: it may grow the ring, replacing the columns.
  const add = (value: number) => {
    const slot = ring.push();
    ring.columns.value[slot] = value;
  };
  const values = () =>
    Array.from({ length: ring.length }, (_, i) => ring.columns.value[ring.slot(i)]);
  for (let value = 1; value <= 3; value++) add(value);
  ring.retain((slot) => ring.columns.value[slot] !== 2);
  for (let value = 4; value <= 9; value++) add(value);
  assert.deepEqual(values(), [4, 5, 6, 7, 8, 9]);
  ring.retain((slot) => ring.columns.value[slot] % 2 === 0);
  add(10);
  assert.deepEqual(values(), [4, 6, 8, 10]);
});
