/** Options, outcomes and events of the wake server (re-exported by `server.ts`). */

import { DEFAULT_RECEIVE_BUFFER_BYTES } from "./receive_buffer.ts";

/** Everything that configures a wake server; see DEFAULT_WAKE_SERVER_OPTIONS. */
export interface WakeServerOptions {
  /** Address both listeners bind to, e.g. "0.0.0.0" (tests use "127.0.0.1"). */
  bind: string;
  /** Middleman UDP port (9999); 0 = ephemeral. */
  middlemanPort: number;
  /** Register UDP port (58200); 0 = ephemeral. */
  registerPort: number;
  /** Advisory `<timer><hb>` in R2D_HB_R, ms. */
  heartbeatMs: number;
  /** Registry entries older than this read as absent and are evicted, ms. */
  staleAfterMs: number;
  /** Most cameras held; new UIDs are refused when full. */
  maxCameras: number;
  /** Most session anchors held; new UIDs are refused when full. */
  maxAnchors: number;
  /** How long a D2M_Q anchor waits for its D2R_R, ms. */
  anchorTtlMs: number;
  /** R2D_C packets per wake. */
  burstCount: number;
  /** Spacing of R2D_C packets in a burst, ms. */
  burstIntervalMs: number;
  /** Wake bursts per camera per sliding hour; 0 = unlimited. */
  maxWakesPerHour: number;
  /** Configured cameras (name + short or long UID), for names and `wake <name>`. */
  cameras: { name: string; uid: string }[];
  /** Kernel receive buffer asked for each listener, bytes; 0 = the kernel's default. */
  receiveBufferBytes: number;
  /** Where the registry is persisted; undefined = no persistence. */
  stateDir?: string;
}

/** The defaults of every option but `stateDir`. */
export const DEFAULT_WAKE_SERVER_OPTIONS: Omit<WakeServerOptions, "stateDir"> = {
  bind: "0.0.0.0",
  middlemanPort: 9999,
  registerPort: 58200,
  heartbeatMs: 20_000,
  staleAfterMs: 80_000,
  maxCameras: 1024,
  maxAnchors: 1024,
  anchorTtlMs: 300_000,
  burstCount: 10,
  burstIntervalMs: 100,
  maxWakesPerHour: 60,
  cameras: [],
  receiveBufferBytes: DEFAULT_RECEIVE_BUFFER_BYTES,
};

/** Injected clock and randomness (tests control them; defaults are real). */
export interface WakeServerDeps {
  /** ms since the epoch (default Date.now). */
  now?: () => number;
  /** A random u32, for sid, ac, cid and tids. */
  randomU32?: () => number;
  /** A random u64, for session tokens. */
  randomU64?: () => bigint;
  /**
   * The local source address for reaching a peer, when bound to a wildcard (default:
   * asks the kernel with `ip route get`).
   */
  routeSource?: (peerIp: string) => Promise<string | undefined>;
}

/** The two UDP listeners. */
export type ListenerName = "middleman" | "register";

/** What a wake request did. */
export type WakeOutcome =
  | { result: "started"; uid: string; sid: number }
  | { result: "in_flight"; uid: string; sid: number }
  | { result: "not_registered"; target: string }
  | { result: "over_budget"; uid: string; wakesInLastHour: number; limit: number };

/** Who asked for a wake. */
export type WakeSource = "api" | "mqtt" | "motion" | "client";

/** Things that happen in the wake server, for the API, MQTT and tests. */
export type WakeServerEvent =
  | { type: "registered"; uid: string; address: { ip: string; port: number }; at: number }
  | { type: "heartbeat"; uid: string; address: { ip: string; port: number }; at: number }
  | { type: "deregistered"; uid: string; reason: "stale"; at: number }
  | {
    type: "wake";
    /** The camera's long UID, or the target as asked when it is not registered. */
    uid: string;
    /** The burst's session id (0 when no burst was started or joined). */
    sid: number;
    source: string;
    result: WakeOutcome["result"];
    at: number;
  }
  | { type: "wake_confirmed"; uid: string; sid: number; at: number };

/**
 * A motion push from a fresh registered camera, published by the push listener's side: the wake
 * server remembers it as the camera's last motion and persists it with the registry.
 */
export interface MotionSeenEvent {
  type: "motion_seen";
  uid: string;
  at: number;
}
