// /api/status counts cameras per state without building /api/cameras' document: the counts
// must be the document's, whatever heartbeats, sweeps and configured cameras came before.

import assert from "node:assert/strict";
import fc from "fast-check";
import { camerasDocument, countCameras } from "../lib/api/routes.ts";
import { CameraRegistry } from "../lib/wake/registry.ts";
import { playSteps, registrySteps } from "./support/registry_steps.ts";
import { FakeClock } from "./support/wake_server.ts";

const CONFIGURED = [
  { name: "door", uid: "95270000DOOR" },
  { name: "yard", uid: "95270000YARD" },
  { name: "shed", uid: "95270000SHED" },
];

Deno.test("api: status counts agree with the cameras document", () => {
  const uid = fc
    .tuple(
      fc.constantFrom("95270000DOOR", "95270000YARD", "95270000OTHR", "95270000SHEDX"),
      fc.constantFrom("", "0001", "0002"),
    )
    .map(([stem, tail]) => stem + tail);
  fc.assert(
    fc.property(
      registrySteps(uid, 30),
      fc.integer({ min: 0, max: 1500 }),
      (steps, end) => {
        const clock = new FakeClock();
        const registry = new CameraRegistry({
          staleAfterMs: 1000,
          maxCameras: 4,
          cameras: CONFIGURED,
          now: clock.now,
        });
        playSteps(registry, clock, steps);
        clock.advance(end);
        const now = clock.now();
        const expected = { fresh: 0, stale: 0, never_seen: 0 };
        for (const camera of camerasDocument(registry, now).cameras) expected[camera.state]++;
        assert.deepEqual(countCameras(registry, now), expected);
      },
    ),
    { numRuns: 300 },
  );
});
