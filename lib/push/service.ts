/**
 * The motion side of `serve`, wired onto a running wake server: the push listener (a push
 * from a fresh registered camera's IP is motion), the motion hold per camera, wake-on-motion,
 * the recent-events log behind `GET /api/events`, and the MQTT bridge fed by the wake server's
 * events (registered, heartbeat, deregistered) and by motion.
 */

import { getLogger } from "@logtape/logtape";
import type { Route } from "../api/http.ts";
import type { Config } from "../config.ts";
import { formatListen } from "../net/listen_address.ts";
import { ListenError } from "../net/listen_error.ts";
import type { CameraRef, MqttBridge } from "../mqtt/bridge.ts";
import type { WakeServer } from "../wake/server.ts";
import { eventsRoute, RecentEvents } from "./events.ts";
import { EventStreams } from "./event_stream.ts";
import { type PushListener, startPushListener } from "./listener.ts";
import { type Clock, systemClock } from "../clock.ts";
import { MotionTracker } from "./motion.ts";

const log = getLogger(["bairelay", "push"]);

/** What the motion services need besides the config. */
export interface MotionServicesDeps {
  wake: WakeServer;
  /** Clock and timers of the motion hold (tests may drive them). */
  timers?: Clock;
  /** Where the status page can be reached (`statusUrl` of lib/mqtt/discovery.ts), or null. */
  statusUrl?: string | null;
}

/** The running motion services. */
export interface MotionServices {
  /** null when `[push_listener] enable = false` (or --no-push), or when `pushDisabled` says why. */
  readonly push: PushListener | null;
  /**
   * Why the push listener is not running although enabled: the default port needed a
   * privilege this process lacks (e.g. "no permission for port 443"); null otherwise.
   */
  readonly pushDisabled: string | null;
  /** null when `[mqtt] broker_addr` is not set. */
  readonly bridge: MqttBridge | null;
  readonly events: RecentEvents;
  /** `GET /api/events` and its live form `GET /api/events/stream`. */
  readonly routes: Route[];
  /** True while the camera's motion hold is on (for `bairelay_camera_motion`). */
  isMoving(uid: string): boolean;
  /** Stops the listener and the bridge (motion still on is published off first). */
  close(): Promise<void>;
}

/**
 * Starts the push listener and the MQTT bridge a config describes, on top of `wake`.
 * Throws ListenError when the push port cannot be bound and MqttConfigError when a TLS
 * file of `[mqtt]` cannot be read (a broker that is down is not an error).
 */
