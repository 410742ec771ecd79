/**
 * The end-of-timeline summary: packets per variant, cameras seen (long UID, addresses,
 * observed heartbeat interval), wakes (C2R_C -> first R2D_C -> D2R_C_R with their delays),
 * push attempts, decode errors and capture problems by reason.
 */

import type { CaptureIssue } from "./capture.ts";
import type { TimelineEntry } from "./timeline.ts";

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

/**
 * A camera while the capture is read: the heartbeat interval is kept as plain numbers updated
 * in place (a new object per heartbeat would be young garbage that survives, growing V8's
 * young generation) and becomes `heartbeatInterval` in `result()`.
 */
interface CameraState extends Omit<CameraSummary, "heartbeatInterval"> {
  lastHeartbeat?: number;
  intervalSum: number;
  intervalMin: number;
  intervalMax: number;
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

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function cameraSummary(camera: CameraState): CameraSummary {
  const { uid, addresses, firstSeen, lastSeen, heartbeats } = camera;
  const summary: CameraSummary = { uid, addresses, firstSeen, lastSeen, heartbeats };
  if (heartbeats >= 2) {
    summary.heartbeatInterval = {
      mean: camera.intervalSum / (heartbeats - 1),
      min: camera.intervalMin,
      max: camera.intervalMax,
    };
  }
  return summary;
}

/** Collects the summary as entries go by (bounded by the MAX_SUMMARY_* limits). */
export class SummaryBuilder {
  #frames = 0;
  #packets = 0;
  #variants: Record<string, number> = {};
  #cameras = new Map<string, CameraState>();
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
    let camera = this.#cameras.get(uid);
    if (camera === undefined) {
      if (this.#cameras.size >= MAX_SUMMARY_CAMERAS) {
        if (this.#camerasNotDetailed.size < MAX_SUMMARY_CAMERAS) {
          this.#camerasNotDetailed.add(ownCopy(uid));
        }
        return;
      }
      camera = {
        uid: ownCopy(uid),
        addresses: [],
        firstSeen: time,
        lastSeen: time,
        heartbeats: 0,
        intervalSum: 0,
        intervalMin: Infinity,
        intervalMax: -Infinity,
      };
      this.#cameras.set(uid, camera);
    }
    camera.lastSeen = time;
    if (!camera.addresses.includes(address) && camera.addresses.length < MAX_ADDRESSES_PER_CAMERA) {
      camera.addresses.push(address);
    }
    if (!heartbeat) return;
    camera.heartbeats++;
    if (camera.lastHeartbeat !== undefined) {
      const interval = time - camera.lastHeartbeat;
      camera.intervalSum += interval;
      camera.intervalMin = Math.min(camera.intervalMin, interval);
      camera.intervalMax = Math.max(camera.intervalMax, interval);
    }
    camera.lastHeartbeat = time;
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
      cameras: [...this.#cameras.values()].map(cameraSummary),
      camerasNotDetailed: this.#camerasNotDetailed.size,
      wakes: this.#wakes.map(({ firstR2dCTime: _t, ...wake }) => wake),
      wakesNotDetailed: this.#wakesNotDetailed,
      pushAttempts: { total: this.#push.total, bySource: { ...this.#push.bySource } },
      decodeErrors: { ...this.#decodeErrors },
      captureErrors: { ...this.#captureErrors },
    };
  }
}
