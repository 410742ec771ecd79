/**
 * The bridge's camera state table and what each camera's state topics carry: motion and
 * registered (on/off), last heartbeat, last motion and last wake (ISO 8601 times), the wake
 * count of the window (bursts started in the last hour unless configured), which one timer
 * lowers as wakes leave the window, and the day's figures from the camera's history (wakes
 * and motion today, who woke it last). The table is bounded: beyond its cap the least
 * recently seen idle unconfigured camera is forgotten.
 */

import { getLogger } from "@logtape/logtape";
import type { Clock } from "../clock.ts";
import type { CameraDaySummary } from "../history/store.ts";
import type { Publisher } from "./session.ts";
import {
  CAMERA_STATE_TOPICS,
  type CameraStateTopic,
  OFF,
  ON,
  type Topics,
  topicSegment,
} from "./topics.ts";

const log = getLogger(["bairelay", "mqtt"]);

/**
 * Most cameras the bridge remembers. Beyond it, the least recently seen unconfigured camera
 * that is not registered is forgotten (and its discovery removed), so UIDs invented by a
 * hostile peer cannot grow memory without end.
 */
export const DEFAULT_MAX_MQTT_CAMERAS = 2048;
/** UIDs remembered per named camera whose earlier, UID-named topics are cleared. */
export const MAX_UIDS_PER_NAMED_CAMERA = 4;
/** Default window of the "Wakes" count: bursts started in the last hour. */
export const DEFAULT_WAKE_WINDOW_MS = 3_600_000;
/** Default most wakes counted per camera and window (the count shows at most this). */
export const DEFAULT_MAX_COUNTED_WAKES = 1000;
/**
 * Longest text state published (the requester's label): Home Assistant refuses a sensor
 * state longer than 255 characters, and would show none at all.
 */
export const MAX_STATE_TEXT = 255;

/** Bounds of the table, as in the bridge's options. */
export interface CameraStatesOptions {
  maxCameras?: number;
  /** Window of the per-camera wake count (default one hour). */
  wakeWindowMs?: number;
  /** Most wakes counted per camera within the window. */
  maxCountedWakes?: number;
}

/** A camera as the bridge knows it. */
export interface CameraRef {
  /** The UID (the configured one for configured cameras, else the one the camera reported). */
  uid: string;
  /** The configured name, when there is one: it names the topics. */
  name?: string;
}

/** The published state of one camera. */
export interface CameraMqttState extends CameraRef {
  segment: string;
  motion: boolean;
  registered: boolean;
  lastHeartbeat?: number;
  lastMotion?: number;
  lastWake?: number;
  /** Wakes started within the wake window (an hour unless configured). */
  wakes: number;
  /** The day's figures from the camera's history, as last given (none before). */
  day?: CameraDaySummary;
}

/** Times a camera keeps across restarts (the registry's), for `setHistory`. */
export interface CameraHistory {
  lastMotion?: number;
  lastWake?: number;
}

/** One row of the table. */
export interface CameraRecord extends Omit<CameraMqttState, "wakes"> {
  configured: boolean;
  /** Start times of the wakes within the window, oldest first. */
  wakeTimes: number[];
  /**
   * The history's count of wakes in the last hour and when it was given: it covers the wakes
   * this run did not see (before a restart), and counts until it could have left the window.
   */
  historyWakes?: { count: number; at: number };
  touched: number;
  /** Motion came on while the broker was away (published on reconnect even if over by then). */
  missedMotion: boolean;
  /**
   * A named camera's UIDs (configured and reported): before it was named it was published
   * under its UID, so the retained topics of that identity are cleared, or Home Assistant
   * would keep a second, dead device.
   */
  uids: string[];
  /** Those of `uids` whose leftovers were cleared on the broker in this connection. */
  clearedUids: Set<string>;
}

/** What the table tells the rest of the bridge about its rows. */
export interface CameraLifecycle {
  /** A camera joined the table: announce it and publish its state. */
  added(record: CameraRecord): void;
  /** A named camera reported one more UID (its earlier identity's topics are to be cleared). */
  uidAdded(record: CameraRecord, uid: string): void;
  /** A camera was forgotten to keep the table within its cap. */
  forgotten(record: CameraRecord): void;
}

