/** Random histories of a camera registry (heartbeats and sweeps over time), for property tests. */

import fc from "fast-check";
import type { CameraRegistry } from "../../lib/wake/registry.ts";
import type { FakeClock } from "./wake_server.ts";

/** One step: a heartbeat from `heartbeat` after `after` ms, or a sweep after `sweepAfter` ms. */
export type RegistryStep = { heartbeat: string; after: number } | { sweepAfter: number };

/**
 * Steps over UIDs from `uid`, with pauses up to 700 ms before a heartbeat and 1,500 ms before
 * a sweep: with a 1,000 ms `staleAfterMs`, cameras go stale now and then.
 */
export function registrySteps(
  uid: fc.Arbitrary<string>,
  maxLength: number,
): fc.Arbitrary<RegistryStep[]> {
  const step = fc.oneof(
    fc.record({ heartbeat: uid, after: fc.integer({ min: 0, max: 700 }) }),
    fc.record({ sweepAfter: fc.integer({ min: 0, max: 1500 }) }),
  );
  return fc.array(step, { maxLength });
}

/** Plays `steps` on `registry`, moving `clock` (every heartbeat from 127.0.0.2:5000). */
export function playSteps(registry: CameraRegistry, clock: FakeClock, steps: RegistryStep[]): void {
  for (const s of steps) {
    if ("heartbeat" in s) {
      clock.advance(s.after);
      registry.upsertHeartbeat(s.heartbeat, { ip: "127.0.0.2", port: 5000 }, 1n);
    } else {
      clock.advance(s.sweepAfter);
      registry.sweep();
    }
  }
}
