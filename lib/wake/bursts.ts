/**
 * Battery guards around waking: the burst scheduler (one `R2D_C` burst in flight per
 * camera, packets spaced evenly, cancellable) and the per-camera hourly wake budget.
 */

/** How many recent wake session ids are remembered to match `D2R_C_R`/`C2R_CFM`. */
export const MAX_RECENT_SIDS = 1024;
const HOUR_MS = 3_600_000;

/** A burst being sent. */
export interface Burst {
  uid: string;
  sid: number;
  startedAt: number;
  /** Packets sent so far. */
  sent: number;
}

/** A wake session recently started (for matching the camera's confirmation). */
export interface RecentWake {
  uid: string;
  sid: number;
  startedAt: number;
  confirmed: boolean;
}

/**
 * Sends wake bursts: `count` packets, the first at once, then one every `intervalMs`.
 * At most one burst per camera runs at a time.
 */
export class BurstScheduler {
  private readonly running = new Map<
    string,
    { burst: Burst; timer?: ReturnType<typeof setInterval> }
  >();
  private readonly recent = new Map<number, RecentWake>();

  constructor(readonly count: number, readonly intervalMs: number) {}

  /** The burst running for `uid`, if any. */
  inFlight(uid: string): Burst | undefined {
    const entry = this.running.get(uid);
    return entry && { ...entry.burst };
  }

  /** How many bursts are running. */
  get runningCount(): number {
    return this.running.size;
  }

  /**
   * Starts a burst for `uid` with session id `sid`: `sendOne` runs `count` times. The
   * caller must have checked `inFlight(uid)` first.
   */
  start(uid: string, sid: number, at: number, sendOne: () => void): Burst {
    const burst: Burst = { uid, sid, startedAt: at, sent: 0 };
    const entry: { burst: Burst; timer?: ReturnType<typeof setInterval> } = { burst };
    this.running.set(uid, entry);
    this.remember({ uid, sid, startedAt: at, confirmed: false });
    const fire = () => {
      burst.sent++;
      try {
        sendOne();
      } finally {
        if (burst.sent >= this.count) {
          if (entry.timer !== undefined) clearInterval(entry.timer);
          if (this.running.get(uid) === entry) this.running.delete(uid);
        }
      }
    };
    if (this.count > 1) entry.timer = setInterval(fire, this.intervalMs);
    fire();
    return { ...burst };
  }

  private remember(wake: RecentWake): void {
    this.recent.set(wake.sid, wake);
    while (this.recent.size > MAX_RECENT_SIDS) this.recent.delete(this.recent.keys().next().value!);
  }

  /**
   * Marks the wake with session id `sid` confirmed; returns it the first time (later
   * retransmits and unknown sids give undefined).
   */
  confirm(sid: number): RecentWake | undefined {
    const wake = this.recent.get(sid);
    if (wake === undefined || wake.confirmed) return undefined;
    wake.confirmed = true;
    return { ...wake };
  }

  /** Stops every running burst. */
  cancelAll(): void {
    for (const entry of this.running.values()) {
      if (entry.timer !== undefined) clearInterval(entry.timer);
    }
    this.running.clear();
  }
}

/**
 * The per-camera wake budget: at most `limitPerHour` bursts in any sliding hour
 * (0 = unlimited). Holds at most `limitPerHour` timestamps per camera.
 */
export class WakeBudget {
  private readonly history = new Map<string, number[]>();

  constructor(readonly limitPerHour: number) {}

  /** Bursts started for `uid` in the hour before `at`. */
  used(uid: string, at: number): number {
    const times = this.history.get(uid);
    if (times === undefined) return 0;
    while (times.length > 0 && at - times[0] >= HOUR_MS) times.shift();
    if (times.length === 0) this.history.delete(uid);
    return times.length;
  }

  /** True when another wake of `uid` fits the budget. */
  allows(uid: string, at: number): boolean {
    return this.limitPerHour === 0 || this.used(uid, at) < this.limitPerHour;
  }

  /** Counts a burst started at `at`. */
  record(uid: string, at: number): void {
    if (this.limitPerHour === 0) return;
    const times = this.history.get(uid) ?? [];
    times.push(at);
    if (times.length > this.limitPerHour) times.shift();
    this.history.set(uid, times);
  }

  /** Drops the history of a camera that left the registry. */
  forget(uid: string): void {
    this.history.delete(uid);
  }
}