/** The state topics of the day's figures, published by `setDaySummary`. */
const DAY_TOPICS: readonly CameraStateTopic[] = [
  "wakes",
  "wakes_today",
  "motion_today",
  "last_woken_by",
  "last_woken_by_attributes",
];

/** `text` within MAX_STATE_TEXT characters (whole code points, so none is cut in half). */
function stateText(text: string): string {
  const characters = Array.from(text);
  return characters.length <= MAX_STATE_TEXT ? text : characters.slice(0, MAX_STATE_TEXT).join("");
}

/** ISO 8601 text of a time, or undefined (nothing published) when there is none yet. */
function time(at: number | undefined): string | undefined {
  return at === undefined ? undefined : new Date(at).toISOString();
}

/** The camera state table and its state topics. */
export class CameraStates {
  readonly #options: CameraStatesOptions;
  readonly #topics: Topics;
  readonly #publisher: Publisher;
  readonly #clock: Clock;
  readonly #lifecycle: CameraLifecycle;
  readonly #cameras = new Map<string, CameraRecord>();
  /** Fires when the oldest counted wake of some camera leaves the window. */
  #wakeWindowTimer: unknown;
  #closing = false;
  #touch = 0;

  constructor(
    options: CameraStatesOptions,
    topics: Topics,
    publisher: Publisher,
    clock: Clock,
    lifecycle: CameraLifecycle,
  ) {
    this.#options = options;
    this.#topics = topics;
    this.#publisher = publisher;
    this.#clock = clock;
    this.#lifecycle = lifecycle;
  }

  /** The rows by topic segment (read-only: rows change through the methods below). */
  get records(): ReadonlyMap<string, CameraRecord> {
    return this.#cameras;
  }

