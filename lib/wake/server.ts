/**
 * The wake server: the middleman and register UDP listeners (node:dgram) around WakeCore,
 * a once-a-second sweep of stale cameras, and the state file.
 */

import dgram from "node:dgram";
import { getLogger } from "@logtape/logtape";
import { Metrics } from "../metrics.ts";
import { AddressAdvertiser } from "./advertise.ts";
import { WakeCore } from "./core.ts";
import type { Address, CameraRegistry } from "./registry.ts";
import { StateStore, ThrottledWriter } from "./state.ts";
import type {
  ListenerName,
  WakeOutcome,
  WakeServerDeps,
  WakeServerEvent,
  WakeServerOptions,
  WakeSource,
} from "./types.ts";

export * from "./types.ts";

const logger = getLogger(["bairelay", "wake"]);

/** How often stale cameras and expired anchors are swept, in ms. */
export const SWEEP_INTERVAL_MS = 1000;

/** A listener could not bind; the message says which, why and what to do. */
export class WakeServerBindError extends Error {
  constructor(
    readonly listener: ListenerName,
    readonly address: string,
    readonly port: number,
    readonly code: string,
  ) {
    super(bindMessage(listener, address, port, code));
    this.name = "WakeServerBindError";
  }
}

function bindMessage(listener: ListenerName, address: string, port: number, code: string): string {
  const where = `${listener} listener on udp ${address}:${port}`;
  switch (code) {
    case "EADDRINUSE":
      return `cannot bind the ${where}: port ${port} is already in use (stop the other ` +
        `program or choose another ${listener} port)`;
    case "EACCES":
    case "EPERM":
      return `cannot bind the ${where}: permission denied (run with CAP_NET_BIND_SERVICE, ` +
        `e.g. AmbientCapabilities=CAP_NET_BIND_SERVICE, or choose a port above 1023)`;
    case "EADDRNOTAVAIL":
      return `cannot bind the ${where}: ${address} is not an address of this machine ` +
        `(use 0.0.0.0 or one of its addresses)`;
    default:
      return `cannot bind the ${where}: ${code}`;
  }
}

/** A running wake server. */
export interface WakeServer {
  /** The middleman's actual address (port resolved when 0 was asked). */
  readonly middleman: Address;
  /** The register's actual address. */
  readonly register: Address;
  readonly registry: CameraRegistry;
  readonly metrics: Metrics;
  /** Wakes a camera by configured name, short or long UID. */
  wake(target: string, source: WakeSource): WakeOutcome;
  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (event: WakeServerEvent) => void): () => void;
  /** Stops the listeners, cancels bursts, flushes the state; resolves within a second. */
  close(): Promise<void>;
}

function randomU32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

function randomU64(): bigint {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return (BigInt(words[0]) << 32n) | BigInt(words[1]);
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string") return code;
  if (error instanceof Deno.errors.AddrInUse) return "EADDRINUSE";
  if (error instanceof Deno.errors.PermissionDenied) return "EACCES";
  if (error instanceof Deno.errors.AddrNotAvailable) return "EADDRNOTAVAIL";
  return (error as Error)?.message ?? String(error);
}

function bindSocket(listener: ListenerName, address: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type: address.includes(":") ? "udp6" : "udp4" });
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      try {
        socket.close();
      } catch { /* never bound */ }
      reject(new WakeServerBindError(listener, address, port, errorCode(error)));
    };
    socket.once("error", onError);
    try {
      socket.bind(port, address, () => {
        socket.off("error", onError);
        resolve(socket);
      });
    } catch (error) {
      onError(error as Error);
    }
  });
}

