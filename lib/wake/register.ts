/**
 * The register (UDP 58200): anchors cameras' sessions, keeps the registry from their
 * heartbeats (the hot path: one per camera every 10-20 s), and answers a client's
 * connect with a wake and the camera's address.
 */

import {
  HEADER_SIZE,
  type IpPort,
  message,
  type MessageOf,
  writeDiscoveryPacket,
  writeMessage,
} from "../bcudp/mod.ts";
import { isLoopback } from "../net/ip.ts";
import type { Anchors } from "./anchors.ts";
import type { WakeEvents } from "./events.ts";
import { LineBudget } from "./line_budget.ts";
import { logger, type RateLimitedWarnings, uidAndName } from "./log.ts";
import type { Outbox } from "./outbox.ts";
import type { Address, CameraEntry, CameraRegistry } from "./registry.ts";
import { SendBuffers } from "./send_buffers.ts";
import type { Waker } from "./waker.ts";
import type { WakeMetrics } from "./wake_metrics.ts";

const utf8 = new TextEncoder();

/** The rsp the register answers an unknown, stale or over-budget camera with. */
const RSP_REFUSED = -1;
/** The cloud's (informational) rsp in R2D_R_R. */
const RSP_ANCHORED = -4;

/** What the register needs from the wake server. */
export interface RegisterDeps {
  now: () => number;
  /** Advisory `<timer><hb>` in R2D_HB_R, ms. */
  heartbeatMs: number;
  registry: CameraRegistry;
  anchors: Anchors;
  waker: Waker;
  outbox: Outbox;
  metrics: WakeMetrics;
  events: WakeEvents;
  warnings: RateLimitedWarnings;
  /**
   * Called when the registry changed (for persistence); `urgent` is false when only a
   * heartbeat time moved.
   */
  onChange?: (urgent: boolean) => void;
}

/** Answers `D2R_R`, `D2R_HB`, `C2R_C` and `D2R_DISC`; reports cameras coming and going. */
export class Register {
  /** Caps on "registered" and "deregistered" lines (a restart beside many cameras). */
  private readonly registeredLines = new LineBudget();
  private readonly deregisteredLines = new LineBudget();
  /** The R2D_HB_R body (UTF-8) of the current second: every heartbeat in that second gets it. */
  private heartbeatReply: { second: number; plain: Uint8Array } | undefined;
  private readonly sendBuffers = new SendBuffers();

  constructor(private readonly deps: RegisterDeps) {}

  /** D2R_R -> R2D_R_R {rsp -4, ac} only when the token matches the camera's anchor. */
  answerAnchor(msg: MessageOf<"D2R_R">, peer: Address, tid: number): void {
    const ac = this.deps.anchors.check(msg, peer);
    if (ac === undefined) return;
    this.deps.outbox.reply("register", message("R2D_R_R", { rsp: RSP_ANCHORED, ac }), tid, peer);
  }

  /** D2R_DISC -> R2D_DC_R for its sid. */
  answerDisconnect(msg: MessageOf<"D2R_DISC">, peer: Address, tid: number): void {
    const reply = message("R2D_DC_R", { sid: msg.fields.sid, rsp: 0 });
    this.deps.outbox.reply("register", reply, tid, peer);
  }

