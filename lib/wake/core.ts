/**
 * The wake server's protocol behaviour without sockets: a datagram in, replies out through
 * an injected `send`. This composes the roles: the route table (`routes.ts`), the middleman,
 * the register, the session anchors between them, and the waker with its bursts and budget.
 */

import type { Metrics } from "../metrics.ts";
import type { AddressAdvertiser } from "../net/advertiser.ts";
import { Anchors, SessionAnchors } from "./anchors.ts";
import { BurstScheduler, WakeBudget } from "./bursts.ts";
import { WakeEvents } from "./events.ts";
import { RateLimitedWarnings } from "./log.ts";
import { Middleman } from "./middleman.ts";
import { Outbox, type SendFn } from "./outbox.ts";
import { Register } from "./register.ts";
import { type Address, type CameraEntry, CameraRegistry } from "./registry.ts";
import { Router } from "./routes.ts";
import type {
  ListenerName,
  Requester,
  WakeOutcome,
  WakeServerEvent,
  WakeServerOptions,
} from "./types.ts";
import { WakeMetrics } from "./wake_metrics.ts";
import { Waker } from "./waker.ts";

/** What WakeCore needs from its host. */
export interface WakeCoreDeps {
  send: SendFn;
  advertiser: AddressAdvertiser;
  metrics: Metrics;
  now: () => number;
  randomU32: () => number;
  randomU64: () => bigint;
  /**
   * Called when the registry changed (for persistence); `urgent` is false when only a
   * heartbeat time moved.
   */
  onChange?: (urgent: boolean) => void;
}

/** Protocol state and roles of one wake server. */
export class WakeCore {
  readonly registry: CameraRegistry;
  readonly anchors: SessionAnchors;
  readonly bursts: BurstScheduler;
  readonly budget: WakeBudget;
  private readonly events = new WakeEvents();
  private readonly outbox: Outbox;
  private readonly register: Register;
  private readonly waker: Waker;
  private readonly router: Router;

  constructor(readonly options: WakeServerOptions, private readonly deps: WakeCoreDeps) {
    const { now, randomU32, randomU64, onChange } = deps;
    this.registry = new CameraRegistry({
      staleAfterMs: options.staleAfterMs,
      maxCameras: options.maxCameras,
      cameras: options.cameras,
      now,
    });
    this.anchors = new SessionAnchors(options.maxAnchors, options.anchorTtlMs);
    this.bursts = new BurstScheduler(options.burstCount, options.burstIntervalMs);
    this.budget = new WakeBudget(options.maxWakesPerHour);
    const metrics = new WakeMetrics(deps.metrics);
    const warnings = new RateLimitedWarnings(now);
    const events = this.events;
    const outbox = new Outbox(deps.send, deps.advertiser, metrics, options.registerPort);
    this.outbox = outbox;
    const anchors = new Anchors(this.anchors, { now, randomU32, randomU64, metrics, warnings });
    const registry = this.registry;
    this.waker = new Waker({
      now,
      randomU32,
      registry,
      bursts: this.bursts,
      budget: this.budget,
      outbox,
      metrics,
      events,
      warnings,
      onChange,
    });
    this.register = new Register({
      now,
      heartbeatMs: options.heartbeatMs,
      registry,
      anchors,
      waker: this.waker,
      outbox,
      metrics,
      events,
      warnings,
      onChange,
    });
    const middleman = new Middleman(outbox, anchors);
    this.router = new Router({ middleman, register: this.register, waker: this.waker }, metrics);
  }

  /** The actually bound register port, advertised in every address we hand out. */
  get registerPort(): number {
    return this.outbox.registerPort;
  }

  set registerPort(port: number) {
    this.outbox.registerPort = port;
  }

  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (event: WakeServerEvent) => void): () => void {
    return this.events.on(listener);
  }

  /** Decodes one datagram received by `listener` from `peer` and answers it. Never throws. */
  handleDatagram(listener: ListenerName, bytes: Uint8Array, peer: Address): void {
    this.router.handleDatagram(listener, bytes, peer);
  }

  /** Wakes `target` (configured name, short or long UID) on behalf of `requester`. */
  wake(target: string, requester: Requester): WakeOutcome {
    return this.waker.wake(target, requester);
  }

  /**
   * Forgets expired anchors, evicts stale cameras (event + info log each), and writes how
   * many registrations and evictions went unlogged over the per-second cap.
   */
  sweep(): void {
    const at = this.deps.now();
    this.anchors.sweep(at);
    this.register.sweep(at);
  }

  /** Puts back cameras loaded from the state file. */
  restore(entries: readonly CameraEntry[]): number {
    return this.register.restore(entries);
  }
}