export async function startMotionServices(
  config: Config,
  deps: MotionServicesDeps,
): Promise<MotionServices> {
  const { wake } = deps;
  const timers = deps.timers ?? systemClock;
  const events = new RecentEvents();
  const streams = new EventStreams(events, { maxClients: config.api.limits.maxEventStreams });
  const cameraRef = (uid: string): CameraRef => {
    const name = wake.registry.nameFor(uid);
    return name === undefined ? { uid } : { uid, name };
  };

  // The MQTT client is loaded only when a broker is configured: it is most of the
  // program's start-up memory, which other setups and subcommands should not pay.
  const bridge = config.mqtt.brokerAddr === null
    ? null
    : (await import("../mqtt/bridge.ts")).MqttBridge.start(
      {
        brokerAddr: config.mqtt.brokerAddr,
        port: config.mqtt.port,
        credentials: config.mqtt.credentials,
        ca: config.mqtt.ca,
        clientAuth: config.mqtt.clientAuth,
        topicPrefix: config.mqtt.topicPrefix,
        discoveryTopic: config.mqtt.discoveryTopic,
        statusUrl: deps.statusUrl ?? null,
      },
      { wake: (target) => wake.wake(target, "mqtt"), clock: timers },
    );
  if (bridge) {
    for (const camera of config.cameras) bridge.declare(camera);
    for (const entry of wake.registry.list()) {
      const fresh = wake.registry.isFresh(entry);
      if (!fresh && wake.registry.nameFor(entry.uid) === undefined) continue;
      const { lastMotion, lastWake } = entry;
      bridge.setHistory(cameraRef(entry.uid), { lastMotion, lastWake });
      if (fresh) bridge.setHeartbeat(cameraRef(entry.uid), entry.lastHeartbeat);
    }
  }

  const unsubscribe = wake.onEvent((event) => {
    switch (event.type) {
      case "registered": {
        const camera = cameraRef(event.uid);
        events.add({
          type: "registered",
          uid: event.uid,
          name: camera.name ?? null,
          address: formatListen({ host: event.address.ip, port: event.address.port }),
          at: event.at,
        });
        bridge?.setHeartbeat(camera, event.at);
        break;
      }
      case "heartbeat":
        bridge?.setHeartbeat(cameraRef(event.uid), event.at);
        break;
      case "deregistered":
        events.add({
          type: "stale",
          uid: event.uid,
          name: wake.registry.nameFor(event.uid) ?? null,
          at: event.at,
        });
        bridge?.setRegistered(cameraRef(event.uid), false);
        break;
      case "wake":
        if (event.result === "started") bridge?.recordWake(cameraRef(event.uid), event.at);
        events.add({
          type: "wake",
          uid: event.uid,
          name: wake.registry.nameFor(event.uid) ?? null,
          sid: event.sid,
          source: event.source,
          result: event.result,
          at: event.at,
        });
        break;
    }
  });

  const tracker = new MotionTracker(
    config.pushListener.motionHoldSecs * 1000,
    (change) => {
      const camera = cameraRef(change.uid);
      events.add({
        type: "motion",
        uid: change.uid,
        name: camera.name ?? null,
        motion: change.motion,
        at: change.at,
      });
      log.info(
        change.motion ? "Motion started: {camera} ({uid})" : "Motion ended: {camera} ({uid})",
        {
          camera: camera.name ?? camera.uid,
          uid: change.uid,
        },
      );
      bridge?.setMotion(camera, change.motion, change.at);
    },
    timers,
  );

  let push: PushListener | null = null;
  let pushDisabled: string | null = null;
  if (config.pushListener.enable) {
    try {
      push = startPushListener(
        {
          bind: config.pushListener.bind,
          port: config.pushListener.port,
          sniTimeoutMs: config.pushListener.sniTimeoutMs,
          maxConnections: config.pushListener.maxConnections,
        },
        {
          lookup: (ip) => {
            const entry = wake.registry.lookupByIp(ip);
            return entry && cameraRef(entry.uid);
          },
          onMotion: (motion) => {
            wake.registry.recordMotion(motion.uid, motion.at);
            // One wake per motion: pushes that only extend it find the camera awake already.
            const effect = tracker.push(motion.uid);
            if (effect === "started" && config.pushListener.wakeOnMotion) {
              wake.wake(motion.uid, "motion");
            }
          },
          metrics: wake.metrics,
          now: timers.now,
        },
      );
    } catch (error) {
      if (isPrivilegeFailure(error) && !config.pushListener.explicit) {
        pushDisabled = `no permission for port ${config.pushListener.port}`;
        log.warn(
          "Motion events are off: the push listener needs TCP port {port}, which this user may " +
            "not bind. {remedy}. Then restart; wake and registration work without it.",
          { port: config.pushListener.port, remedy: error.remedy },
        );
      } else {
        unsubscribe();
        tracker.close();
        void bridge?.close();
        throw error;
      }
    }
  }

  let closing: Promise<void> | null = null;
  return {
    push,
    pushDisabled,
    bridge,
    events,
    routes: [eventsRoute(events), streams.route()],
    isMoving: (uid) => tracker.isMoving(uid),
    close: () =>
      closing ??= (async () => {
        await push?.close();
        unsubscribe();
        streams.close();
        // Nobody will send the `off` after we are gone: send it now rather than leave it on.
        for (const uid of tracker.moving()) bridge?.setMotion(cameraRef(uid), false);
        tracker.close();
        await bridge?.close();
      })(),
  };
}

/** A bind refused for lack of privilege (a port below 1024 without CAP_NET_BIND_SERVICE). */
function isPrivilegeFailure(error: unknown): error is ListenError {
  return error instanceof ListenError && error.listener === "push" && error.code === "EACCES";
}
