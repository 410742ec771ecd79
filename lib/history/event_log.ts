/**
 * A camera's recent events in bounded rings of typed-array columns: wakes in one (time,
 * requester label index, kind, result, answered, session id, folded count), registrations,
 * offline spans and motion in the other. The event records the API shows are made only when
 * a report asks for them, so a full ring costs a few arrays, not a hundred objects.
 */

import { hourOf } from "./hours.ts";
import { REQUESTER_KINDS, type RequesterKind } from "./requesters.ts";
import { ColumnRing } from "./ring.ts";

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

/** The wake ring's columns. */
function wakeColumns(capacity: number) {
  return {
    at: new Float64Array(capacity),
    label: new Uint16Array(capacity),
    flags: new Uint8Array(capacity),
    sid: new Float64Array(capacity),
    count: new Uint32Array(capacity),
  };
}

/** The columns of every empty wake ring. */
const NO_WAKES = wakeColumns(0);

/** One camera's recent wakes; see the module docs. */
export class WakeLog {
  private readonly ring: ColumnRing<ReturnType<typeof wakeColumns>>;

  constructor(maxEvents: number) {
    this.ring = new ColumnRing(maxEvents, wakeColumns, NO_WAKES);
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

  /** The slot of the newest started (or refused) wake `match` also accepts, or -1. */
  private findLastOf(refused: boolean, match: (slot: number) => boolean): number {
    const { flags } = this.ring.columns;
    return this.findLast((slot) => ((flags[slot] & REFUSED) !== 0) === refused && match(slot));
  }

  /**
   * A wake of the requester `label` (an index into the label table). Refusals of the same
   * requester within the hour fold into one wake with a count, so one that keeps asking
   * costs one.
   */
  add(at: number, label: number, kind: RequesterKind, refused: boolean, sid: number): void {
    if (refused) {
      const { at: time, label: labels } = this.ring.columns;
      const folded = this.findLastOf(
        true,
        (slot) => labels[slot] === label && hourOf(time[slot]) === hourOf(at),
      );
      if (folded >= 0) {
        this.ring.columns.count[folded]++;
        return;
      }
    }
    this.restore([at, label, REQUESTER_KINDS.indexOf(kind), refused ? 1 : 0, 0, sid, 1]);
  }

  /** Appends one wake as the history file holds it (checked by the reader). */
  restore([at, label, kind, refused, acknowledged, sid, count]: WakeRow): void {
    const slot = this.ring.push();
    const columns = this.ring.columns;
    columns.at[slot] = at;
    columns.label[slot] = label;
    columns.flags[slot] = kind | (refused ? REFUSED : 0) | (acknowledged ? ACKNOWLEDGED : 0);
    columns.sid[slot] = sid;
    columns.count[slot] = count;
  }

  /** The camera answered the burst `sid`. */
  acknowledged(sid: number): void {
    const columns = this.ring.columns;
    const slot = this.findLastOf(false, (s) => columns.sid[s] === sid);
    if (slot >= 0) columns.flags[slot] |= ACKNOWLEDGED;
  }

  /** Every wake held, oldest first, as the history file's rows. */
  rows(): WakeRow[] {
    const { at, label, flags, sid, count } = this.ring.columns;
    return Array.from({ length: this.ring.length }, (_, i) => {
      const slot = this.ring.slot(i);
      return [
        at[slot],
        label[slot],
        flags[slot] & KIND_MASK,
        flags[slot] & REFUSED ? 1 : 0,
        flags[slot] & ACKNOWLEDGED ? 1 : 0,
        sid[slot],
        count[slot],
      ];
    });
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
    const slot = this.findLastOf(false, () => true);
    if (slot < 0) return null;
    const { at, label, flags } = this.ring.columns;
    return { label: label[slot], kind: REQUESTER_KINDS[flags[slot] & KIND_MASK], at: at[slot] };
  }

  /** Started wakes after `after`. */
  startedAfter(after: number): number {
    const { at, flags } = this.ring.columns;
    let started = 0;
    for (let i = 0; i < this.ring.length; i++) {
      const slot = this.ring.slot(i);
      if ((flags[slot] & REFUSED) === 0 && at[slot] > after) started++;
    }
    return started;
  }

  /** Drops the wakes before `oldest`. */
  prune(oldest: number): void {
    const { at } = this.ring.columns;
    this.ring.retain((slot) => at[slot] >= oldest);
  }

  /** The label indexes held. */
  labels(): number[] {
    const { label } = this.ring.columns;
    return Array.from({ length: this.ring.length }, (_, i) => label[this.ring.slot(i)]);
  }

  /** Renumbers the label indexes after the label table was compacted. */
  renumber(renumber: Uint16Array): void {
    const { label } = this.ring.columns;
    for (let i = 0; i < this.ring.length; i++) {
      const slot = this.ring.slot(i);
      label[slot] = renumber[label[slot]];
    }
  }
}

/** The other ring's event types, by the index its `type` column holds. */
const OTHER_TYPES = ["registered", "offline", "motion"] as const;

/** The other ring's columns. */
function otherColumns(capacity: number) {
  return {
    type: new Uint8Array(capacity),
    /** `at`, or an offline span's `from`. */
    start: new Float64Array(capacity),
    /** An offline span's `to`, else the same as `start`. */
    end: new Float64Array(capacity),
    /** A registration's address (few, so a plain array). */
    address: new Array<string | undefined>(capacity),
  };
}

/** The columns of every empty ring of other events. */
const NO_OTHERS = otherColumns(0);

/** One camera's recent registrations, offline spans and motion; see the module docs. */
export class OtherEventLog {
  private readonly ring: ColumnRing<ReturnType<typeof otherColumns>>;

  constructor(maxEvents: number) {
    this.ring = new ColumnRing(maxEvents, otherColumns, NO_OTHERS);
  }

  /** Events held. */
  get length(): number {
    return this.ring.length;
  }

  /** Appends `event` (over the oldest when full). */
  add(event: OtherEvent): void {
    const slot = this.ring.push();
    const columns = this.ring.columns;
    columns.type[slot] = OTHER_TYPES.indexOf(event.type);
    columns.start[slot] = event.type === "offline" ? event.from : event.at;
    columns.end[slot] = eventTime(event);
    columns.address[slot] = event.type === "registered" ? event.address : undefined;
  }

  private event(slot: number): OtherEvent {
    const { type, start, end, address } = this.ring.columns;
    switch (OTHER_TYPES[type[slot]]) {
      case "registered":
        return { type: "registered", at: start[slot], address: address[slot]! };
      case "offline":
        return { type: "offline", from: start[slot], to: end[slot] };
      default:
        return { type: "motion", at: start[slot] };
    }
  }

  /** The events kept from `since` on (by their time), oldest first. */
  list(since = -Infinity): OtherEvent[] {
    const events: OtherEvent[] = [];
    for (let i = 0; i < this.ring.length; i++) {
      const slot = this.ring.slot(i);
      if (this.ring.columns.end[slot] >= since) events.push(this.event(slot));
    }
    return events;
  }

  /** Drops the events before `oldest` (an offline span by its end). */
  prune(oldest: number): void {
    const { end } = this.ring.columns;
    this.ring.retain((slot) => end[slot] >= oldest);
  }
}