  /** The state of every camera (plain data). */
  snapshot(): CameraMqttState[] {
    return [...this.#cameras.values()].map((record) => ({
      uid: record.uid,
      ...(record.name === undefined ? {} : { name: record.name }),
      segment: record.segment,
      motion: record.motion,
      registered: record.registered,
      ...(record.lastHeartbeat === undefined ? {} : { lastHeartbeat: record.lastHeartbeat }),
      ...(record.lastMotion === undefined ? {} : { lastMotion: record.lastMotion }),
      ...(record.lastWake === undefined ? {} : { lastWake: record.lastWake }),
      wakes: this.#countWakes(record),
      ...(record.day === undefined ? {} : { day: record.day }),
    }));
  }

  /** A configured camera: never forgotten. */
  declare(camera: CameraRef): void {
    this.#record(camera, true);
  }

  /** The camera's motion state; motion starting at `at` is its last motion. */
  setMotion(camera: CameraRef, motion: boolean, at = this.#clock.now()): void {
    const record = this.#record(camera, false);
    record.motion = motion;
    if (motion && !this.#publisher.ready) record.missedMotion = true;
    this.#publishState(record, "motion");
    if (motion) {
      record.lastMotion = at;
      this.#publishState(record, "last_motion");
    }
  }

  /** Whether the camera is registered (fresh heartbeat) or not. */
  setRegistered(camera: CameraRef, registered: boolean): void {
    const record = this.#record(camera, false);
    if (record.registered !== registered) {
      record.registered = registered;
      this.publishRegisteredCount();
    }
    this.#publishState(record, "registered");
  }

  /** The camera's last heartbeat time (and that it is registered). */
  setHeartbeat(camera: CameraRef, at: number): void {
    const record = this.#record(camera, false);
    record.lastHeartbeat = at;
    this.#publishState(record, "last_heartbeat");
    if (!record.registered) this.setRegistered(camera, true);
  }

  /** Counts a wake burst started for the camera at `at`: its wake count and last wake. */
  recordWake(camera: CameraRef, at = this.#clock.now()): void {
    const record = this.#record(camera, false);
    record.wakeTimes.push(at);
    const max = this.#options.maxCountedWakes ?? DEFAULT_MAX_COUNTED_WAKES;
    if (record.wakeTimes.length > max) record.wakeTimes.shift();
    record.lastWake = at;
    this.#publishState(record, "wakes");
    this.#publishState(record, "last_wake");
    this.#scheduleWakeWindow();
  }

  /** The last motion and last wake from before this run, keeping whichever is newer. */
  setHistory(camera: CameraRef, history: CameraHistory): void {
    const record = this.#record(camera, false);
    if (history.lastMotion !== undefined && (record.lastMotion ?? -Infinity) < history.lastMotion) {
      record.lastMotion = history.lastMotion;
      this.#publishState(record, "last_motion");
    }
    if (history.lastWake !== undefined && (record.lastWake ?? -Infinity) < history.lastWake) {
      record.lastWake = history.lastWake;
      this.#publishState(record, "last_wake");
    }
  }

  /**
   * The camera's day from its history: wakes and motion today, who woke it last (and, when
   * newer, that wake's time as its last wake), and the wakes of the last hour, which the count
   * shows when it is more than this run counted itself (after a restart it counted none).
   */
  setDaySummary(camera: CameraRef, summary: CameraDaySummary): void {
    const record = this.#record(camera, false);
    record.day = { ...summary };
    record.historyWakes = { count: summary.wakesLastHour, at: this.#clock.now() };
    const woken = summary.lastWokenBy?.at;
    if (woken !== undefined && (record.lastWake ?? -Infinity) < woken) {
      record.lastWake = woken;
      this.#publishState(record, "last_wake");
    }
    for (const what of DAY_TOPICS) this.#publishState(record, what);
    this.#scheduleWakeWindow();
  }

  /**
   * Publishes every state topic of the camera, replaying a whole motion (on, then off) that
   * happened while the broker was away, so subscribers and Home Assistant's history see it.
   */
  publishStates(record: CameraRecord): void {
    if (record.missedMotion && !record.motion) {
      this.#publisher.publish(this.#topics.state(record.segment, "motion"), ON);
    }
    record.missedMotion = false;
    this.#publishState(record, "motion");
    for (const what of CAMERA_STATE_TOPICS) if (what !== "motion") this.#publishState(record, what);
  }

  /** Publishes how many cameras are registered right now. */
  publishRegisteredCount(): void {
    let count = 0;
    for (const record of this.#cameras.values()) if (record.registered) count++;
    this.#publisher.publish(this.#topics.camerasRegistered, String(count));
  }

  /** Stops the wake-window timer. */
  close(): void {
    this.#closing = true;
    if (this.#wakeWindowTimer !== undefined) this.#clock.clearTimeout(this.#wakeWindowTimer);
  }

  #record(camera: CameraRef, configured: boolean): CameraRecord {
    const segment = topicSegment(camera.name ?? camera.uid);
    let record = this.#cameras.get(segment);
    if (record) {
      record.touched = ++this.#touch;
      record.configured ||= configured;
      if (
        record.name !== undefined && !record.uids.includes(camera.uid) &&
        record.uids.length < MAX_UIDS_PER_NAMED_CAMERA
      ) {
        record.uids.push(camera.uid);
        this.#lifecycle.uidAdded(record, camera.uid);
      }
      return record;
    }
    this.#evictIfFull();
    record = {
      uid: camera.uid,
      ...(camera.name === undefined ? {} : { name: camera.name }),
      segment,
      motion: false,
      registered: false,
      wakeTimes: [],
      missedMotion: false,
      configured,
      touched: ++this.#touch,
      uids: camera.name === undefined ? [] : [camera.uid],
      clearedUids: new Set(),
    };
    this.#cameras.set(segment, record);
    this.#lifecycle.added(record);
    return record;
  }

  #evictIfFull(): void {
    const max = this.#options.maxCameras ?? DEFAULT_MAX_MQTT_CAMERAS;
    if (this.#cameras.size < max) return;
    let oldest: CameraRecord | undefined;
    for (const record of this.#cameras.values()) {
      if (record.configured || record.registered || record.motion) continue;
      if (!oldest || record.touched < oldest.touched) oldest = record;
    }
    if (!oldest) return; // everything is live: exceed the cap rather than lose live state
    this.#cameras.delete(oldest.segment);
    log.warn("MQTT bridge forgets camera {uid}: more than {max} cameras", {
      uid: oldest.uid,
      max,
    });
    this.#lifecycle.forgotten(oldest);
  }

  #publishState(record: CameraRecord, what: CameraStateTopic): void {
    const payload = this.#statePayload(record, what);
    if (payload !== undefined) {
      this.#publisher.publish(this.#topics.state(record.segment, what), payload);
    }
  }

  /** The payload of one state topic, or undefined when there is nothing to say yet. */
  #statePayload(record: CameraRecord, what: CameraStateTopic): string | undefined {
    switch (what) {
      case "motion":
        return record.motion ? ON : OFF;
      case "registered":
        return record.registered ? ON : OFF;
      case "last_heartbeat":
        return time(record.lastHeartbeat);
      case "last_motion":
        return time(record.lastMotion);
      case "wakes":
        return String(this.#countWakes(record));
      case "last_wake":
        return time(record.lastWake);
      case "wakes_today":
        return record.day === undefined ? undefined : String(record.day.wakesToday);
      case "motion_today":
        return record.day === undefined ? undefined : String(record.day.motionToday);
    }
    const woken = record.day?.lastWokenBy;
    if (!woken) return undefined;
    // The label as the plain text it is (Home Assistant evaluates no template on it).
    if (what === "last_woken_by") return stateText(woken.requester);
    return JSON.stringify({ kind: woken.kind, at: time(woken.at) });
  }

  /**
   * Wakes of `record` within the window: the more of its own count and the history's, at most
   * maxCountedWakes.
   */
  #countWakes(record: CameraRecord): number {
    this.#dropExpired(record);
    const max = this.#options.maxCountedWakes ?? DEFAULT_MAX_COUNTED_WAKES;
    return Math.min(max, Math.max(record.wakeTimes.length, record.historyWakes?.count ?? 0));
  }

  /** Drops the wakes (and the history's count) that left the window; true when any did. */
  #dropExpired(record: CameraRecord): boolean {
    const window = this.#options.wakeWindowMs ?? DEFAULT_WAKE_WINDOW_MS;
    const now = this.#clock.now();
    let dropped = false;
    while (record.wakeTimes.length > 0 && now - record.wakeTimes[0] >= window) {
      record.wakeTimes.shift();
      dropped = true;
    }
    if (record.historyWakes !== undefined && now - record.historyWakes.at >= window) {
      record.historyWakes = undefined;
      dropped = true;
    }
    return dropped;
  }

  /** When the oldest wake `record` counts leaves the window (Infinity: it counts none). */
  #oldestCounted(record: CameraRecord): number {
    const history = record.historyWakes?.count ? record.historyWakes.at : Infinity;
    return Math.min(record.wakeTimes[0] ?? Infinity, history);
  }

  /**
   * Arms one timer for the moment the oldest counted wake of any camera leaves the window;
   * it publishes the lower counts and arms itself again.
   */
  #scheduleWakeWindow(): void {
    if (this.#wakeWindowTimer !== undefined) this.#clock.clearTimeout(this.#wakeWindowTimer);
    this.#wakeWindowTimer = undefined;
    if (this.#closing) return;
    let oldest = Infinity;
    for (const record of this.#cameras.values()) {
      oldest = Math.min(oldest, this.#oldestCounted(record));
    }
    if (oldest === Infinity) return;
    const window = this.#options.wakeWindowMs ?? DEFAULT_WAKE_WINDOW_MS;
    const delay = Math.max(0, oldest + window - this.#clock.now());
    this.#wakeWindowTimer = this.#clock.setTimeout(() => {
      this.#wakeWindowTimer = undefined;
      for (const record of this.#cameras.values()) {
        if (this.#dropExpired(record)) this.#publishState(record, "wakes");
      }
      this.#scheduleWakeWindow();
    }, delay);
  }
}
