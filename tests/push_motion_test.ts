import assert from "node:assert/strict";
import fc from "fast-check";
import { type MotionChange, MotionTracker } from "../lib/push/motion.ts";
import { FakeClock } from "./support/fake_clock.ts";

function setup(holdMs = 30_000) {
  const clock = new FakeClock();
  const changes: MotionChange[] = [];
  const tracker = new MotionTracker(holdMs, (change) => changes.push(change), clock);
  return { clock, changes, tracker };
}

Deno.test("first push turns motion on at once, off after the hold", () => {
  const { clock, changes, tracker } = setup();
  const start = clock.time;
  assert.equal(tracker.push("CAM1"), "started");
  assert.deepEqual(changes, [{ uid: "CAM1", motion: true, at: start }]);
  assert.ok(tracker.isMoving("CAM1"));
  clock.advance(29_999);
  assert.equal(changes.length, 1);
  clock.advance(1);
  assert.deepEqual(changes[1], { uid: "CAM1", motion: false, at: start + 30_000 });
  assert.ok(!tracker.isMoving("CAM1"));
  assert.equal(clock.pending(), 0);
});

Deno.test("pushes during the hold extend it without flicker; one off after the last", () => {
  const { clock, changes, tracker } = setup();
  tracker.push("CAM1");
  for (let i = 0; i < 10; i++) {
    clock.advance(20_000);
    assert.equal(tracker.push("CAM1"), "extended");
  }
  const lastPush = clock.time;
  assert.equal(changes.length, 1, "no off while pushes keep coming");
  clock.advance(29_000);
  assert.equal(changes.length, 1);
  clock.advance(1_000);
  assert.deepEqual(changes.map((c) => c.motion), [true, false]);
  assert.equal(changes[1].at, lastPush + 30_000);
  assert.equal(clock.pending(), 0);
});

Deno.test("a push after the off starts a new motion", () => {
  const { clock, changes, tracker } = setup(1000);
  tracker.push("CAM1");
  clock.advance(1000);
  assert.equal(tracker.push("CAM1"), "started");
  clock.advance(1000);
  assert.deepEqual(changes.map((c) => c.motion), [true, false, true, false]);
});

Deno.test("cameras are independent", () => {
  const { clock, changes, tracker } = setup(1000);
  tracker.push("A");
  clock.advance(500);
  tracker.push("B");
  clock.advance(500);
  assert.deepEqual(changes.map((c) => `${c.uid}:${c.motion}`), ["A:true", "B:true", "A:false"]);
  assert.deepEqual(tracker.moving(), ["B"]);
  clock.advance(500);
  assert.deepEqual(tracker.moving(), []);
});

Deno.test("close cancels pending offs without reporting", () => {
  const { clock, changes, tracker } = setup(1000);
  tracker.push("A");
  tracker.close();
  assert.equal(clock.pending(), 0);
  clock.advance(5000);
  assert.equal(changes.length, 1);
});

Deno.test("a non-positive hold is refused", () => {
  assert.throws(() => new MotionTracker(0, () => {}), RangeError);
});

Deno.test("property: on/off strictly alternate and off comes exactly hold after the last push", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 2000 }),
      (gaps, hold) => {
        const { clock, changes, tracker } = setup(hold);
        const pushes: number[] = [];
        for (const gap of gaps) {
          clock.advance(gap);
          tracker.push("CAM");
          pushes.push(clock.time);
        }
        clock.advance(hold);
        changes.forEach((c, i) => assert.equal(c.motion, i % 2 === 0));
        assert.equal(changes.at(-1)?.motion, false);
        assert.equal(changes.at(-1)?.at, pushes.at(-1)! + hold);
        // Each `off` is exactly `hold` after the push preceding it, and no push came in between.
        for (let i = 1; i < changes.length; i += 2) {
          const off = changes[i].at;
          const before = pushes.filter((p) => p < off).at(-1)!;
          assert.equal(off, before + hold);
        }
      },
    ),
    { numRuns: 500 },
  );
});
