/**
 * The waker: starts `R2D_C` bursts at a camera's registered address behind the battery
 * guards (one burst in flight per camera, the hourly wake budget), and matches the camera's
 * or client's confirmation to its burst.
 */

import { encodeDiscovery, type IpPort, message } from "../bcudp/mod.ts";
import type { BurstScheduler, WakeBudget } from "./bursts.ts";
import type { WakeEvents } from "./events.ts";
import { logger, type RateLimitedWarnings, uidAndName } from "./log.ts";
import type { Outbox } from "./outbox.ts";
import type { Address, CameraEntry, CameraRegistry } from "./registry.ts";
import type { Requester, WakeOutcome } from "./types.ts";
import type { WakeMetrics } from "./wake_metrics.ts";

/**
 * The client behind a `C2R_C`: where it listens, its connection id, and the request's tid,
 * which the `R2D_C` burst reuses as the original implementation does (verified against real
 * cameras).
 */
export interface ClientConnect {
  cli: IpPort;
  cmap: IpPort;
  cid: number;
  tid: number;
}

/** What the waker needs from the wake server. */
export interface WakerDeps {
  now: () => number;
  randomU32: () => number;
  registry: CameraRegistry;
  bursts: BurstScheduler;
  budget: WakeBudget;
  outbox: Outbox;
  metrics: WakeMetrics;
  events: WakeEvents;
  warnings: RateLimitedWarnings;
  /** Called when a wake changed the registry (its wake count and time). */
  onChange?: (urgent: boolean) => void;
}

/** Wakes cameras for the API, MQTT, motion and clients. */
export class Waker {
  constructor(private readonly deps: WakerDeps) {}

  /** Wakes `target` (configured name, short or long UID, any case) on behalf of `requester`. */
  wake(target: string, requester: Requester): WakeOutcome {
    const entry = this.deps.registry.resolveTarget(target);
    return entry === undefined
      ? this.refuse(target, requester)
      : this.start(entry, requester, undefined);
  }

  /**
   * Refuses to wake `target`, which is no fresh camera: a known camera (configured, or held
   * until recently) is `not_registered`, and that request is an event; anything else is
   * `unknown`, and no event, so a typo or a probe never becomes a row of the events log.
   */
  refuse(target: string, requester: Requester): WakeOutcome {
    const source = describeRequester(requester);
    const known = this.deps.registry.identify(target);
    if (known === undefined) {
      this.deps.metrics.wakes.inc({ result: "unknown" });
      return { result: "unknown", target };
    }
    const outcome: WakeOutcome = { result: "not_registered", target, uid: known.uid };
    this.record(outcome, known.uid, 0, requester);
    logger.info("Cannot wake {target} for {source}: not registered (or stale)", {
      target,
      source,
    });
    return outcome;
  }

  private record(outcome: WakeOutcome, uid: string, sid: number, requester: Requester): void {
    this.deps.metrics.wakes.inc({ result: outcome.result });
    this.deps.events.emit({
      type: "wake",
      uid,
      sid,
      source: requester.kind,
      requester: { ...requester },
      result: outcome.result,
      at: this.deps.now(),
    });
  }

