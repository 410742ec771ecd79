/**
 * The wake server: the middleman and register UDP listeners around WakeCore,
 * a once-a-second sweep of stale cameras, and the state file.
 */

import { getLogger } from "@logtape/logtape";
import { Metrics } from "../metrics.ts";
import { AddressAdvertiser } from "../net/advertiser.ts";
import { WakeCore } from "./core.ts";
import type { Address, CameraEntry, CameraRegistry } from "./registry.ts";
import { StateStore, ThrottledWriter } from "./state.ts";
import { bindUdpListener, type UdpListener } from "./udp_listener.ts";
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

/** A running wake server. */
export interface WakeServer {
  /** The middleman's actual address (port resolved when 0 was asked). */
  readonly middleman: Address;
  /** The register's actual address. */
  readonly register: Address;
  readonly registry: CameraRegistry;
  readonly metrics: Metrics;
  /** What became of `receiveBufferBytes` on each listener (empty when 0 was asked). */
  readonly receiveBuffers: readonly ReceiveBufferReport[];
  /** When the last datagram arrived on either listener (ms since the epoch), or null. */
  lastPacketAt(): number | null;
  /** Wakes a camera by configured name, short or long UID. */
  wake(target: string, source: WakeSource): WakeOutcome;
  /** Wakes of `uid` in the last hour against max_wakes_per_hour (`limit` 0 = no budget). */
  wakeBudget(uid: string): { used: number; limit: number };
  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (event: WakeServerEvent) => void): () => void;
  /** Stops the listeners, cancels bursts, flushes the state; resolves within a second. */
  close(): Promise<void>;
}

/** The receive buffer one listener asked for and what the kernel granted (or why not). */
export interface ReceiveBufferReport {
  listener: ListenerName;
  requested: number;
  /** Bytes granted (the kernel doubles the request, capped by net.core.rmem_max); null on failure. */
  granted: number | null;
  /** Why the request was not applied; null when it was. */
  problem: string | null;
}

/** The registry's entries as held (no copies, as `list()` makes): the state file is made of them. */
function registryEntries(registry: CameraRegistry): CameraEntry[] {
  const entries: CameraEntry[] = [];
  registry.forEachEntry((entry) => entries.push(entry));
  return entries;
}

function randomU32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

function randomU64(): bigint {
  const words = crypto.getRandomValues(new Uint32Array(2));
  return (BigInt(words[0]) << 32n) | BigInt(words[1]);
}

/**
 * Binds both listeners and starts serving. Loads the state file first (when `stateDir`
 * is set) so cameras registered before a restart can be woken at once. Rejects with
 * ListenError when a listener cannot bind.
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
  const sockets: Partial<Record<ListenerName, UdpListener>> = {};
  const sendFailures = metrics.counter(
    "bairelay_dropped_total",
    "Packets dropped, by listener and reason",
  );
  const send = (listener: ListenerName, bytes: Uint8Array, to: Address) => {
    sockets[listener]?.send(bytes, to);
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
      const { message, movedTo } = loaded.problem;
      logger.warn(
        movedTo === undefined
          ? "{message}; starting with an empty registry"
          : "{message}; starting with an empty registry (moved to {movedTo})",
        { message, movedTo },
      );
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
      () => store.save(registryEntries(core.registry), now()),
      (error) =>
        logger.warn("Cannot write state file {path}: {error}", { path: store.path, error }),
    );
  }

  let lastPacketAt: number | null = null;
  const handlersFor = (listener: ListenerName) => ({
    onDatagram: (bytes: Uint8Array, from: Address) => {
      lastPacketAt = now();
      core.handleDatagram(listener, bytes, from);
    },
    onSendFailed: () => sendFailures.inc({ listener, reason: "send_failed" }),
    onReceiveError: (error: unknown) =>
      logger.warn("Socket error on the {listener} listener: {error}", { listener, error }),
  });
  try {
    sockets.middleman = bindUdpListener(
      "middleman",
      options.bind,
      options.middlemanPort,
      handlersFor("middleman"),
      options.receiveBufferBytes,
    );
    sockets.register = bindUdpListener(
      "register",
      options.bind,
      options.registerPort,
      handlersFor("register"),
      options.receiveBufferBytes,
    );
  } catch (error) {
    await sockets.middleman?.close();
    await advertiser.settle();
    throw error;
  }
  const middleman = sockets.middleman.address;
  const register = sockets.register.address;
  core.registerPort = register.port;
  const receiveBuffers: ReceiveBufferReport[] = [];
  for (const name of ["middleman", "register"] as const) {
    const result = sockets[name]!.receiveBuffer;
    if (result === undefined) continue;
    const requested = options.receiveBufferBytes;
    receiveBuffers.push(
      "problem" in result
        ? { listener: name, requested, granted: null, problem: result.problem }
        : { listener: name, requested, granted: result.granted, problem: null },
    );
    if ("problem" in result) {
      logger.warn(
        "receive_buffer_bytes = {bytes} not applied to the {name} listener: {problem}; it keeps the kernel's default",
        { bytes: options.receiveBufferBytes, name, problem: result.problem },
      );
    } else {
      logger.info("The {name} listener has a {granted}-byte receive buffer", {
        name,
        granted: result.granted,
      });
    }
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
    receiveBuffers,
    lastPacketAt: () => lastPacketAt,
    wake: (target, source) => core.wake(target, source),
    wakeBudget: (uid) => ({ used: core.budget.used(uid, now()), limit: core.budget.limitPerHour }),
    onEvent: (listener) => core.onEvent(listener),
    close() {
      closing ??= (async () => {
        clearInterval(sweepTimer);
        core.bursts.cancelAll();
        await Promise.all([sockets.middleman!.close(), sockets.register!.close()]);
        await advertiser.settle();
        await writer?.close();
      })();
      return closing;
    },
  };
}