/** `::ffff:a.b.c.d` (an IPv4 peer on a dual-stack `::` socket) as plain `a.b.c.d`. */
export function plainIp(ip: string): string {
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

/**
 * Binds both listeners and starts serving. Loads the state file first (when `stateDir`
 * is set) so cameras registered before a restart can be woken at once. Rejects with
 * WakeServerBindError when a listener cannot bind.
 */
export async function startWakeServer(
  options: WakeServerOptions,
  deps: WakeServerDeps = {},
): Promise<WakeServer> {
  const now = deps.now ?? Date.now;
  const metrics = new Metrics();
  const advertiser = new AddressAdvertiser({
    bind: options.bind,
    routeSource: deps.routeSource,
    now,
  });
  const sockets: Partial<Record<ListenerName, dgram.Socket>> = {};
  const sendFailures = metrics.counter(
    "bairelay_dropped_total",
    "Packets dropped, by listener and reason",
  );
  let closed = false;
  const send = (listener: ListenerName, bytes: Uint8Array, to: Address) => {
    if (closed) return;
    try {
      sockets[listener]?.send(bytes, to.port, to.ip, (error) => {
        if (error) sendFailures.inc({ listener, reason: "send_failed" });
      });
    } catch {
      sendFailures.inc({ listener, reason: "send_failed" });
    }
  };
  const store = options.stateDir === undefined ? undefined : new StateStore(options.stateDir);
  let writer: ThrottledWriter | undefined;
  const core = new WakeCore(options, {
    send,
    advertiser,
    metrics,
    now,
    randomU32: deps.randomU32 ?? randomU32,
    randomU64: deps.randomU64 ?? randomU64,
    onChange: (urgent) => writer?.markDirty(urgent),
  });

  if (store !== undefined) {
    const loaded = await store.load(now());
    if (loaded.problem !== undefined) {
      logger.warn("{message}; starting with an empty registry{moved}", {
        message: loaded.problem.message,
        moved: loaded.problem.movedTo ? ` (moved to ${loaded.problem.movedTo})` : "",
      });
    }
    const restored = core.restore(loaded.cameras);
    if (loaded.cameras.length > 0) {
      logger.info("Loaded {restored} of {total} cameras from {path} (stale ones skipped)", {
        restored,
        total: loaded.cameras.length,
        path: store.path,
      });
    }
    writer = new ThrottledWriter(
      () => store.save(core.registry.list(), now()),
      (error) =>
        logger.warn("Cannot write state file {path}: {error}", { path: store.path, error }),
    );
  }

  try {
    sockets.middleman = await bindSocket("middleman", options.bind, options.middlemanPort);
    sockets.register = await bindSocket("register", options.bind, options.registerPort);
  } catch (error) {
    if (sockets.middleman) await closeSocket(sockets.middleman);
    await advertiser.settle();
    throw error;
  }
  const addressOf = (socket: dgram.Socket): Address => {
    const bound = socket.address();
    return { ip: bound.address, port: bound.port };
  };
  const middleman = addressOf(sockets.middleman);
  const register = addressOf(sockets.register);
  core.registerPort = register.port;

  for (const listener of ["middleman", "register"] as const) {
    const socket = sockets[listener]!;
    socket.on("message", (bytes: Uint8Array, rinfo: dgram.RemoteInfo) => {
      core.handleDatagram(listener, bytes, { ip: plainIp(rinfo.address), port: rinfo.port });
    });
    socket.on("error", (error: Error) => {
      logger.warn("Socket error on the {listener} listener: {error}", { listener, error });
    });
  }
  const sweepTimer = setInterval(() => core.sweep(), SWEEP_INTERVAL_MS);
  logger.info("Wake server listening: middleman udp {m}, register udp {r}", {
    m: `${middleman.ip}:${middleman.port}`,
    r: `${register.ip}:${register.port}`,
  });

  let closing: Promise<void> | undefined;
  return {
    middleman,
    register,
    registry: core.registry,
    metrics,
    wake: (target, source) => core.wake(target, source),
    onEvent: (listener) => core.onEvent(listener),
    close() {
      closing ??= (async () => {
        closed = true;
        clearInterval(sweepTimer);
        core.bursts.cancelAll();
        await Promise.all([closeSocket(sockets.middleman!), closeSocket(sockets.register!)]);
        await advertiser.settle();
        await writer?.close();
      })();
      return closing;
    },
  };
}
