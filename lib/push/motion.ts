/**
 * Motion state per camera, driven by push connections: `on` at the first push, every further
 * push during the hold extends it, and exactly one `off` when the hold after the LAST push ends.
 * Unlike the reference (which times every push separately), a camera that keeps pushing never
 * flickers off and on, and a camera that stops pushing is never left stuck on.
 */

import { type Clock, systemClock } from "../clock.ts";

/** A change of a camera's motion state, as handed to the listener. */
export interface MotionChange {
  uid: string;
  motion: boolean;
  /** When the change happened (ms since epoch): the first push for `on`, hold end for `off`. */
  at: number;
}

/** A motion change as published on serve's event bus. */
export interface MotionChangeEvent extends MotionChange {
  type: "motion";
}

/** What a push did to the camera's state. */
export type PushEffect = "started" | "extended";

interface CameraMotion {
  /** The motion ends at this instant unless another push comes first. */
  offAt: number;
  timer: unknown;
}

/**
 * Tracks the motion state of every camera that is currently in motion (cameras drop out of
 * the table when their `off` fires, so its size is bounded by the cameras pushing at once).
 */
export class MotionTracker {
  readonly #cameras = new Map<string, CameraMotion>();
  readonly #holdMs: number;
  readonly #onChange: (change: MotionChange) => void;
  readonly #timers: Clock;

  /** `holdMs` is how long motion stays on after the last push (motion_hold_secs). */
  constructor(
    holdMs: number,
    onChange: (change: MotionChange) => void,
    timers: Clock = systemClock,
  ) {
    if (!(holdMs > 0)) throw new RangeError(`motion hold must be positive, got ${holdMs} ms`);
    this.#holdMs = holdMs;
    this.#onChange = onChange;
    this.#timers = timers;
  }

  /**
   * Records a push from `uid`: turns motion on (reporting the change at once) or extends the
   * running hold (reporting nothing). The `off` is reported when the hold expires.
   */
  push(uid: string): PushEffect {
    const now = this.#timers.now();
    const running = this.#cameras.get(uid);
    if (running) {
      // The armed timer wakes at the old deadline and re-arms for the remaining time; no
      // timer churn per push, which matters when a flood of pushes arrives.
      running.offAt = now + this.#holdMs;
      return "extended";
    }
    const entry: CameraMotion = { offAt: now + this.#holdMs, timer: 0 };
    entry.timer = this.#arm(uid, entry, this.#holdMs);
    this.#cameras.set(uid, entry);
    this.#onChange({ uid, motion: true, at: now });
    return "started";
  }

  /** Whether `uid` is currently in motion. */
  isMoving(uid: string): boolean {
    return this.#cameras.has(uid);
  }

  /** The UIDs currently in motion. */
  moving(): string[] {
    return [...this.#cameras.keys()];
  }

  /** Cancels every pending `off` without reporting it (the process is shutting down). */
  close(): void {
    for (const entry of this.#cameras.values()) this.#timers.clearTimeout(entry.timer);
    this.#cameras.clear();
  }

  #arm(uid: string, entry: CameraMotion, delayMs: number): unknown {
    return this.#timers.setTimeout(() => this.#expire(uid, entry), delayMs);
  }

  #expire(uid: string, entry: CameraMotion): void {
    if (this.#cameras.get(uid) !== entry) return;
    const remaining = entry.offAt - this.#timers.now();
    if (remaining > 0) {
      entry.timer = this.#arm(uid, entry, remaining);
      return;
    }
    this.#cameras.delete(uid);
    this.#onChange({ uid, motion: false, at: entry.offAt });
  }
}
