/**
 * One camera's history: recent events in two bounded rings (wakes in one, everything else in
 * the other, so a flood of wake requests cannot push a camera's registrations, gaps and motion
 * out), hourly counts for the whole retention, and the heartbeat cadence that tells a gap
 * ("offline 03:12-03:40") from the ordinary silence between two heartbeats.
 */

import { countWake, emptyHour, HOUR_MS, type HourCounts, hourOf } from "./hours.ts";
import type { RequesterKind } from "./requesters.ts";

/** A camera registered (booted, or re-anchored after a restart of its session). */
export interface RegisteredEvent {
  type: "registered";
  at: number;
  /** "ip:port" the camera registered from. */
  address: string;
}

/** No heartbeat from `from` to `to` (longer than the gap factor times the cadence). */
export interface OfflineEvent {
  type: "offline";
  from: number;
  to: number;
}

/** A motion event began (a push from the camera). */
export interface MotionEvent {
  type: "motion";
  at: number;
}

/** A wake asked for by a requester, and what became of it. */
export interface WakeEvent {
  type: "wake";
  at: number;
  /** The requester's label (a configured client name, an address, or the kind). */
  requester: string;
  kind: RequesterKind;
  /** "started": a burst was sent; "refused": over max_wakes_per_hour. */
  result: "started" | "refused";
  /** The camera answered the burst (D2R_C_R). */
  acknowledged: boolean;
  /** The burst's session id (0 when refused). */
  sid: number;
  /** Requests folded into this one: refusals of the same requester within the hour. */
  count: number;
}

/** Anything kept in a camera's history. */
export type HistoryEvent = RegisteredEvent | OfflineEvent | MotionEvent | WakeEvent;

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

/** A bounded list that drops its oldest entry when full. */
function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}

/** The history of one camera; see the module docs. */
export class CameraHistory {
  /** Registrations, offline spans and motion, oldest first. */
  events: HistoryEvent[] = [];
  /** Wakes, oldest first. */
  wakes: WakeEvent[] = [];
  /** Hourly counts, oldest first. */
  hours: HourCounts[] = [];
  /** Time of the last heartbeat or registration; null before the first. */
  lastSeen: number | null = null;
  /** Average interval between heartbeats, ms; null until two were seen. */
  cadenceMs: number | null = null;

  constructor(private readonly bounds: CameraHistoryBounds) {}

  /** The bucket for the hour of `at`, made when missing (older hours are dropped). */
  private bucket(at: number): HourCounts {
    const last = this.hours.at(-1);
    if (last !== undefined && last.hour === hourOf(at)) return last;
    const found = this.hours.find((bucket) => bucket.hour === hourOf(at));
    if (found !== undefined) return found;
    const bucket = emptyHour(at);
    this.hours.push(bucket);
    this.hours.sort((a, b) => a.hour - b.hour);
    this.prune(at);
    return bucket;
  }

  /** A registration: also the end of any silence before it. */
  registered(at: number, address: string): void {
    this.closeGap(at);
    pushBounded(this.events, { type: "registered", at, address }, this.bounds.maxEvents);
    this.lastSeen = at;
  }

  /** A heartbeat: counted, the cadence updated, a silence longer than the gap recorded. */
  heartbeat(at: number): void {
    this.bucket(at).heartbeats++;
    if (this.lastSeen !== null && at > this.lastSeen) {
      const interval = at - this.lastSeen;
      if (!this.closeGap(at)) {
        this.cadenceMs = this.cadenceMs === null
          ? interval
          : this.cadenceMs + CADENCE_WEIGHT * (interval - this.cadenceMs);
      }
    }
    this.lastSeen = at;
  }

  /** How long a silence must last to be an offline span, ms. */
  gapMs(): number {
    return Math.max(this.bounds.minGapMs, (this.cadenceMs ?? 0) * this.bounds.gapFactor);
  }

  /** Records the silence ending at `at` as offline when it was a gap; true when it was. */
  private closeGap(at: number): boolean {
    if (this.lastSeen === null || at - this.lastSeen <= this.gapMs()) return false;
    const span: OfflineEvent = { type: "offline", from: this.lastSeen, to: at };
    pushBounded(this.events, span, this.bounds.maxEvents);
    return true;
  }

  /** The silence going on at `now`, when it is already a gap. */
  openGap(now: number): OfflineEvent | null {
    if (this.lastSeen === null || now - this.lastSeen <= this.gapMs()) return null;
    return { type: "offline", from: this.lastSeen, to: now };
  }

  /** A motion event began. */
  motion(at: number): void {
    this.bucket(at).motion++;
    pushBounded(this.events, { type: "motion", at }, this.bounds.maxEvents);
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
    const bucket = this.bucket(at);
    if (result === "started") {
      countWake(bucket, requester.label, this.bounds.maxRequestersPerHour);
    } else {
      bucket.refused++;
      const folded = this.wakes.findLast((wake) =>
        wake.result === "refused" && wake.requester === requester.label &&
        hourOf(wake.at) === hourOf(at)
      );
      if (folded !== undefined) {
        folded.count++;
        return;
      }
    }
    const event: WakeEvent = {
      type: "wake",
      at,
      requester: requester.label,
      kind: requester.kind,
      result,
      acknowledged: false,
      sid,
      count: 1,
    };
    pushBounded(this.wakes, event, this.bounds.maxEvents);
  }

  /** The camera answered the burst `sid` (D2R_C_R). */
  acknowledged(sid: number): void {
    const wake = this.wakes.findLast((w) => w.result === "started" && w.sid === sid);
    if (wake !== undefined) wake.acknowledged = true;
  }

  /** Drops what is older than the retention. */
  prune(now: number): void {
    const oldest = now - this.bounds.retentionMs;
    const keep = (event: HistoryEvent) =>
      (event.type === "offline" ? event.to : event.at) >= oldest;
    this.events = this.events.filter(keep);
    this.wakes = this.wakes.filter(keep);
    this.hours = this.hours.filter((bucket) => bucket.hour + HOUR_MS > oldest);
  }

  /** True when nothing is kept (the camera may be forgotten). */
  isEmpty(): boolean {
    return this.events.length === 0 && this.wakes.length === 0 && this.hours.length === 0;
  }
}
