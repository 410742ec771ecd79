/**
 * The wake server's protocol behaviour without sockets: a datagram in, replies out through
 * an injected `send`. One declarative table says which variant each listener answers and
 * how (cloud-interception.md Part I).
 */

import { getLogger } from "@logtape/logtape";
import {
  BCUDP_ERROR_REASONS,
  decodeDatagramLenient,
  DocumentCache,
  encodeDiscovery,
  HEADER_SIZE,
  type IpPort,
  type Message,
  message,
  type MessageOf,
  VARIANT_NAMES,
  type VariantName,
  writeDiscoveryPacket,
  writeMessage,
} from "../bcudp/mod.ts";
import { CounterByPair, type Metrics } from "../metrics.ts";
import type { AddressAdvertiser } from "../net/advertiser.ts";
import { BurstScheduler, WakeBudget } from "./bursts.ts";
import { LineBudget } from "./line_budget.ts";
import { type Address, type CameraEntry, CameraRegistry, SessionAnchors } from "./registry.ts";
import { SendBuffers } from "./send_buffers.ts";
import type {
  ListenerName,
  WakeOutcome,
  WakeServerEvent,
  WakeServerOptions,
  WakeSource,
} from "./types.ts";

const logger = getLogger(["bairelay", "wake"]);
const utf8 = new TextEncoder();

/** Sends bytes from one of the listeners. */
export type SendFn = (listener: ListenerName, bytes: Uint8Array, to: Address) => void;

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

/** Repeated warnings (caps, budget) are logged at most once per key per this many ms. */
export const WARN_INTERVAL_MS = 10_000;
const MAX_WARN_KEYS = 256;

type Handler<V extends VariantName> = (
  core: WakeCore,
  msg: MessageOf<V>,
  peer: Address,
  tid: number,
) => void | Promise<void>;

type Routes = { [V in VariantName]?: Handler<V> };

/** Which requests each listener answers; anything else is dropped and counted. */
const ROUTES: Record<ListenerName, Routes> = {
  middleman: {
    C2M_Q: (core, _msg, peer, tid) => core.answerClientQuery(peer, tid),
    D2M_Q: (core, msg, peer, tid) => core.answerDeviceQuery(msg.fields.uid, peer, tid),
  },
  register: {
    D2R_R: (core, msg, peer, tid) => core.answerAnchor(msg, peer, tid),
    D2R_HB: (core, msg, peer, tid) => core.answerHeartbeat(msg, peer, tid),
    C2R_C: (core, msg, peer, tid) => core.answerConnect(msg, peer, tid),
    D2R_DISC: (core, msg, peer, tid) =>
      core.reply("register", message("R2D_DC_R", { sid: msg.fields.sid, rsp: 0 }), tid, peer),
    D2R_C_R: (core, msg, peer) => core.confirmWake(msg.fields.sid, "D2R_C_R", peer),
    C2R_CFM: (core, msg, peer) => core.confirmWake(msg.fields.sid, "C2R_CFM", peer),
  },
};

/**
 * The `variant` label of packets that are not Discovery packets (which carry no message):
 * in the same upper-case style as the message names.
 */
const NON_DISCOVERY_VARIANT: Record<"data" | "ack" | "relay", string> = {
  data: "DATA",
  ack: "ACK",
  relay: "RELAY",
};

/** What each listener sends (its `bairelay_replies_total` series exist at 0 from the start). */
const REPLIES: Record<ListenerName, readonly VariantName[]> = {
  middleman: ["M2C_Q_R", "M2D_Q_R"],
  register: ["R2D_R_R", "R2D_HB_R", "R2C_C_R", "R2C_T", "R2D_DC_R", "R2D_C"],
};

/** Why a packet is dropped (`bairelay_dropped_total`'s `reason`), all present from the start. */
const DROP_REASONS = [
  "not_discovery",
  "unexpected_variant",
  "handler_error",
  "anchors_full",
  "registry_full",
  "no_anchor",
  "token_mismatch",
  "send_failed",
] as const;

/** Every result a wake request can have (`bairelay_wakes_total`'s `result`). */
const WAKE_RESULTS: readonly WakeOutcome["result"][] = [
  "started",
  "in_flight",
  "over_budget",
  "not_registered",
];

