/**
 * `serve` as a library: starts the wake server and the control API a `Config` describes, and
 * stops them together. This is where further components (push listener, MQTT bridge) join.
 */

import { getLogger } from "@logtape/logtape";
import { type Config, dnsServerOptions, wakeServerOptions } from "./config.ts";
import { type HttpApi, type Route, startHttpApi } from "./api/http.ts";
import { countCameras, healthRoute, wakeRoutes } from "./api/routes.ts";
import { type ListenerStatus, type MqttStatus, statusRoute } from "./api/status.ts";
import { pageRoutes } from "./api/page.ts";
import { formatListen } from "./net/listen_address.ts";
import { advertisedAddresses, type LocalAddressSources } from "./net/local_address.ts";
import { startWakeServer, type WakeServer, type WakeServerDeps } from "./wake/server.ts";
import { type MotionServices, startMotionServices } from "./push/service.ts";
import { statusUrl } from "./mqtt/discovery.ts";
import type { DnsServer } from "./dns/server.ts";
import { addServiceMetrics } from "./service_metrics.ts";

const log = getLogger(["bairelay", "serve"]);

export type { ListenerStatus };

/** Clock, randomness and address sources passed down to the components (tests control them). */
export type ServiceDeps = WakeServerDeps & { addressSources?: LocalAddressSources };

/** One address the service listens on, for the startup log and tests. */
export interface Listening {
  /** "middleman", "register", "api", ... */
  name: string;
  protocol: "udp" | "tcp" | "http" | "udp+tcp";
  host: string;
  port: number;
}

/** A running `serve`. */
export interface Service {
  /** null when `[wake_server] enable = false`. */
  readonly wake: WakeServer | null;
  /** null when the API is off. */
  readonly api: HttpApi | null;
  /** Push listener, MQTT bridge and events log; null when the wake server is off. */
  readonly motion: MotionServices | null;
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
  const startedAt = now();
  const closers: (() => Promise<void>)[] = [];
  const listening: Listening[] = [];
  const listeners: ListenerStatus[] = [];
  const closeAll = async () => {
    // Reverse start order: the API stops taking requests before the wake server goes.
    for (const close of closers.reverse()) {
      await close().catch((error) =>
        log.error("error while stopping: {error}", { error: String(error) })
      );
    }
  };
  try {
    const advertised = await advertisedAddresses(config.bind, deps.addressSources);
    let wake: WakeServer | null = null;
    if (!config.wakeServer.enable) {
      for (const name of ["middleman", "register"]) {
        listeners.push(off(name, "udp", "[wake_server] enable = false"));
      }
    }
    if (config.wakeServer.enable) {
      await ensureStateDir(config.stateDir);
      wake = await startWakeServer(wakeServerOptions(config), deps);
      closers.push(() => wake!.close());
      listening.push(
        {
          name: "middleman",
          protocol: "udp",
          host: wake.middleman.ip,
          port: wake.middleman.port,
        },
        {
          name: "register",
          protocol: "udp",
          host: wake.register.ip,
          port: wake.register.port,
        },
      );
    }
    let motion: MotionServices | null = null;
    if (!wake && (config.pushListener.enable || config.mqtt.brokerAddr !== null)) {
      log.warn(
        "Push listener and MQTT bridge not started: they need the wake server's registry " +
          "([wake_server] enable = false)",
      );
    }
    if (wake) {
      motion = await startMotionServices(config, {
        wake,
        statusUrl: statusUrl(config.api.listen, advertised),
      });
      closers.push(() => motion!.close());
      if (motion.push) {
        const { ip, port } = motion.push.address;
        listening.push({ name: "push", protocol: "tcp", host: ip, port });
      }
      const motionServices = motion;
      addServiceMetrics(wake.metrics, {
        registry: wake.registry,
        isMoving: (uid) => motionServices.isMoving(uid),
        mqttConnected: () => motionServices.bridge?.status().connection === "connected",
        now: deps.now,
      });
    }
    listeners.push(...listening.map(up));
    if (!motion?.push) {
      listeners.push(
        motion?.pushDisabled
          ? { ...off("push", "tcp", motion.pushDisabled), state: "disabled" as const }
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
      const { startDnsServer } = await import("./dns/server.ts");
      dns = startDnsServer(dnsServerOptions(config), {
        metrics: wake?.metrics,
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
    const routes: Route[] = [healthRoute(), ...pageRoutes()];
    if (wake) routes.push(...wakeRoutes({ wake, now: deps.now }));
    if (motion) routes.push(...motion.routes);
    routes.push(statusRoute(() => ({
      startedAt,
      now: now(),
      listeners,
      receiveBuffers: wake?.receiveBuffers ?? [],
      mqtt: mqttStatus(motion),
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
      wake,
      api,
      motion,
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

/** A bound listener's status. */
function up(listening: Listening): ListenerStatus {
  return {
    name: listening.name,
    protocol: listening.protocol,
    state: "up",
    address: formatListen({ host: listening.host, port: listening.port }),
    reason: null,
  };
}

/** A listener the configuration turned off, and why. */
function off(name: string, protocol: ListenerStatus["protocol"], reason: string): ListenerStatus {
  return { name, protocol, state: "off", address: null, reason };
}

/** The MQTT bridge's connection, or "off" when no broker is configured. */
function mqttStatus(motion: MotionServices | null): MqttStatus {
  const status = motion?.bridge?.status();
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

/** One line per listener, e.g. "register udp 0.0.0.0:58200", for the startup log. */
export function describeListening(listening: readonly Listening[]): string[] {
  return listening.map((l) =>
    `${l.name} ${l.protocol === "http" ? "http://" : `${l.protocol} `}${
      formatListen({ host: l.host, port: l.port })
    }`
  );
}
