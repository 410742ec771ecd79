/**
 * The end-of-timeline summary: packets per variant, cameras seen (long UID, addresses,
 * observed heartbeat interval), wakes (C2R_C -> first R2D_C -> D2R_C_R with their delays),
 * push attempts, decode errors and capture problems by reason.
 */

import type { CaptureIssue } from "./capture.ts";
import type { TimelineEntry } from "./timeline_entry.ts";

/** Cameras tracked by the summary (later ones are counted, not detailed). */
export const MAX_SUMMARY_CAMERAS = 10000;
/** Wakes tracked by the summary (later ones are counted, not detailed). */
export const MAX_SUMMARY_WAKES = 10000;
/** Addresses listed per camera. */
export const MAX_ADDRESSES_PER_CAMERA = 16;

/** A camera seen in the capture. */
export interface CameraSummary {
  uid: string;
  addresses: string[];
  firstSeen: number;
  lastSeen: number;
  heartbeats: number;
  /** Observed heartbeat interval in seconds (mean, min, max), when two or more were seen. */
  heartbeatInterval?: { mean: number; min: number; max: number };
}

/** One wake: the client's C2R_C, the server's R2D_C burst and the camera's D2R_C_R. */
export interface WakeSummary {
  /** Short UID from the C2R_C (absent when the wake started without one, e.g. from MQTT). */
  uid?: string;
  client?: string;
  camera?: string;
  cid: number;
  sid?: number;
  /** Time of the C2R_C (or of the first R2D_C when there was none). */
  time: number;
  r2dC: number;
  /** Seconds from C2R_C to the first R2D_C. */
  firstR2dCDelay?: number;
  /** Seconds from the first R2D_C to the first D2R_C_R. */
  confirmDelay?: number;
}

/** Everything the summary reports. */
export interface Summary {
  frames: number;
  packets: number;
  variants: Record<string, number>;
  cameras: CameraSummary[];
  /** Cameras beyond MAX_SUMMARY_CAMERAS (counted up to that many again). */
  camerasNotDetailed: number;
  wakes: WakeSummary[];
  wakesNotDetailed: number;
  pushAttempts: { total: number; bySource: Record<string, number> };
  decodeErrors: Record<string, number>;
  captureErrors: Record<string, number>;
}

interface WakeState extends WakeSummary {
  firstR2dCTime?: number;
}

/**
 * A copy of `text` that stands alone. A UID parsed from a document is a slice of the
 * document's text and keeps all of it alive; the summary keeps up to twice
 * MAX_SUMMARY_CAMERAS UIDs, and on a capture of mostly unique documents (a new UID every
 * heartbeat) the documents they would hold add megabytes that every collection walks.
 */
function ownCopy(text: string): string {
  return JSON.parse(JSON.stringify(text));
}

/** A 30-bit FNV-1a hash of a UID's characters (a small integer, no heap number). */
function uidHash(uid: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < uid.length; i++) hash = Math.imul(hash ^ uid.charCodeAt(i), 16777619);
  return hash & 0x3fffffff;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

/** Camera slots allocated at first; the table doubles from there up to MAX_SUMMARY_CAMERAS. */
const FIRST_CAMERA_SLOTS = 256;

/**
 * The cameras seen so far, one slot each: the numbers live in typed arrays and the
 * addresses in one array per camera, rather than an object per camera with its numbers
 * boxed. On a capture of mostly unique documents the summary fills all MAX_SUMMARY_CAMERAS
 * slots; whatever stays alive makes V8 let more promoted garbage pile up before it
 * collects, so a small table is a smaller resident set for the whole run.
 */
class CameraTable {
  /**
   * The first slot of each UID hash. Keyed by a number, not the UID: looking a fresh string
   * up in a Map (every packet's UID is a new slice of its document) costs V8 a string-table
   * probe, several times the whole hash-and-compare below.
   */
  #byHash = new Map<number, number>();
  /** The next slot whose UID has the same hash, -1 for none. */
  #sameHash = new Int32Array(FIRST_CAMERA_SLOTS);
  #uids: string[] = [];
  #addresses: string[][] = [];
  #firstSeen = new Float64Array(FIRST_CAMERA_SLOTS);
  #lastSeen = new Float64Array(FIRST_CAMERA_SLOTS);
  #heartbeats = new Float64Array(FIRST_CAMERA_SLOTS);
  /** Time of the last heartbeat, NaN before the first. */
  #lastHeartbeat = new Float64Array(FIRST_CAMERA_SLOTS);
  #intervalSum = new Float64Array(FIRST_CAMERA_SLOTS);
  #intervalMin = new Float64Array(FIRST_CAMERA_SLOTS);
  #intervalMax = new Float64Array(FIRST_CAMERA_SLOTS);

