/**
 * Every camera's history (see camera_history.ts), bounded in cameras, and the questions asked
 * of it: a camera's events and hourly counts since a time, today's summary, and who woke a
 * camera more than the drain threshold in the last 24 hours.
 */

import {
  CameraHistory,
  type CameraHistoryBounds,
  type HistoryEvent,
  type WakeEvent,
} from "./camera_history.ts";
import { HOUR_MS, type HourCounts, hourOf } from "./hours.ts";
import { LabelTable } from "./labels.ts";
import { type Requester, type RequesterKind, RequesterNames } from "./requesters.ts";

/** The bounds and thresholds of the history (the `[history]` section). */
export interface HistoryOptions extends CameraHistoryBounds {
  /** Most cameras with a history; the one seen least recently goes first. */
  maxCameras: number;
  /** Wakes by one requester in 24 hours above which it is named as draining the battery. */
  drainWakesPerDay: number;
}

/** One requester's wakes of a camera over a period. */
export interface RequesterTotal {
  requester: string;
  kind: RequesterKind | "others";
  /** Wakes started. */
  wakes: number;
  /** Wake requests refused by the budget. */
  refused: number;
  /** Started wakes the camera answered (among those still listed in the events). */
  acknowledged: number;
}

/** What `history` answers for one camera. */
export interface CameraHistoryReport {
  uid: string;
  since: number;
  /** Average heartbeat interval, ms; null until known. */
  cadenceMs: number | null;
  /** Every kept event since `since`, oldest first (an offline span going on included). */
  events: HistoryEvent[];
  /** Hourly counts since the hour of `since`. */
  hours: HourCounts[];
  /** Per requester, most wakes first. */
  requesters: RequesterTotal[];
}

/** Today's figures for one camera, for `/api/cameras`, the page and MQTT. */
export interface CameraDaySummary {
  wakesToday: number;
  motionToday: number;
  /** The last wake started: by whom, when. */
  lastWokenBy: { requester: string; kind: RequesterKind; at: number } | null;
  /** Wakes started in the last 24 hours (whole hours). */
  wakesLastDay: number;
  /** Wakes started in the last 60 minutes (kept across restarts, unlike the budget's count). */
  wakesLastHour: number;
}

/** A requester that woke a camera more than the threshold in 24 hours. */
export interface DrainReport {
  uid: string;
  requester: string;
  wakes: number;
  threshold: number;
}

/** The drain warning with its remedy, as serve logs it and `bairelay history` shows it. */
export function drainAdvice(drain: Omit<DrainReport, "uid" | "threshold">, camera: string): string {
  return `${drain.requester} woke ${camera} ${drain.wakes} times in 24 h: lower that client's ` +
    "polling, or set max_wakes_per_hour";
}

/** The start of the local day `at` falls in. */
export function startOfDay(at: number): number {
  const date = new Date(at);
  date.setHours(0, 0, 0, 0);
  return date.getTime();
}

/** Every camera's history; see the module docs. */
export class HistoryStore {
  private readonly cameras = new Map<string, CameraHistory>();
  /** `${uid}\n${requester}` -> start of the day it was last warned about. */
  private readonly warned = new Map<string, number>();
  /** Every camera's requester labels, interned once. */
  readonly labels = new LabelTable();

  /**
   * `keep`: cameras never evicted to make room (the configured ones), so a flood of other
   * UIDs cannot push them out.
   */
  constructor(
    readonly options: HistoryOptions,
    readonly names = new RequesterNames(),
    private readonly keep: (uid: string) => boolean = () => false,
  ) {}

  /** The camera's history, made when missing (the least recently seen one goes when full). */
  private camera(uid: string): CameraHistory {
    let history = this.cameras.get(uid);
    if (history === undefined) {
      if (this.cameras.size >= this.options.maxCameras) this.evictOldest();
      history = this.newCameraHistory();
      this.cameras.set(uid, history);
    }
    return history;
  }

  private evictOldest(): void {
    let oldest: string | undefined;
    let oldestSeen = Infinity;
    for (const [uid, history] of this.cameras) {
      if (this.keep(uid)) continue;
      const seen = history.lastSeen ?? -Infinity;
      if (seen < oldestSeen) [oldest, oldestSeen] = [uid, seen];
    }
    if (oldest !== undefined) this.cameras.delete(oldest);
  }

  /** The UIDs with a history. */
  uids(): string[] {
    return [...this.cameras.keys()];
  }

  /** The history of `uid` as kept (for the state file), or undefined. */
  get(uid: string): CameraHistory | undefined {
    return this.cameras.get(uid);
  }

  /** Puts back a camera's history read from the state file. */
  restore(uid: string, history: CameraHistory): void {
    if (this.cameras.size >= this.options.maxCameras && !this.cameras.has(uid)) return;
    this.cameras.set(uid, history);
  }

  /** Makes an empty history with this store's bounds (for the state file's reader). */
  newCameraHistory(): CameraHistory {
    return new CameraHistory(this.options, this.labels);
  }

  registered(uid: string, at: number, address: string): void {
    this.camera(uid).registered(at, address);
  }

  /** A heartbeat; true when it recorded an event (an offline span), not only a count. */
  heartbeat(uid: string, at: number): boolean {
    return this.camera(uid).heartbeat(at);
  }