  /** D2R_HB: registry upsert from the UDP source; R2D_HB_R when needrsp is 1. */
  answerHeartbeat(msg: MessageOf<"D2R_HB">, peer: Address, tid: number): void {
    const { registry, events, outbox } = this.deps;
    const at = this.deps.now();
    const { uid, token, needrsp } = msg.fields;
    const upsert = registry.upsertHeartbeat(uid, peer, token, at);
    if (upsert.result === "full") {
      this.deps.metrics.drop("register", "registry_full");
      this.deps.warnings.warn(
        "registry_full",
        "Refusing camera {uid} at {ip}: registry full ({max} cameras, max_cameras)",
        { uid, ip: peer.ip, max: registry.maxCameras },
      );
      return;
    }
    if (upsert.result === "registered") {
      if (upsert.evicted.length > 0) this.deregistered(upsert.evicted, at);
      this.deps.metrics.registered.set(registry.size);
      if (this.registeredLines.take(at)) {
        logger.info(`Camera ${uidAndName(upsert.entry.name)} registered from {ip}:{port}`, {
          uid,
          name: upsert.entry.name,
          ...peer,
        });
      }
      events.emit({ type: "registered", uid, address: { ...peer }, at });
    } else {
      if (upsert.moved) logger.info("Camera {uid} moved to {ip}:{port}", { uid, ...peer });
      if (events.active) events.emit({ type: "heartbeat", uid, address: { ...peer }, at });
    }
    if (upsert.result === "registered" || upsert.moved) {
      void outbox.advertiser.resolve(peer.ip); // warm the cache for the first wake
    }
    this.deps.onChange?.(upsert.result === "registered" || upsert.moved);
    if (needrsp !== 1) return;
    const body = this.heartbeatReplyBody(at);
    const packet = writeDiscoveryPacket(
      body,
      tid,
      this.sendBuffers.take(HEADER_SIZE + body.length),
    );
    outbox.send("register", packet, "R2D_HB_R", peer);
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
        timer: { hb: this.deps.heartbeatMs },
      });
      this.heartbeatReply = { second, plain: utf8.encode(writeMessage(reply)) };
    }
    return this.heartbeatReply.plain;
  }

  /** C2R_C: wake the camera (burst) and tell the client where it is, or rsp -1. */
  async answerConnect(msg: MessageOf<"C2R_C">, peer: Address, tid: number): Promise<void> {
    const { waker, outbox } = this.deps;
    const entry = this.deps.registry.lookupFresh(msg.fields.uid);
    // A connect from this box itself is `bairelay wake` (or another local tool).
    const requester = { kind: isLoopback(peer.ip) ? "cli" : "client", address: peer.ip } as const;
    const outcome = entry === undefined
      ? waker.refuse(msg.fields.uid, requester)
      : waker.start(entry, requester, {
        cli: { ip: peer.ip, port: msg.fields.cli.port },
        cmap: { ip: peer.ip, port: peer.port },
        cid: msg.fields.cid,
        tid,
      });
    if (entry === undefined || (outcome.result !== "started" && outcome.result !== "in_flight")) {
      const refusal = message("R2C_C_R", { nat: "NULL", rsp: RSP_REFUSED, ac: 0 });
      outbox.reply("register", refusal, tid, peer);
      return;
    }
    const camera: IpPort = { ...entry.address };
    const relay = await outbox.registerEndpoint(peer.ip);
    const sid = outcome.sid;
    outbox.reply(
      "register",
      message("R2C_C_R", { dev: camera, dmap: camera, relay, nat: "NULL", sid, rsp: 0, ac: 0 }),
      tid,
      peer,
    );
    outbox.reply(
      "register",
      message("R2C_T", { dev: camera, dmap: camera, sid, cid: msg.fields.cid }),
      tid,
      peer,
    );
  }

  /**
   * Evicts stale cameras (event + info log each), and writes how many registrations and
   * evictions went unlogged over the per-second cap.
   */
  sweep(at: number): void {
    const evicted = this.deps.registry.sweep(at);
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
    this.deps.metrics.registered.set(this.deps.registry.size);
    for (const entry of evicted) {
      this.deps.waker.forget(entry.uid);
      if (this.deregisteredLines.take(at)) {
        logger.info(`Camera ${uidAndName(entry.name)} deregistered: no heartbeat for {ms} ms`, {
          uid: entry.uid,
          name: entry.name,
          ms: at - entry.lastHeartbeat,
        });
      }
      this.deps.events.emit({ type: "deregistered", uid: entry.uid, reason: "stale", at });
    }
  }

  /** Puts back cameras loaded from the state file. */
  restore(entries: readonly CameraEntry[]): number {
    const { registry, outbox } = this.deps;
    const restored = registry.restore(entries, this.deps.now());
    this.deps.metrics.registered.set(registry.size);
    for (const entry of registry.list()) void outbox.advertiser.resolve(entry.address.ip);
    return restored;
  }
}
