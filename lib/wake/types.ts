/** Options, outcomes and events of the wake server (re-exported by `server.ts`). */

import { defaultsOf } from "../config/spec.ts";
import type { Requester } from "../history/requesters.ts";
import { type CameraConfig, ROOT_SPEC, WAKE_SERVER_SPEC, type WakeServerConfig } from "./config.ts";

/**
 * Everything that configures a wake server: `[wake_server]` (see WAKE_SERVER_SPEC; its ports
 * may be 0 = ephemeral, for tests) but `enable`, with the address both listeners bind to
 * (tests use "127.0.0.1"), the configured cameras (for names and `wake <name>`) and where the
 * registry is persisted (undefined = no persistence).
 */
export type WakeServerOptions = Omit<WakeServerConfig, "enable"> & {
  bind: string;
  cameras: CameraConfig[];
  stateDir?: string;
};

const { enable: _, ...WAKE_SERVER_DEFAULTS } = defaultsOf(WAKE_SERVER_SPEC);

/** The defaults of every option but `stateDir`: the config file's. */
export const DEFAULT_WAKE_SERVER_OPTIONS: Omit<WakeServerOptions, "stateDir"> = {
  ...WAKE_SERVER_DEFAULTS,
  bind: ROOT_SPEC.bind.default,
  cameras: [],
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
  | { result: "not_registered"; target: string; uid: string }
  | { result: "unknown"; target: string }
  | { result: "over_budget"; uid: string; wakesInLastHour: number; limit: number };

export type { Requester } from "../history/requesters.ts";

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
    /** The requester's kind ("client", "api", "mqtt", "motion", "cli"), as the events log shows it. */
    source: string;
    /** Who asked: its kind and, for clients and API callers, its address. */
    requester: Requester;
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
