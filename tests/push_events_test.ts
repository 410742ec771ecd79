import assert from "node:assert/strict";
import { eventsRoute, MAX_RECENT_EVENTS, RecentEvents } from "../lib/api/events.ts";

const motion = (at: number) => ({
  type: "motion" as const,
  uid: "U",
  name: null,
  motion: true,
  at,
});

Deno.test("the events ring keeps the newest, newest first, within its capacity", () => {
  const events = new RecentEvents(3);
  for (let at = 1; at <= 5; at++) events.add(motion(at));
  assert.deepEqual(events.list().map((e) => e.at), [5, 4, 3]);
  assert.deepEqual(events.list(2).map((e) => e.at), [5, 4]);
  const fresh = new RecentEvents(3);
  fresh.add(motion(1));
  assert.deepEqual(fresh.list().map((e) => e.at), [1]);
  assert.throws(() => new RecentEvents(0), RangeError);
});

Deno.test("the default capacity bounds a flood", () => {
  const events = new RecentEvents();
  for (let at = 0; at < MAX_RECENT_EVENTS * 3; at++) events.add(motion(at));
  const list = events.list();
  assert.equal(list.length, MAX_RECENT_EVENTS);
  assert.equal(list[0].at, MAX_RECENT_EVENTS * 3 - 1);
});

Deno.test("GET /api/events renders ISO times and validates limit", async () => {
  const events = new RecentEvents();
  events.add(motion(Date.UTC(2026, 0, 1)));
  const route = eventsRoute(events);
  const ok = await route.handle(new Request("http://x/api/events"), {});
  assert.deepEqual(await ok.json(), {
    events: [{
      type: "motion",
      uid: "U",
      name: null,
      motion: true,
      at: "2026-01-01T00:00:00.000Z",
    }],
  });
  for (const bad of ["x", "-1", "1.5"]) {
    const response = await route.handle(new Request(`http://x/api/events?limit=${bad}`), {});
    assert.equal(response.status, 400);
    await response.body?.cancel();
  }
});