  get size(): number {
    return this.#uids.length;
  }

  /** The slot of `uid`, or -1. */
  slot(uid: string): number {
    let slot = this.#byHash.get(uidHash(uid)) ?? -1;
    while (slot >= 0 && this.#uids[slot] !== uid) slot = this.#sameHash[slot];
    return slot;
  }

  /** A new slot for `uid` (first seen at `time` from `address`). */
  add(uid: string, address: string, time: number): number {
    const slot = this.#uids.length;
    if (slot === this.#firstSeen.length) this.#grow();
    const hash = uidHash(uid);
    this.#sameHash[slot] = this.#byHash.get(hash) ?? -1;
    this.#byHash.set(hash, slot);
    this.#uids.push(ownCopy(uid));
    this.#addresses.push([address]);
    this.#firstSeen[slot] = time;
    this.#lastSeen[slot] = time;
    this.#heartbeats[slot] = 0;
    this.#lastHeartbeat[slot] = NaN;
    this.#intervalSum[slot] = 0;
    this.#intervalMin[slot] = Infinity;
    this.#intervalMax[slot] = -Infinity;
    return slot;
  }

  /** Records a packet of the camera in `slot`. */
  seen(slot: number, address: string, time: number, heartbeat: boolean): void {
    this.#lastSeen[slot] = time;
    const addresses = this.#addresses[slot];
    if (!addresses.includes(address) && addresses.length < MAX_ADDRESSES_PER_CAMERA) {
      addresses.push(address);
    }
    if (!heartbeat) return;
    this.#heartbeats[slot]++;
    const last = this.#lastHeartbeat[slot];
    if (!Number.isNaN(last)) {
      const interval = time - last;
      this.#intervalSum[slot] += interval;
      this.#intervalMin[slot] = Math.min(this.#intervalMin[slot], interval);
      this.#intervalMax[slot] = Math.max(this.#intervalMax[slot], interval);
    }
    this.#lastHeartbeat[slot] = time;
  }

  /** The cameras in the order they were first seen. */
  summaries(): CameraSummary[] {
    return this.#uids.map((uid, slot) => {
      const heartbeats = this.#heartbeats[slot];
      const summary: CameraSummary = {
        uid,
        addresses: this.#addresses[slot],
        firstSeen: this.#firstSeen[slot],
        lastSeen: this.#lastSeen[slot],
        heartbeats,
      };
      if (heartbeats >= 2) {
        summary.heartbeatInterval = {
          mean: this.#intervalSum[slot] / (heartbeats - 1),
          min: this.#intervalMin[slot],
          max: this.#intervalMax[slot],
        };
      }
      return summary;
    });
  }

  #grow(): void {
    const size = Math.min(MAX_SUMMARY_CAMERAS, this.#firstSeen.length * 2);
    const grown = <T extends Float64Array | Int32Array>(from: T): T => {
      const to = new (from.constructor as new (size: number) => T)(size);
      to.set(from);
      return to;
    };
    this.#sameHash = grown(this.#sameHash);
    this.#firstSeen = grown(this.#firstSeen);
    this.#lastSeen = grown(this.#lastSeen);
    this.#heartbeats = grown(this.#heartbeats);
    this.#lastHeartbeat = grown(this.#lastHeartbeat);
    this.#intervalSum = grown(this.#intervalSum);
    this.#intervalMin = grown(this.#intervalMin);
    this.#intervalMax = grown(this.#intervalMax);
  }
}

/** Collects the summary as entries go by (bounded by the MAX_SUMMARY_* limits). */
export class SummaryBuilder {
  #frames = 0;
  #packets = 0;
  #variants: Record<string, number> = {};
  #cameras = new CameraTable();
  #camerasNotDetailed = new Set<string>();
  #wakesByCid = new Map<number, WakeState>();
  #wakesBySid = new Map<number, WakeState>();
  #wakes: WakeState[] = [];
  #wakesNotDetailed = 0;
  #push = { total: 0, bySource: {} as Record<string, number> };
  #decodeErrors: Record<string, number> = {};
  #captureErrors: Record<string, number> = {};

