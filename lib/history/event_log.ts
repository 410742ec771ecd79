/**
 * A camera's recent events in bounded rings of typed-array columns: wakes in one (time,
 * requester label index, kind, result, answered, session id, folded count), registrations,
 * offline spans and motion in the other. The event records the API shows are made only when
 * a report asks for them, so a full ring costs a few arrays, not a hundred objects.
 */

import { hourOf } from "./hours.ts";
import { REQUESTER_KINDS, type RequesterKind } from "./requesters.ts";
import { RingSlots } from "./ring.ts";

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

/** Registrations, offline spans and motion. */
export type OtherEvent = RegisteredEvent | OfflineEvent | MotionEvent;

/** The time an event is kept by (an offline span by its end). */
export function eventTime(event: HistoryEvent): number {
  return event.type === "offline" ? event.to : event.at;
}

/** The wake ring's `flags` bits: the kind's index in the low three, then these. */
const REFUSED = 8;
const ACKNOWLEDGED = 16;
const KIND_MASK = 7;

/**
 * One wake as the history file holds it: [at, label index, kind index, refused (0/1),
 * acknowledged (0/1), sid, count].
 */
export type WakeRow = [number, number, number, number, number, number, number];

/** One camera's recent wakes; see the module docs. */
export class WakeLog {
  private readonly ring: RingSlots;
  private readonly at: Float64Array;
  private readonly label: Uint16Array;
  private readonly flags: Uint8Array;
  private readonly sid: Float64Array;
  private readonly count: Uint32Array;

  constructor(maxEvents: number) {
    this.ring = new RingSlots(maxEvents);
    this.at = new Float64Array(maxEvents);
    this.label = new Uint16Array(maxEvents);
    this.flags = new Uint8Array(maxEvents);
    this.sid = new Float64Array(maxEvents);
    this.count = new Uint32Array(maxEvents);
  }

  /** Wakes held. */
  get length(): number {
    return this.ring.length;
  }

  /** The slot of the newest wake `match` accepts, or -1. */
  private findLast(match: (slot: number) => boolean): number {
    for (let i = this.ring.length - 1; i >= 0; i--) {
      if (match(this.ring.slot(i))) return this.ring.slot(i);
    }
    return -1;
  }

  /**
   * A wake of the requester `label` (an index into the label table). Refusals of the same
   * requester within the hour fold into one wake with a count, so one that keeps asking
   * costs one.
   */
  add(at: number, label: number, kind: RequesterKind, refused: boolean, sid: number): void {
    if (refused) {
      const folded = this.findLast((slot) =>
        (this.flags[slot] & REFUSED) !== 0 && this.label[slot] === label &&
        hourOf(this.at[slot]) === hourOf(at)
      );
      if (folded >= 0) {
        this.count[folded]++;
        return;
      }
    }
    this.put(this.ring.push(), [
      at,
      label,
      REQUESTER_KINDS.indexOf(kind),
      refused ? 1 : 0,
      0,
      sid,
      1,
    ]);
  }

  private put(slot: number, [at, label, kind, refused, acknowledged, sid, count]: WakeRow) {
    this.at[slot] = at;
    this.label[slot] = label;
    this.flags[slot] = kind | (refused ? REFUSED : 0) | (acknowledged ? ACKNOWLEDGED : 0);
    this.sid[slot] = sid;
    this.count[slot] = count;
  }

  /** The camera answered the burst `sid`. */
  acknowledged(sid: number): void {
    const slot = this.findLast((s) => (this.flags[s] & REFUSED) === 0 && this.sid[s] === sid);
    if (slot >= 0) this.flags[slot] |= ACKNOWLEDGED;
  }

  /** The wake in `slot` as the file holds it. */
  private row(slot: number): WakeRow {
    const flags = this.flags[slot];
    return [
      this.at[slot],
      this.label[slot],
      flags & KIND_MASK,
      flags & REFUSED ? 1 : 0,
      flags & ACKNOWLEDGED ? 1 : 0,
      this.sid[slot],
      this.count[slot],
    ];
  }

  /** Every wake held, oldest first, as the history file's rows. */
  rows(): WakeRow[] {
    return Array.from({ length: this.ring.length }, (_, i) => this.row(this.ring.slot(i)));
  }