  /**
   * The battery guards, then the burst: joins a running burst, refuses over budget, or
   * starts `burstCount` R2D_C to the camera's registered address.
   */
  start(
    entry: CameraEntry,
    requester: Requester,
    client: ClientConnect | undefined,
  ): WakeOutcome {
    const { bursts, budget } = this.deps;
    const source = describeRequester(requester);
    const at = this.deps.now();
    const uid = entry.uid;
    const running = bursts.inFlight(uid);
    if (running !== undefined) {
      const outcome: WakeOutcome = { result: "in_flight", uid, sid: running.sid };
      this.record(outcome, uid, running.sid, requester);
      return outcome;
    }
    if (!budget.allows(uid, at)) {
      const used = budget.used(uid, at);
      const outcome: WakeOutcome = {
        result: "over_budget",
        uid,
        wakesInLastHour: used,
        limit: budget.limitPerHour,
      };
      this.record(outcome, uid, 0, requester);
      this.deps.warnings.warn(
        `budget:${uid}`,
        `Not waking camera ${uidAndName(entry.name)} for {source}: {used} wakes in the last ` +
          "hour reached max_wakes_per_hour = {limit}",
        { uid, name: entry.name, source, used, limit: outcome.limit },
      );
      return outcome;
    }
    const sid = this.deps.randomU32() >>> 0;
    budget.record(uid, at);
    this.deps.registry.recordWake(uid, at);
    this.deps.onChange?.(true);
    this.fireBurst(entry, sid, at, client);
    const outcome: WakeOutcome = { result: "started", uid, sid };
    this.record(outcome, uid, sid, requester);
    logger.info(`Waking camera ${uidAndName(entry.name)} at {ip}:{port} for {source} (sid {sid})`, {
      uid,
      name: entry.name,
      ...entry.address,
      source,
      sid,
    });
    return outcome;
  }

  /**
   * Starts the burst; when our address toward the camera is not known yet, the packets due
   * before it resolves are sent once it does.
   */
  private fireBurst(
    entry: CameraEntry,
    sid: number,
    at: number,
    client: ClientConnect | undefined,
  ): void {
    const { outbox, randomU32 } = this.deps;
    const to: Address = { ...entry.address };
    let packet: Uint8Array | undefined;
    let owed = 0;
    const build = (relayIp: string) => {
      const relay = { ip: relayIp, port: outbox.registerPort };
      const wakeMessage = message("R2D_C", {
        cli: client?.cli ?? relay,
        cmap: client?.cmap ?? relay,
        relay,
        sid,
        cid: client?.cid ?? (randomU32() | 0),
      });
      // A client's wake reuses its C2R_C tid (as the original does); an API wake has none.
      const tid = client?.tid ?? randomU32() >>> 0;
      packet = encodeDiscovery(wakeMessage, tid, { validate: false });
    };
    const sendOne = () => {
      if (packet === undefined) {
        owed++;
        return;
      }
      outbox.send("register", packet, "R2D_C", to);
    };
    const cachedIp = outbox.advertiser.cached(to.ip);
    if (cachedIp !== undefined) build(cachedIp);
    else {
      void outbox.advertiser.resolve(to.ip).then((ip) => {
        build(ip);
        for (; owed > 0; owed--) sendOne();
      });
    }
    this.deps.bursts.start(entry.uid, sid, at, sendOne);
  }

  /** D2R_C_R / C2R_CFM: log, and record the wake's completion the first time. */
  confirm(sid: number, variant: "D2R_C_R" | "C2R_CFM", peer: Address): void {
    const wake = this.deps.bursts.confirm(sid);
    if (wake === undefined) {
      logger.debug("{variant} for unknown or already confirmed sid {sid} from {ip}", {
        variant,
        sid,
        ip: peer.ip,
      });
      return;
    }
    const at = this.deps.now();
    const { confirmed, confirmSeconds } = this.deps.metrics;
    confirmed.inc({ variant });
    if (variant === "D2R_C_R") confirmSeconds.observe((at - wake.startedAt) / 1000);
    logger.info("Camera {uid} confirmed wake sid {sid} ({variant}) after {ms} ms", {
      uid: wake.uid,
      sid,
      variant,
      ms: at - wake.startedAt,
    });
    this.deps.events.emit({ type: "wake_confirmed", uid: wake.uid, sid, at });
  }

  /** Forgets the wake budget of a camera that left the registry. */
  forget(uid: string): void {
    this.deps.budget.forget(uid);
  }
}

/** How the log names a requester: its kind, and its address when it has one ("client 192.168.1.5"). */
export function describeRequester(requester: Requester): string {
  return requester.address === undefined
    ? requester.kind
    : `${requester.kind} ${requester.address}`;
}
