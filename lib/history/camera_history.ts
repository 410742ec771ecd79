/**
 * One camera's history: recent events in two bounded rings (wakes in one, everything else in
 * the other, so a flood of wake requests cannot push a camera's registrations, gaps and motion
 * out), hourly counts for the whole retention, and the heartbeat cadence that tells a gap
 * ("offline 03:12-03:40") from the ordinary silence between two heartbeats. Everything is kept
 * in typed-array columns (see event_log.ts and hours.ts); requesters are indexes into the
 * store's label table.
 */

import {
  eventTime,
  type HistoryEvent,
  type OfflineEvent,
  type OtherEvent,
  OtherEventLog,
  type WakeEvent,
  WakeLog,
} from "./event_log.ts";
import { type HourCounts, HourRing } from "./hours.ts";
import { type LabelTable, OTHERS_INDEX } from "./labels.ts";
import type { RequesterKind } from "./requesters.ts";

export type {
  HistoryEvent,
  MotionEvent,
  OfflineEvent,
  RegisteredEvent,
  WakeEvent,
} from "./event_log.ts";

/** The bounds of one camera's history. */
export interface CameraHistoryBounds {
  /** Oldest kept, ms before now. */
  retentionMs: number;
  /** Most events kept in each ring (wakes; everything else). */
  maxEvents: number;
  /** Most requester labels counted per hour (the rest as "(others)"). */
  maxRequestersPerHour: number;
  /** A silence longer than this many heartbeat intervals is an offline span. */
  gapFactor: number;
  /** The least silence counted as a gap, ms, whatever the cadence (a floor for noise). */
  minGapMs: number;
}

/** Weight of the newest heartbeat interval in the cadence (an exponential average). */
const CADENCE_WEIGHT = 0.2;

/** The history of one camera; see the module docs. */
export class CameraHistory {
  /** Registrations, offline spans and motion. */
  readonly others: OtherEventLog;
  /** Wakes. */
  readonly wakeLog: WakeLog;
  /** Hourly counts. */
  readonly hourRing: HourRing;
  /** Time of the last heartbeat or registration; null before the first. */
  lastSeen: number | null = null;
  /** Average interval between heartbeats, ms; null until two were seen. */
  cadenceMs: number | null = null;

  constructor(private readonly bounds: CameraHistoryBounds, readonly labels: LabelTable) {
    this.others = new OtherEventLog(bounds.maxEvents);
    this.wakeLog = new WakeLog(bounds.maxEvents);
    this.hourRing = new HourRing(bounds.retentionMs, bounds.maxRequestersPerHour);
  }

  /** Registrations, offline spans and motion, oldest first (records made on demand). */
  get events(): OtherEvent[] {
    return this.others.list();
  }

  /** Wakes, oldest first (records made on demand). */
  get wakes(): WakeEvent[] {
    return this.wakeLog.list(-Infinity, (index) => this.labels.label(index));
  }

  /** Hourly counts, oldest first (records made on demand). */
  get hours(): HourCounts[] {
    return this.hourRing.list(-Infinity, (index) => this.labels.label(index));
  }

  /** A registration: also the end of any silence before it. */
  registered(at: number, address: string): void {
    this.closeGap(at);
    this.others.add({ type: "registered", at, address });
    this.lastSeen = at;
  }

  /**
   * A heartbeat: counted, the cadence updated, a silence longer than the gap recorded. True
   * when it recorded an event (an offline span), not only a count.
   */
  heartbeat(at: number): boolean {
    this.hourRing.count(at, "heartbeats");
    let gap = false;
    if (this.lastSeen !== null && at > this.lastSeen) {
      const interval = at - this.lastSeen;
      gap = this.closeGap(at);
      if (!gap) {
        this.cadenceMs = this.cadenceMs === null
          ? interval
          : this.cadenceMs + CADENCE_WEIGHT * (interval - this.cadenceMs);
      }
    }
    this.lastSeen = at;
    return gap;
  }

  /** How long a silence must last to be an offline span, ms. */
  gapMs(): number {
    return Math.max(this.bounds.minGapMs, (this.cadenceMs ?? 0) * this.bounds.gapFactor);
  }

  /** Records the silence ending at `at` as offline when it was a gap; true when it was. */
  private closeGap(at: number): boolean {
    if (this.lastSeen === null || at - this.lastSeen <= this.gapMs()) return false;
    this.others.add({ type: "offline", from: this.lastSeen, to: at });
    return true;
  }

  /** The silence going on at `now`, when it is already a gap. */
  openGap(now: number): OfflineEvent | null {
    if (this.lastSeen === null || now - this.lastSeen <= this.gapMs()) return null;
    return { type: "offline", from: this.lastSeen, to: now };
  }

  /** A motion event began. */
  motion(at: number): void {
    this.hourRing.count(at, "motion");
    this.others.add({ type: "motion", at });
  }

  /**
   * A wake request. Started ones are each kept; refusals of the same requester within the
   * hour are folded into one event with a count, so a requester that keeps asking costs one.
   */
  wake(
    at: number,
    requester: { label: string; kind: RequesterKind },
    result: "started" | "refused",
    sid: number,
  ): void {
    const label = this.labels.index(requester.label);
    if (result === "started") this.hourRing.countWake(at, label, OTHERS_INDEX);
    else this.hourRing.count(at, "refused");
    this.wakeLog.add(at, label, requester.kind, result === "refused", sid);
  }

  /** The camera answered the burst `sid` (D2R_C_R). */
  acknowledged(sid: number): void {
    this.wakeLog.acknowledged(sid);
  }

  /** Every event kept from `since` on, oldest first; `now` shows a silence going on. */
  eventsSince(since: number, now: number): HistoryEvent[] {
    const open = this.openGap(now);
    const events: HistoryEvent[] = [
      ...this.others.list(since),
      ...this.wakeLog.list(since, (index) => this.labels.label(index)),
      ...(open !== null && open.to >= since ? [open] : []),
    ];
    return events.sort((a, b) => eventTime(a) - eventTime(b));
  }

  /** Drops what is older than the retention. */
  prune(now: number): void {
    const oldest = now - this.bounds.retentionMs;
    this.others.prune(oldest);
    this.wakeLog.prune(oldest);
    this.hourRing.prune(now);
  }

  /** True when nothing is kept (the camera may be forgotten). */
  isEmpty(): boolean {
    return this.others.length === 0 && this.wakeLog.length === 0 && this.hourRing.isEmpty();
  }
}