  frame(): void {
    this.#frames++;
  }

  issue(issue: CaptureIssue): void {
    bump(this.#captureErrors, issue.reason);
  }

  push(sourceIp: string): void {
    this.#push.total++;
    bump(this.#push.bySource, sourceIp);
  }

  decodeError(entry: Extract<TimelineEntry, { kind: "decode_error" }>): void {
    bump(this.#decodeErrors, entry.error.reason);
  }

  /** Counts a decoded packet; `uid` is the UID it was attributed to. */
  packet(entry: Extract<TimelineEntry, { kind: "bcudp" }>, uid: string | undefined): void {
    this.#packets++;
    const { packet } = entry.decoded;
    if (packet.kind !== "discovery") {
      bump(this.#variants, packet.kind.toUpperCase());
      return;
    }
    const message = packet.message;
    bump(this.#variants, message.variant);
    switch (message.variant) {
      case "D2M_Q":
      case "D2R_R":
      case "D2R_HB":
        this.#camera(message.fields.uid, entry.source, entry.time, message.variant === "D2R_HB");
        break;
      case "C2R_C":
        if (this.#wakesByCid.get(message.fields.cid)?.r2dC === 0) break; // a retransmission
        this.#startWake(message.fields.cid, entry.time, message.fields.uid, entry.source);
        break;
      case "R2D_C":
        this.#r2dC(message.fields.cid, message.fields.sid, entry.time, entry.destination, uid);
        break;
      case "D2R_C_R": {
        const wake = this.#wakesBySid.get(message.fields.sid);
        if (wake && wake.confirmDelay === undefined && wake.firstR2dCTime !== undefined) {
          wake.confirmDelay = entry.time - wake.firstR2dCTime;
        }
        break;
      }
    }
  }

  #camera(uid: string, address: string, time: number, heartbeat: boolean): void {
    let slot = this.#cameras.slot(uid);
    if (slot < 0) {
      if (this.#cameras.size >= MAX_SUMMARY_CAMERAS) {
        if (this.#camerasNotDetailed.size < MAX_SUMMARY_CAMERAS) {
          this.#camerasNotDetailed.add(ownCopy(uid));
        }
        return;
      }
      slot = this.#cameras.add(uid, address, time);
    }
    this.#cameras.seen(slot, address, time, heartbeat);
  }

  #startWake(cid: number, time: number, uid?: string, client?: string): WakeState | undefined {
    if (this.#wakes.length >= MAX_SUMMARY_WAKES) {
      this.#wakesNotDetailed++;
      return undefined;
    }
    const wake: WakeState = { uid, client, cid, time, r2dC: 0 };
    this.#wakes.push(wake);
    this.#wakesByCid.set(cid, wake);
    return wake;
  }

  #r2dC(cid: number, sid: number, time: number, camera: string, uid?: string): void {
    let wake = this.#wakesByCid.get(cid);
    if (wake === undefined || (wake.sid !== undefined && wake.sid !== sid)) {
      wake = this.#startWake(cid, time, uid);
      if (wake === undefined) return;
    }
    wake.r2dC++;
    if (wake.firstR2dCTime === undefined) {
      wake.firstR2dCTime = time;
      wake.firstR2dCDelay = time - wake.time;
      wake.sid = sid;
      wake.camera = camera;
      wake.uid ??= uid;
      this.#wakesBySid.set(sid, wake);
    }
  }

  /** The summary so far, as plain data. */
  result(): Summary {
    return {
      frames: this.#frames,
      packets: this.#packets,
      variants: { ...this.#variants },
      cameras: this.#cameras.summaries(),
      camerasNotDetailed: this.#camerasNotDetailed.size,
      wakes: this.#wakes.map(({ firstR2dCTime: _t, ...wake }) => wake),
      wakesNotDetailed: this.#wakesNotDetailed,
      pushAttempts: { total: this.#push.total, bySource: { ...this.#push.bySource } },
      decodeErrors: { ...this.#decodeErrors },
      captureErrors: { ...this.#captureErrors },
    };
  }
}
