/**
 * The status page's 24-hour strip as data, without a browser: where the band's hours, the
 * offline spans and the marks fall, their detail in words, and the wakes of today by requester
 * (the colours' legend), from a history document of the documented shape.
 */

import assert from "node:assert/strict";
import { STRIP_MS, stripModel } from "../lib/api/page/strip.js";

const NOW = Date.parse("2026-12-06T12:00:00Z");
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const clock = (ms: number) => new Date(ms).toISOString().slice(11, 16);
const MIDNIGHT = Date.parse("2026-12-06T00:00:00Z");

const history: Parameters<typeof stripModel>[0] = {
  now: iso(NOW),
  cadence_ms: 12_400,
  events: [
    // An offline span that began before the strip: cut at its left end.
    { type: "offline", from: iso(NOW - 25 * HOUR), to: iso(NOW - 23 * HOUR) },
    { type: "registered", at: iso(NOW - 23 * HOUR), address: "192.0.2.7:5000" },
    {
      type: "wake",
      at: iso(NOW - 14 * HOUR),
      requester: "yesterday-only",
      kind: "client",
      result: "started",
      acknowledged: false,
      count: 1,
    },
    { type: "motion", at: iso(NOW - 12 * HOUR) },
    {
      type: "wake",
      at: iso(NOW - 6 * HOUR),
      requester: "<b>x</b>",
      kind: "api",
      result: "refused",
      acknowledged: false,
      count: 4,
    },
    {
      type: "wake",
      at: iso(NOW - 30 * 60_000),
      requester: "home-assistant",
      kind: "client",
      result: "started",
      acknowledged: true,
      count: 1,
    },
  ],
  hours: [
    { hour: iso(NOW - 25 * HOUR), heartbeats: 10, by_requester: {} },
    { hour: iso(NOW - 14 * HOUR), heartbeats: 1, by_requester: { "yesterday-only": 1 } },
    { hour: iso(NOW - HOUR), heartbeats: 290, by_requester: { "home-assistant": 2, motion: 3 } },
  ],
};

Deno.test("strip: the band's hours and offline spans, cut to the last 24 hours", () => {
  const model = stripModel(history, MIDNIGHT, clock);
  assert.equal(STRIP_MS, 24 * HOUR);
  assert.deepEqual(model.online, [
    { x: 41.667, width: 4.166, title: "22:00–23:00: 1 heartbeat" },
    { x: 95.833, width: 4.167, title: "11:00–12:00: 290 heartbeats" },
  ]);
  assert.deepEqual(model.offline, [
    { x: 0, width: 4.167, title: "Offline 11:00–13:00 (2 h 0 min)" },
  ]);
  assert.equal(model.summary, "Heartbeat every 12 s, offline once in 24 h");
});

Deno.test("strip: marks in the document's order (oldest first) with their detail; wake marks name their requester", () => {
  const model = stripModel(history, MIDNIGHT, clock);
  assert.deepEqual(model.marks.map((mark) => [mark.lane, mark.title]), [
    ["band", "13:00 registered from 192.0.2.7:5000"],
    ["wake", "22:00 wake by yesterday-only (client): started, no answer"],
    ["motion", "00:00 motion"],
    ["wake", "06:00 wake by <b>x</b> (api): refused by the budget (4 times)"],
    ["wake", "11:30 wake by home-assistant (client): started, the camera answered"],
  ]);
  assert.deepEqual(model.marks.map((mark) => mark.refused), [
    undefined,
    false,
    undefined,
    true,
    false,
  ]);
  assert.deepEqual(model.marks.map((mark) => mark.x), [4.167, 41.667, 50, 75, 97.917]);
});

Deno.test("strip: wakes today by requester, most first, with every requester that has a mark", () => {
  const model = stripModel(history, MIDNIGHT, clock);
  assert.deepEqual(model.today, [
    { requester: "motion", wakes: 3 },
    { requester: "home-assistant", wakes: 2 },
    { requester: "yesterday-only", wakes: 0 },
    { requester: "<b>x</b>", wakes: 0 },
  ]);
});

Deno.test("strip: an empty history is an empty strip that says the cadence is not known", () => {
  const model = stripModel(
    { now: iso(NOW), cadence_ms: null, events: [], hours: [] },
    MIDNIGHT,
    clock,
  );
  assert.deepEqual(model, {
    online: [],
    offline: [],
    marks: [],
    today: [],
    summary: "Heartbeat cadence not known yet, never offline in 24 h",
  });
});