/** Upper bounds (seconds) of the wake confirmation histogram: a burst lasts about a second. */
const WAKE_CONFIRM_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/**
 * The log template naming a camera, `{uid}` or `{uid} ({name})`: the name stays a property of
 * its own (JSON logs), never text such as " (garden)" in a property.
 */
function uidAndName(name: string | undefined): string {
  return name === undefined ? "{uid}" : "{uid} ({name})";
}

/** The rsp the register answers an unknown, stale or over-budget camera with. */
const RSP_REFUSED = -1;
/** The cloud's (informational) rsp in R2D_R_R. */
const RSP_ANCHORED = -4;

/**
 * The client behind a `C2R_C`: where it listens, its connection id, and the request's tid,
 * which the `R2D_C` burst reuses as the original implementation does (verified against real
 * cameras).
 */
interface Requester {
  cli: IpPort;
  cmap: IpPort;
  cid: number;
  tid: number;
}

/** Protocol state and handlers of one wake server. */
export class WakeCore {
  readonly registry: CameraRegistry;
  readonly anchors: SessionAnchors;
  readonly bursts: BurstScheduler;
  readonly budget: WakeBudget;
  /**
   * Event subscribers. Replaced, never changed in place, so `emit` can walk it with an index
   * (no iterator per event: one per heartbeat) while a listener unsubscribes.
   */
  private listeners: readonly ((event: WakeServerEvent) => void)[] = [];
  private readonly warned = new Map<string, number>();
  /** Caps on "registered" and "deregistered" lines (a restart beside many cameras). */
  private readonly registeredLines = new LineBudget();
  private readonly deregisteredLines = new LineBudget();
  /** The R2D_HB_R body (UTF-8) of the current second: every heartbeat in that second gets it. */
  private heartbeatReply: { second: number; plain: Uint8Array } | undefined;
  private readonly sendBuffers = new SendBuffers();
  /**
   * The decoder's options, made once rather than per datagram: the documents seen before
   * (each camera repeats its D2R_HB), which need no parse.
   */
  private readonly decodeOptions = { documents: new DocumentCache() };
  private readonly counters;
  /** Packets received and sent, by listener and variant (bumped for every packet). */
  private readonly packetsIn: CounterByPair;
  private readonly packetsOut: CounterByPair;
  private readonly registered;
  /** The actually bound register port, advertised in every address we hand out. */
  registerPort: number;

  constructor(readonly options: WakeServerOptions, private readonly deps: WakeCoreDeps) {
    this.registry = new CameraRegistry({
      staleAfterMs: options.staleAfterMs,
      maxCameras: options.maxCameras,
      cameras: options.cameras,
      now: deps.now,
    });
    this.anchors = new SessionAnchors(options.maxAnchors, options.anchorTtlMs);
    this.bursts = new BurstScheduler(options.burstCount, options.burstIntervalMs);
    this.budget = new WakeBudget(options.maxWakesPerHour);
    this.registerPort = options.registerPort;
    const m = deps.metrics;
    this.counters = {
      packets: m.counter(
        "bairelay_packets_total",
        "BcUdp packets received, by listener and variant",
      ),
      decodeErrors: m.counter(
        "bairelay_decode_errors_total",
        "Datagrams that failed to decode, by listener and reason",
      ),
      replies: m.counter("bairelay_replies_total", "Packets sent, by listener and variant"),
      dropped: m.counter("bairelay_dropped_total", "Packets dropped, by listener and reason"),
      wakes: m.counter("bairelay_wakes_total", "Wake requests, by result"),
      confirmed: m.counter(
        "bairelay_wakes_confirmed_total",
        "Wakes the camera (D2R_C_R) or client (C2R_CFM) confirmed, by variant",
      ),
      confirmSeconds: m.histogram(
        "bairelay_wake_confirm_seconds",
        "Seconds from a wake's start (C2R_C, API, MQTT or motion) to the camera's D2R_C_R",
        WAKE_CONFIRM_BUCKETS_S,
      ),
    };
    this.createSeries();
    this.packetsIn = new CounterByPair(this.counters.packets, "listener", "variant");
    this.packetsOut = new CounterByPair(this.counters.replies, "listener", "variant");
    this.registered = m.gauge("bairelay_registered_cameras", "Cameras in the registry");
    this.registered.set(0);
  }

