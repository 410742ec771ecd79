/**
 * `serve` as a library, and its composition root: makes the clock, the process's metrics and
 * the event bus once, starts each subsystem (wake server, events log, MQTT feed, push
 * listener, DNS responder, control API) from its options plus the bus, keeps the listener
 * table, and stops them together.
 */

import { getLogger } from "@logtape/logtape";
import { type Config, dnsServerOptions, wakeServerOptions } from "../config.ts";
import { type HttpApi, type Route, startHttpApi } from "../api/http.ts";
import type { RecentEvents } from "../api/events.ts";
import { countCameras, healthRoute, wakeRoutes } from "../api/routes.ts";
import { type MqttStatus, statusRoute } from "../api/status.ts";
import { pageRoutes } from "../api/page.ts";
import { type Clock, systemClock } from "../clock.ts";
import { advertisedAddresses, type LocalAddressSources } from "../net/local_address.ts";
import { Metrics } from "../metrics.ts";
import { statusUrl } from "../mqtt/discovery.ts";
import type { MqttBridge } from "../mqtt/bridge.ts";
import { type MotionService, startMotionService } from "../push/service.ts";
import { startWakeServer, type WakeServer, type WakeServerDeps } from "../wake/server.ts";
import type { DnsServer } from "../dns/server.ts";
import { createServeBus, type ServeBus } from "./bus.ts";
import { type ListenerStatus, type Listening, off, up } from "./listeners.ts";
import { addServiceMetrics } from "./metrics.ts";
import { startEventLog } from "./event_log.ts";
import { type MqttFeed, startMqttFeed } from "./mqtt_feed.ts";
import { type HistoryFeed, startHistoryFeed } from "./history_feed.ts";
import { historyFieldsOf, historyRoute } from "../api/history_route.ts";
import type { HistoryStore } from "../history/store.ts";

const log = getLogger(["bairelay", "serve"]);

export { describeListening, type ListenerStatus, type Listening } from "./listeners.ts";

/** Clock, randomness and address sources passed down to the components (tests control them). */
export type ServiceDeps = WakeServerDeps & {
  addressSources?: LocalAddressSources;
  /** Timers of the motion hold and the MQTT wake count (default: the real ones). */
  timers?: Clock;
};

/** A running `serve`. */
export interface Service {
  /** The process's metrics, which every subsystem counts into and `/metrics` renders. */
  readonly metrics: Metrics;
  /** The bus the subsystems publish their events on. */
  readonly bus: ServeBus;
  /** null when `[wake_server] enable = false`. */
  readonly wake: WakeServer | null;
  /** null when the API is off. */
  readonly api: HttpApi | null;
  /** The push listener and motion hold; null when off or when the wake server is off. */
  readonly motion: MotionService | null;
  /** The MQTT bridge; null without `[mqtt] broker_addr` or when the wake server is off. */
  readonly bridge: MqttBridge | null;
  /** Each camera's history (`GET /api/cameras/{camera}/history`); null when the wake server is off. */
  readonly history: HistoryStore | null;
  /** The recent-events log behind `GET /api/events`; null when the wake server is off. */
  readonly events: RecentEvents | null;
  /** The DNS responder; null unless `[dns] enable` (or --dns). */
  readonly dns: DnsServer | null;
  /** Every address actually bound. */
  readonly listening: Listening[];
  /** Every listener, bound or not, with the reason when not (as `/api/status` shows them). */
  readonly listeners: ListenerStatus[];
  /** The addresses cameras should be sent to (DNS answers for the Reolink host names). */
  readonly advertisedAddresses: readonly string[];
  /** Stops everything (bursts cancelled, state flushed); resolves within about a second. */
  close(): Promise<void>;
}

/**
 * Starts the service. Rejects (after closing whatever had started) when a listener cannot be
 * bound; the error names the address, the cause and the remedy.
 */