  /** Appends one row of the history file (checked by the reader). */
  restore(row: WakeRow): void {
    this.put(this.ring.push(), row);
  }

  /** The wakes from `since` on as records, oldest first; `label` names an index. */
  list(since: number, label: (index: number) => string): WakeEvent[] {
    return this.rows().filter(([at]) => at >= since).map((
      [at, index, kind, refused, acknowledged, sid, count],
    ) => ({
      type: "wake",
      at,
      requester: label(index),
      kind: REQUESTER_KINDS[kind],
      result: refused ? "refused" : "started",
      acknowledged: acknowledged === 1,
      sid,
      count,
    }));
  }

  /** The newest started wake: its label index, kind and time; null when none is held. */
  lastStarted(): { label: number; kind: RequesterKind; at: number } | null {
    const slot = this.findLast((s) => (this.flags[s] & REFUSED) === 0);
    if (slot < 0) return null;
    return {
      label: this.label[slot],
      kind: REQUESTER_KINDS[this.flags[slot] & KIND_MASK],
      at: this.at[slot],
    };
  }

  /** Started wakes after `after`. */
  startedAfter(after: number): number {
    let started = 0;
    for (let i = 0; i < this.ring.length; i++) {
      const slot = this.ring.slot(i);
      if ((this.flags[slot] & REFUSED) === 0 && this.at[slot] > after) started++;
    }
    return started;
  }

  /** Drops the wakes before `oldest`. */
  prune(oldest: number): void {
    this.ring.retain((slot) => this.at[slot] >= oldest, (from, to) => this.put(to, this.row(from)));
  }

  /** The label indexes held. */
  labels(): number[] {
    return this.rows().map(([, label]) => label);
  }

  /** Renumbers the label indexes after the label table was compacted. */
  renumber(renumber: Uint16Array): void {
    for (let i = 0; i < this.ring.length; i++) {
      const slot = this.ring.slot(i);
      this.label[slot] = renumber[this.label[slot]];
    }
  }
}

/** The other ring's event types, by the index its `type` column holds. */
const OTHER_TYPES = ["registered", "offline", "motion"] as const;

/** One camera's recent registrations, offline spans and motion; see the module docs. */
export class OtherEventLog {
  private readonly ring: RingSlots;
  private readonly type: Uint8Array;
  /** `at`, or an offline span's `from`. */
  private readonly start: Float64Array;
  /** An offline span's `to`, else the same as `start`. */
  private readonly end: Float64Array;
  /** A registration's address (few, so a plain array). */
  private readonly address: (string | undefined)[];

  constructor(maxEvents: number) {
    this.ring = new RingSlots(maxEvents);
    this.type = new Uint8Array(maxEvents);
    this.start = new Float64Array(maxEvents);
    this.end = new Float64Array(maxEvents);
    this.address = new Array(maxEvents);
  }

  /** Events held. */
  get length(): number {
    return this.ring.length;
  }

  /** Appends `event` (over the oldest when full). */
  add(event: OtherEvent): void {
    this.put(this.ring.push(), event);
  }

  private put(slot: number, event: OtherEvent): void {
    this.type[slot] = OTHER_TYPES.indexOf(event.type);
    this.start[slot] = event.type === "offline" ? event.from : event.at;
    this.end[slot] = eventTime(event);
    this.address[slot] = event.type === "registered" ? event.address : undefined;
  }

  private event(slot: number): OtherEvent {
    switch (OTHER_TYPES[this.type[slot]]) {
      case "registered":
        return { type: "registered", at: this.start[slot], address: this.address[slot]! };
      case "offline":
        return { type: "offline", from: this.start[slot], to: this.end[slot] };
      default:
        return { type: "motion", at: this.start[slot] };
    }
  }

  /** The events kept from `since` on (by their time), oldest first. */
  list(since = -Infinity): OtherEvent[] {
    const events: OtherEvent[] = [];
    for (let i = 0; i < this.ring.length; i++) {
      const slot = this.ring.slot(i);
      if (this.end[slot] >= since) events.push(this.event(slot));
    }
    return events;
  }

  /** Drops the events before `oldest` (an offline span by its end). */
  prune(oldest: number): void {
    this.ring.retain(
      (slot) => this.end[slot] >= oldest,
      (from, to) => this.put(to, this.event(from)),
    );
  }
}