  /** Creates every known counter series at 0, so none appears only after its first event. */
  private createSeries(): void {
    const { packets, replies, decodeErrors, dropped, wakes, confirmed } = this.counters;
    for (const listener of ["middleman", "register"] as const) {
      for (const variant of [...VARIANT_NAMES, ...Object.values(NON_DISCOVERY_VARIANT)]) {
        packets.inc({ listener, variant }, 0);
      }
      for (const variant of REPLIES[listener]) replies.inc({ listener, variant }, 0);
      for (const reason of BCUDP_ERROR_REASONS) decodeErrors.inc({ listener, reason }, 0);
      for (const reason of DROP_REASONS) dropped.inc({ listener, reason }, 0);
    }
    for (const result of WAKE_RESULTS) wakes.inc({ result }, 0);
    for (const variant of ["D2R_C_R", "C2R_CFM"]) confirmed.inc({ variant }, 0);
  }

  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (event: WakeServerEvent) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((other) => other !== listener);
    };
  }

  private emit(event: WakeServerEvent): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i](event);
      } catch (error) {
        logger.error("Wake event listener failed: {error}", { error });
      }
    }
  }

  private warn(key: string, text: string, properties: Record<string, unknown>): void {
    const at = this.deps.now();
    const last = this.warned.get(key);
    if (last !== undefined && at - last < WARN_INTERVAL_MS) return;
    this.warned.delete(key);
    this.warned.set(key, at);
    if (this.warned.size > MAX_WARN_KEYS) this.warned.delete(this.warned.keys().next().value!);
    logger.warn(text, properties);
  }

  /** Decodes one datagram received by `listener` from `peer` and answers it. Never throws. */
  handleDatagram(listener: ListenerName, bytes: Uint8Array, peer: Address): void {
    const { packets, error } = decodeDatagramLenient(bytes, this.decodeOptions);
    if (error !== undefined) {
      this.counters.decodeErrors.inc({ listener, reason: error.reason });
      if (logger.isEnabledFor("debug")) {
        logger.debug("Undecodable datagram on {listener} from {ip}:{port}: {reason}", {
          listener,
          ...peer,
          reason: error.message,
        });
      }
    }
    for (const packet of packets) {
      if (packet.kind !== "discovery") {
        this.packetsIn.inc(listener, NON_DISCOVERY_VARIANT[packet.kind]);
        this.drop(listener, "not_discovery");
        continue;
      }
      const msg = packet.message;
      this.packetsIn.inc(listener, msg.variant);
      if (logger.isEnabledFor("debug")) {
        logger.debug("{variant} from {ip}:{port} on {listener}", {
          variant: msg.variant,
          listener,
          ...peer,
        });
      }
      const handler = ROUTES[listener][msg.variant] as Handler<VariantName> | undefined;
      if (handler === undefined) {
        this.drop(listener, "unexpected_variant");
        continue;
      }
      try {
        const pending = handler(this, msg as MessageOf<VariantName>, peer, packet.tid);
        if (pending !== undefined) pending.catch((e) => this.handlerFailed(listener, msg, e));
      } catch (e) {
        this.handlerFailed(listener, msg, e);
      }
    }
  }

  private handlerFailed(listener: ListenerName, msg: Message, error: unknown): void {
    this.drop(listener, "handler_error");
    logger.error("Handling {variant} on {listener} failed: {error}", {
      variant: msg.variant,
      listener,
      error,
    });
  }

  /** A cap refused a new UID: counted as dropped, and a (rate-limited) warning. */
  private refuse(
    listener: ListenerName,
    reason: string,
    text: string,
    uid: string,
    peer: Address,
    max: number,
  ): void {
    this.drop(listener, reason);
    this.warn(reason, text, { uid, ip: peer.ip, max });
  }

  private drop(listener: ListenerName, reason: string): void {
    this.counters.dropped.inc({ listener, reason });
  }

  /** Encodes `msg` with the request's `tid` and sends it to `to` (the UDP source). */
  reply(listener: ListenerName, msg: Message, tid: number, to: Address): void {
    this.deps.send(listener, encodeDiscovery(msg, tid, { validate: false }), to);
    this.packetsOut.inc(listener, msg.variant);
  }

  /**
   * The R2D_HB_R body for a heartbeat at `at`, written once per second: it only changes
   * with `time_t`, and heartbeats are the hot path.
   */
  private heartbeatReplyBody(at: number): Uint8Array {
    const second = Math.floor(at / 1000);
    if (this.heartbeatReply?.second !== second) {
      const reply = message("R2D_HB_R", {
        rsp: 0,
        time_t: BigInt(second),
        timer: { hb: this.options.heartbeatMs },
      });
      this.heartbeatReply = { second, plain: utf8.encode(writeMessage(reply)) };
    }
    return this.heartbeatReply.plain;
  }

  private async endpointFor(peerIp: string): Promise<IpPort> {
    const ip = this.deps.advertiser.cached(peerIp) ?? await this.deps.advertiser.resolve(peerIp);
    return { ip, port: this.registerPort };
  }

  /** C2M_Q -> M2C_Q_R: every address is ours (register port). */
  async answerClientQuery(peer: Address, tid: number): Promise<void> {
    const us = await this.endpointFor(peer.ip);
    this.reply("middleman", message("M2C_Q_R", { reg: us, relay: us, log: us, t: us }), tid, peer);
  }

  /** D2M_Q -> M2D_Q_R in the cloud's exact shape, with a fresh (token, ac) anchor. */
  async answerDeviceQuery(uid: string, peer: Address, tid: number): Promise<void> {
    const token = this.deps.randomU64();
    const ac = this.deps.randomU32() >>> 0;
    if (!this.anchors.issue(uid, { token, ac, issuedAt: this.deps.now() })) {
      const text = "Refusing D2M_Q from camera {uid} at {ip}: {max} anchors held (max_anchors)";
      this.refuse("middleman", "anchors_full", text, uid, peer, this.anchors.maxAnchors);
      return;
    }
    const us = await this.endpointFor(peer.ip);
    const reply = message("M2D_Q_R", {
      reg: us,
      log: us,
      timer: true,
      retry: true,
      rsp: 0,
      token,
      ac,
    });
    this.reply("middleman", reply, tid, peer);
  }

  /** D2R_R -> R2D_R_R {rsp -4, ac} only when the token matches the camera's anchor. */
  answerAnchor(msg: MessageOf<"D2R_R">, peer: Address, tid: number): void {
    const check = this.anchors.check(msg.fields.uid, msg.fields.token, this.deps.now());
    if ("refused" in check) {
      this.drop("register", check.refused);
      logger.debug("Dropping D2R_R from {uid} at {ip}:{port}: {why}", {
        uid: msg.fields.uid,
        ...peer,
        why: check.refused,
      });
      return;
    }
    this.reply("register", message("R2D_R_R", { rsp: RSP_ANCHORED, ac: check.ac }), tid, peer);
  }

  /** D2R_HB: registry upsert from the UDP source; R2D_HB_R when needrsp is 1. */
  answerHeartbeat(msg: MessageOf<"D2R_HB">, peer: Address, tid: number): void {
    const at = this.deps.now();
    const { uid, token, needrsp } = msg.fields;
    const upsert = this.registry.upsertHeartbeat(uid, peer, token, at);
    if (upsert.result === "full") {
      const text = "Refusing camera {uid} at {ip}: registry full ({max} cameras, max_cameras)";
      this.refuse("register", "registry_full", text, uid, peer, this.registry.maxCameras);
      return;
    }
    if (upsert.result === "registered") {
      if (upsert.evicted.length > 0) this.deregistered(upsert.evicted, at);
      this.registered.set(this.registry.size);
      if (this.registeredLines.take(at)) {
        logger.info(`Camera ${uidAndName(upsert.entry.name)} registered from {ip}:{port}`, {
          uid,
          name: upsert.entry.name,
          ...peer,
        });
      }
      this.emit({ type: "registered", uid, address: { ...peer }, at });
    } else {
      if (upsert.moved) logger.info("Camera {uid} moved to {ip}:{port}", { uid, ...peer });
      if (this.listeners.length > 0) {
        this.emit({ type: "heartbeat", uid, address: { ...peer }, at });
      }
    }
    if (upsert.result === "registered" || upsert.moved) {
      void this.deps.advertiser.resolve(peer.ip); // warm the cache for the first wake
    }
    this.deps.onChange?.(upsert.result === "registered" || upsert.moved);
    if (needrsp !== 1) return;
    const body = this.heartbeatReplyBody(at);
    const packet = writeDiscoveryPacket(
      body,
      tid,
      this.sendBuffers.take(HEADER_SIZE + body.length),
    );
    this.deps.send("register", packet, peer);
    this.packetsOut.inc("register", "R2D_HB_R");
  }

  /** C2R_C: wake the camera (burst) and tell the client where it is, or rsp -1. */
  async answerConnect(msg: MessageOf<"C2R_C">, peer: Address, tid: number): Promise<void> {
    const entry = this.registry.lookupFresh(msg.fields.uid);
    const outcome = entry === undefined
      ? this.refuseUnknown(msg.fields.uid, "client")
      : this.startWake(entry, "client", {
        cli: { ip: peer.ip, port: msg.fields.cli.port },
        cmap: { ip: peer.ip, port: peer.port },
        cid: msg.fields.cid,
        tid,
      });
    if (entry === undefined || (outcome.result !== "started" && outcome.result !== "in_flight")) {
      const refusal = message("R2C_C_R", { nat: "NULL", rsp: RSP_REFUSED, ac: 0 });
      this.reply("register", refusal, tid, peer);
      return;
    }
    const camera: IpPort = { ...entry.address };
    const relay = await this.endpointFor(peer.ip);
    const sid = outcome.sid;
    this.reply(
      "register",
      message("R2C_C_R", { dev: camera, dmap: camera, relay, nat: "NULL", sid, rsp: 0, ac: 0 }),
      tid,
      peer,
    );
    this.reply(
      "register",
      message("R2C_T", { dev: camera, dmap: camera, sid, cid: msg.fields.cid }),
      tid,
      peer,
    );
  }

  /** D2R_C_R / C2R_CFM: log, and record the wake's completion the first time. */
  confirmWake(sid: number, variant: string, peer: Address): void {
    const wake = this.bursts.confirm(sid);
    if (wake === undefined) {
      logger.debug("{variant} for unknown or already confirmed sid {sid} from {ip}", {
        variant,
        sid,
        ip: peer.ip,
      });
      return;
    }
    const at = this.deps.now();
    this.counters.confirmed.inc({ variant });
    if (variant === "D2R_C_R") this.counters.confirmSeconds.observe((at - wake.startedAt) / 1000);
    logger.info("Camera {uid} confirmed wake sid {sid} ({variant}) after {ms} ms", {
      uid: wake.uid,
      sid,
      variant,
      ms: at - wake.startedAt,
    });
    this.emit({ type: "wake_confirmed", uid: wake.uid, sid, at });
  }

  /** Wakes `target` (configured name, short or long UID) on behalf of `source`. */
  wake(target: string, source: WakeSource): WakeOutcome {
    const entry = this.registry.resolveTarget(target);
    return entry === undefined
      ? this.refuseUnknown(target, source)
      : this.startWake(entry, source, undefined);
  }

  private refuseUnknown(target: string, source: WakeSource): WakeOutcome {
    this.record({ result: "not_registered", target }, target, 0, source);
    logger.info("Cannot wake {target} for {source}: not registered (or stale)", {
      target,
      source,
    });
    return { result: "not_registered", target };
  }

  private record(outcome: WakeOutcome, uid: string, sid: number, source: WakeSource): void {
    this.counters.wakes.inc({ result: outcome.result });
    this.emit({ type: "wake", uid, sid, source, result: outcome.result, at: this.deps.now() });
  }

  /**
   * The battery guards, then the burst: joins a running burst, refuses over budget, or
   * starts `burstCount` R2D_C to the camera's registered address.
   */
  private startWake(
    entry: CameraEntry,
    source: WakeSource,
    requester: Requester | undefined,
  ): WakeOutcome {
    const at = this.deps.now();
    const uid = entry.uid;
    const running = this.bursts.inFlight(uid);
    if (running !== undefined) {
      const outcome: WakeOutcome = { result: "in_flight", uid, sid: running.sid };
      this.record(outcome, uid, running.sid, source);
      return outcome;
    }
    if (!this.budget.allows(uid, at)) {
      const used = this.budget.used(uid, at);
      const outcome: WakeOutcome = {
        result: "over_budget",
        uid,
        wakesInLastHour: used,
        limit: this.budget.limitPerHour,
      };
      this.record(outcome, uid, 0, source);
      this.warn(
        `budget:${uid}`,
        `Not waking camera ${uidAndName(entry.name)} for {source}: {used} wakes in the last ` +
          "hour reached max_wakes_per_hour = {limit}",
        { uid, name: entry.name, source, used, limit: outcome.limit },
      );
      return outcome;
    }
    const sid = this.deps.randomU32() >>> 0;
    this.budget.record(uid, at);
    this.registry.recordWake(uid, at);
    this.deps.onChange?.(true);
    this.fireBurst(entry, sid, at, requester);
    const outcome: WakeOutcome = { result: "started", uid, sid };
    this.record(outcome, uid, sid, source);
    logger.info(`Waking camera ${uidAndName(entry.name)} at {ip}:{port} for {source} (sid {sid})`, {
      uid,
      name: entry.name,
      ...entry.address,
      source,
      sid,
    });
    return outcome;
  }

  private fireBurst(
    entry: CameraEntry,
    sid: number,
    at: number,
    requester: Requester | undefined,
  ): void {
    const to = { ...entry.address };
    let packet: Uint8Array | undefined;
    let owed = 0;
    const build = (relayIp: string) => {
      const relay = { ip: relayIp, port: this.registerPort };
      const wakeMessage = message("R2D_C", {
        cli: requester?.cli ?? relay,
        cmap: requester?.cmap ?? relay,
        relay,
        sid,
        cid: requester?.cid ?? (this.deps.randomU32() | 0),
      });
      // A client's wake reuses its C2R_C tid (as the original does); an API wake has none.
      const tid = requester?.tid ?? this.deps.randomU32() >>> 0;
      packet = encodeDiscovery(wakeMessage, tid, { validate: false });
    };
    const sendOne = () => {
      if (packet === undefined) {
        owed++;
        return;
      }
      this.deps.send("register", packet, to);
      this.packetsOut.inc("register", "R2D_C");
    };
    const cachedIp = this.deps.advertiser.cached(to.ip);
    if (cachedIp !== undefined) build(cachedIp);
    else {
      void this.deps.advertiser.resolve(to.ip).then((ip) => {
        build(ip);
        for (; owed > 0; owed--) sendOne();
      });
    }
    this.bursts.start(entry.uid, sid, at, sendOne);
  }

  /**
   * Evicts stale cameras (event + info log each) and expired anchors, and writes how many
   * registrations and evictions went unlogged over the per-second cap.
   */
  sweep(): void {
    const at = this.deps.now();
    this.anchors.sweep(at);
    const evicted = this.registry.sweep(at);
    if (evicted.length > 0) {
      this.deregistered(evicted, at);
      this.deps.onChange?.(true);
    }
    this.logCounted();
  }

  /** A line each for the registrations and evictions not logged one by one (LineBudget). */
  private logCounted(): void {
    const counted = [
      [this.registeredLines, "registered"],
      [this.deregisteredLines, "deregistered (no heartbeat)"],
    ] as const;
    for (const [lines, what] of counted) {
      const count = lines.takeCounted();
      if (count === 0) continue;
      logger.info(
        `{count} more cameras ${what} than logged one by one (at most {max} lines a second; ` +
          "`bairelay registry` lists the cameras)",
        { count, max: lines.perSecond },
      );
    }
  }

  /** Reports cameras evicted as stale: info log, event, wake budget forgotten. */
  private deregistered(evicted: readonly CameraEntry[], at: number): void {
    this.registered.set(this.registry.size);
    for (const entry of evicted) {
      this.budget.forget(entry.uid);
      if (this.deregisteredLines.take(at)) {
        logger.info(`Camera ${uidAndName(entry.name)} deregistered: no heartbeat for {ms} ms`, {
          uid: entry.uid,
          name: entry.name,
          ms: at - entry.lastHeartbeat,
        });
      }
      this.emit({ type: "deregistered", uid: entry.uid, reason: "stale", at });
    }
  }

  /** Puts back cameras loaded from the state file. */
  restore(entries: readonly CameraEntry[]): number {
    const restored = this.registry.restore(entries, this.deps.now());
    this.registered.set(this.registry.size);
    for (const entry of this.registry.list()) void this.deps.advertiser.resolve(entry.address.ip);
    return restored;
  }
}