export async function startService(config: Config, deps: ServiceDeps = {}): Promise<Service> {
  const now = deps.now ?? Date.now;
  const timers = deps.timers ?? systemClock;
  const metrics = new Metrics();
  const bus = createServeBus();
  const startedAt = now();
  const closers: (() => Promise<void> | void)[] = [];
  const listening: Listening[] = [];
  const listeners: ListenerStatus[] = [];
  const closeAll = async () => {
    // Reverse start order: the API stops taking requests before the wake server goes.
    for (const close of closers.reverse()) {
      try {
        await close();
      } catch (error) {
        log.error("error while stopping: {error}", { error: String(error) });
      }
    }
  };
  try {
    const advertised = await advertisedAddresses(config.bind, deps.addressSources);
    let wake: WakeServer | null = null;
    if (!config.wakeServer.enable) {
      for (const name of ["middleman", "register"]) {
        listeners.push(off(name, "udp", "[wake_server] enable = false"));
      }
      if (config.pushListener.enable || config.mqtt.brokerAddr !== null) {
        log.warn(
          "Push listener and MQTT bridge not started: they need the wake server's registry " +
            "([wake_server] enable = false)",
        );
      }
    } else {
      await ensureStateDir(config.stateDir);
      wake = await startWakeServer(wakeServerOptions(config), { ...deps, metrics, bus });
      closers.push(() => wake!.close());
      for (const name of ["middleman", "register"] as const) {
        const { ip: host, port } = wake[name];
        listening.push({ name, protocol: "udp", host, port });
      }
    }

    let events: RecentEvents | null = null;
    let history: HistoryFeed | null = null;
    let feed: MqttFeed | null = null;
    let motion: MotionService | null = null;
    const routes: Route[] = [healthRoute(), ...pageRoutes()];
    if (wake) {
      const registry = wake.registry;
      const eventLog = startEventLog(bus, registry, config.api.limits.maxEventStreams);
      closers.push(() => eventLog.close());
      events = eventLog.events;
      const historyFeed = await startHistoryFeed({
        bus,
        registry,
        history: config.history,
        clients: config.clients,
        stateDir: config.stateDir,
        metrics,
        clock: { ...timers, now },
      });
      history = historyFeed;
      closers.push(() => historyFeed.close());
      routes.push(
        ...wakeRoutes({
          wake,
          metrics,
          now: deps.now,
          history: (at) => historyFieldsOf(historyFeed.store, at),
        }),
        historyRoute({ store: historyFeed.store, registry, now }),
        ...eventLog.routes,
      );

      if (config.mqtt.brokerAddr !== null) {
        const running = wake;
        feed = await startMqttFeed(
          {
            brokerAddr: config.mqtt.brokerAddr,
            port: config.mqtt.port,
            credentials: config.mqtt.credentials,
            ca: config.mqtt.ca,
            clientAuth: config.mqtt.clientAuth,
            topicPrefix: config.mqtt.topicPrefix,
            discoveryTopic: config.mqtt.discoveryTopic,
            statusUrl: statusUrl(config.api.listen, advertised),
          },
          {
            bus,
            registry,
            cameras: config.cameras,
            wake: (target) => running.wake(target, { kind: "mqtt" }),
            daySummary: (uid, at) => historyFeed.store.summary(uid, at),
            clock: timers,
          },
        );
        closers.push(() => feed!.close());
      }

      if (config.pushListener.enable) {
        motion = startMotionService(config.pushListener, { bus, registry, metrics, timers });
        closers.push(() => motion!.close());
        if (motion.push) {
          const { ip: host, port } = motion.push.address;
          listening.push({ name: "push", protocol: "tcp", host, port });
        }
        if (config.pushListener.wakeOnMotion) {
          // One wake per motion: pushes that only extend it find the camera awake already.
          const running = wake;
          closers.push(bus.on("motion", (event) => {
            if (event.motion) running.wake(event.uid, { kind: "motion" });
          }));
        }
      }
      const moving = motion;
      const bridge = feed?.bridge;
      addServiceMetrics(metrics, {
        registry,
        isMoving: (uid) => moving?.isMoving(uid) ?? false,
        mqttConnected: () => bridge?.status().connection === "connected",
        now: deps.now,
      });
    }
    listeners.push(...listening.map(up));
    if (!motion?.push) {
      listeners.push(
        motion?.disabled
          ? { ...off("push", "tcp", motion.disabled), state: "disabled" as const }
          : off(
            "push",
            "tcp",
            !wake
              ? "needs the wake server ([wake_server] enable = false)"
              : "[push_listener] enable = false or --no-push",
          ),
      );
    }
    let dns: DnsServer | null = null;
    if (config.dns.enable) {
      // Loaded only when configured: the responder and its DNS codec stay out of memory otherwise.
      const { startDnsServer } = await import("../dns/server.ts");
      dns = startDnsServer(dnsServerOptions(config), {
        metrics,
        routeSource: deps.routeSource,
        lanAddresses: advertised,
      });
      closers.push(() => dns!.close());
      const { ip: host, port } = dns.address;
      const bound = { name: "dns", protocol: "udp+tcp" as const, host, port };
      listening.push(bound);
      listeners.push(up(bound));
    } else {
      listeners.push(off("dns", "udp+tcp", "[dns] enable = false (turn it on with --dns)"));
    }
    routes.push(statusRoute(() => ({
      startedAt,
      now: now(),
      listeners,
      receiveBuffers: wake?.receiveBuffers ?? [],
      mqtt: mqttStatus(feed?.bridge ?? null),
      stateDir: config.stateDir,
      cameras: wake ? countCameras(wake.registry, now()) : { fresh: 0, stale: 0, never_seen: 0 },
      lastPacketAt: wake?.lastPacketAt() ?? null,
      advertisedAddresses: advertised,
    })));
    let api: HttpApi | null = null;
    if (config.api.listen) {
      api = await startHttpApi({
        listen: config.api.listen,
        token: config.api.token,
        routes,
        limits: config.api.limits,
      });
      closers.push(() => api!.close());
      const bound = { name: "api", protocol: "http" as const, ...api.address };
      listening.push(bound);
      listeners.push(up(bound));
    } else {
      listeners.push(off("api", "http", '[api] listen = "off"'));
    }
    let closing: Promise<void> | null = null;
    return {
      metrics,
      bus,
      wake,
      api,
      motion,
      bridge: feed?.bridge ?? null,
      history: history?.store ?? null,
      events,
      dns,
      listening,
      listeners,
      advertisedAddresses: advertised,
      close: () => closing ??= closeAll(),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** The MQTT bridge's connection, or "off" when no broker is configured. */
function mqttStatus(bridge: MqttBridge | null): MqttStatus {
  const status = bridge?.status();
  if (!status) return { state: "off", broker: null, error: null };
  return { state: status.connection, broker: status.broker, error: status.lastError ?? null };
}

/** The state directory cannot be created or written: where, why, and what to do. */
export class StateDirError extends Error {
  constructor(readonly path: string, cause: string) {
    super(
      `cannot use the state directory ${path}: ${cause}; choose another with --state-dir or ` +
        "state_dir (the registry is saved there so a restart can wake cameras at once)",
    );
    this.name = "StateDirError";
  }
}

/** Creates the state directory and checks it is writable, before anything listens. */
async function ensureStateDir(path: string): Promise<void> {
  const probe = `${path}/.bairelay-write-test-${Deno.pid}`;
  try {
    await Deno.mkdir(path, { recursive: true });
    await Deno.writeTextFile(probe, "");
    await Deno.remove(probe);
  } catch (error) {
    const cause = error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new StateDirError(path, cause);
  }
}
