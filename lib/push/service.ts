/**
 * The push side of `serve`: the push listener (a push from a fresh registered camera's IP is
 * motion) and the motion hold per camera. It publishes each push as `motion_seen` and each
 * hold's start and end as `motion`; what follows (the registry's record, the events log, MQTT,
 * wake-on-motion) subscribes to those.
 */

import { getLogger } from "@logtape/logtape";
import { type Clock, systemClock } from "../clock.ts";
import type { EventSink } from "../event_bus.ts";
import type { RegistryView } from "../wake/registry.ts";
import type { MotionSeenEvent } from "../wake/types.ts";
import { ListenError } from "../net/listen_error.ts";
import { type CounterRegistry, type PushListener, startPushListener } from "./listener.ts";
import type { PushListenerConfig } from "./config.ts";
import { type MotionChangeEvent, MotionTracker } from "./motion.ts";

const log = getLogger(["bairelay", "push"]);

/**
 * The `[push_listener]` settings the motion service uses (`explicit`: a bind failure is fatal;
 * otherwise a port this user may not bind turns the listener off with a warning).
 */
export type MotionServiceOptions = Pick<
  PushListenerConfig,
  "bind" | "port" | "sniTimeoutMs" | "maxConnections" | "motionHoldSecs" | "explicit"
>;

/** What the motion service is wired to. */
export interface MotionServiceDeps {
  bus: EventSink<MotionSeenEvent | MotionChangeEvent>;
  /** Who heartbeats from a push's IP, and the camera's configured name. */
  registry: Pick<RegistryView, "lookupByIp" | "nameFor">;
  metrics?: CounterRegistry;
  /** Clock and timers of the motion hold (tests may drive them). */
  timers?: Clock;
}

/** The running push listener and motion hold. */
export interface MotionService {
  /** null when `disabled` says why. */
  readonly push: PushListener | null;
  /**
   * Why the push listener is not running: the default port needed a privilege this process
   * lacks (e.g. "no permission for port 443"); null when it runs.
   */
  readonly disabled: string | null;
  /** True while the camera's motion hold is on (for `bairelay_camera_motion`). */
  isMoving(uid: string): boolean;
  /** Stops the listener and forgets the holds (no `off` is published for them). */
  close(): Promise<void>;
}

/**
 * Starts the push listener and the motion hold. Throws ListenError when the push port
 * cannot be bound (unless it is the default port without the privilege: then `disabled`).
 */
export function startMotionService(
  options: MotionServiceOptions,
  deps: MotionServiceDeps,
): MotionService {
  const { bus, registry } = deps;
  const timers = deps.timers ?? systemClock;
  const tracker = new MotionTracker(
    options.motionHoldSecs * 1000,
    (change) => {
      log.info(
        change.motion ? "Motion started: {camera} ({uid})" : "Motion ended: {camera} ({uid})",
        { camera: registry.nameFor(change.uid) ?? change.uid, uid: change.uid },
      );
      bus.emit({ type: "motion", ...change });
    },
    timers,
  );

  let push: PushListener | null = null;
  let disabled: string | null = null;
  try {
    push = startPushListener(
      {
        bind: options.bind,
        port: options.port,
        sniTimeoutMs: options.sniTimeoutMs,
        maxConnections: options.maxConnections,
      },
      {
        lookup: (ip) => {
          const entry = registry.lookupByIp(ip);
          if (entry === undefined) return undefined;
          const name = registry.nameFor(entry.uid);
          return name === undefined ? { uid: entry.uid } : { uid: entry.uid, name };
        },
        onMotion: (motion) => {
          bus.emit({ type: "motion_seen", uid: motion.uid, at: motion.at });
          tracker.push(motion.uid);
        },
        metrics: deps.metrics,
        now: timers.now,
      },
    );
  } catch (error) {
    if (!(isPrivilegeFailure(error) && !options.explicit)) {
      tracker.close();
      throw error;
    }
    disabled = `no permission for port ${options.port}`;
    log.warn(
      "Motion events are off: the push listener needs TCP port {port}, which this user may " +
        "not bind. {remedy}. Then restart; wake and registration work without it.",
      { port: options.port, remedy: error.remedy },
    );
  }

  let closing: Promise<void> | null = null;
  return {
    push,
    disabled,
    isMoving: (uid) => tracker.isMoving(uid),
    close: () =>
      closing ??= (async () => {
        await push?.close();
        tracker.close();
      })(),
  };
}

/** A bind refused for lack of privilege (a port below 1024 without CAP_NET_BIND_SERVICE). */
function isPrivilegeFailure(error: unknown): error is ListenError {
  return error instanceof ListenError && error.listener === "push" && error.code === "EACCES";
}