  motion(uid: string, at: number): void {
    this.camera(uid).motion(at);
  }

  /** A wake request for `uid` by `requester`: started, or refused by the budget. */
  wake(uid: string, at: number, requester: Requester, result: "started" | "refused", sid = 0) {
    const label = this.names.label(requester);
    this.camera(uid).wake(at, { label, kind: requester.kind }, result, sid);
  }

  /** The camera answered the burst `sid`. */
  acknowledged(uid: string, sid: number): void {
    this.cameras.get(uid)?.acknowledged(sid);
  }

  /**
   * Drops what is older than the retention, cameras with nothing left, and the requester
   * labels nothing refers to any more (so the table's bound is reached by a flood, not by time).
   */
  prune(now: number): void {
    const used = new Set<number>();
    for (const [uid, history] of this.cameras) {
      history.prune(now);
      if (history.isEmpty()) this.cameras.delete(uid);
      history.hourRing.forEachRequester(-Infinity, (label) => used.add(label));
      for (const label of history.wakeLog.labels()) used.add(label);
    }
    const renumber = this.labels.compact(used);
    for (const history of this.cameras.values()) {
      history.hourRing.renumber(renumber);
      history.wakeLog.renumber(renumber);
    }
  }

  /** The camera's events and counts since `since`; null when it has no history. */
  report(uid: string, since: number, now: number): CameraHistoryReport | null {
    const history = this.cameras.get(uid);
    if (history === undefined) return null;
    const label = (index: number) => this.labels.label(index);
    const hours = history.hourRing.list(hourOf(since), label);
    return {
      uid,
      since,
      cadenceMs: history.cadenceMs === null ? null : Math.round(history.cadenceMs),
      events: history.eventsSince(since, now),
      hours,
      requesters: requesterTotals(hours, history.wakeLog.list(since, label)),
    };
  }

  /** Today's wakes and motion, the last requester, the wakes of the last 24 hours. */
  summary(uid: string, now: number): CameraDaySummary {
    const history = this.cameras.get(uid);
    const midnight = hourOf(startOfDay(now));
    const dayAgo = hourOf(now) - 23 * HOUR_MS;
    const hours = history?.hourRing;
    const last = history?.wakeLog.lastStarted() ?? null;
    return {
      wakesToday: hours?.sum("wakes", midnight) ?? 0,
      motionToday: hours?.sum("motion", midnight) ?? 0,
      wakesLastDay: hours?.sum("wakes", dayAgo) ?? 0,
      wakesLastHour: history?.wakeLog.startedAfter(now - HOUR_MS) ?? 0,
      lastWokenBy: last && {
        requester: this.labels.label(last.label),
        kind: last.kind,
        at: last.at,
      },
    };
  }

  /**
   * Every requester over the drain threshold for a camera in the last 24 hours; of `only`
   * alone when given (the check after each wake looks at the camera just woken).
   */
  drains(now: number, only?: string): DrainReport[] {
    const threshold = this.options.drainWakesPerDay;
    const dayAgo = hourOf(now) - 23 * HOUR_MS;
    const reports: DrainReport[] = [];
    const cameras = only === undefined
      ? this.cameras
      : new Map(this.cameras.has(only) ? [[only, this.cameras.get(only)!]] : []);
    for (const [uid, history] of cameras) {
      const totals = new Map<number, number>();
      history.hourRing.forEachRequester(dayAgo, (label, wakes) => {
        totals.set(label, (totals.get(label) ?? 0) + wakes);
      });
      for (const [label, wakes] of totals) {
        const requester = this.labels.label(label);
        if (wakes > threshold) reports.push({ uid, requester, wakes, threshold });
      }
    }
    return reports.sort((a, b) => b.wakes - a.wakes);
  }

  /** The drains not yet reported today (each camera and requester once a local day). */
  drainsToWarn(now: number, only?: string): DrainReport[] {
    const today = startOfDay(now);
    // The full check (hourly) forgets earlier days' warnings, so they cannot pile up.
    if (only === undefined) {
      for (const [key, day] of this.warned) if (day !== today) this.warned.delete(key);
    }
    return this.drains(now, only).filter((drain) => {
      const key = `${drain.uid}\n${drain.requester}`;
      if (this.warned.get(key) === today) return false;
      this.warned.set(key, today);
      return true;
    });
  }
}

/** Per requester: started wakes from the hourly counts, refusals and answers from the events. */
function requesterTotals(hours: HourCounts[], wakes: WakeEvent[]): RequesterTotal[] {
  const totals = new Map<string, RequesterTotal>();
  const total = (requester: string, kind: RequesterTotal["kind"]) => {
    let found = totals.get(requester);
    if (found === undefined) {
      found = { requester, kind, wakes: 0, refused: 0, acknowledged: 0 };
      totals.set(requester, found);
    }
    return found;
  };
  for (const wake of wakes) {
    const entry = total(wake.requester, wake.kind);
    if (wake.result === "refused") entry.refused += wake.count;
    else if (wake.acknowledged) entry.acknowledged++;
  }
  for (const bucket of hours) {
    for (const [requester, count] of Object.entries(bucket.byRequester)) {
      total(requester, totals.get(requester)?.kind ?? "others").wakes += count;
    }
  }
  return [...totals.values()].sort((a, b) => b.wakes - a.wakes || b.refused - a.refused);
}
