/**
 * Session anchors between the two listeners: the middleman issues a fresh (token, ac) per
 * `D2M_Q`, the register answers a `D2R_R` only when it echoes the camera's unexpired token.
 * A camera that gets another `ac` back re-queries `D2M_Q` forever, hence the bookkeeping.
 */

import type { MessageOf } from "../bcudp/mod.ts";
import { logger, type RateLimitedWarnings } from "./log.ts";
import type { Address } from "./registry.ts";
import type { WakeMetrics } from "./wake_metrics.ts";

/** What the anchors need from the wake server. */
export interface AnchorsDeps {
  now: () => number;
  randomU32: () => number;
  randomU64: () => bigint;
  metrics: WakeMetrics;
  warnings: RateLimitedWarnings;
}

/** Issues and checks the session anchors `held` (bounded by its `maxAnchors`, its TTL). */
export class Anchors {
  constructor(private readonly held: SessionAnchors, private readonly deps: AnchorsDeps) {}

  /**
   * A fresh anchor for the camera `uid` asking from `peer`; undefined (counted as dropped,
   * warned about) when `maxAnchors` other cameras hold one.
   */
  issue(uid: string, peer: Address): SessionAnchor | undefined {
    const anchor = {
      token: this.deps.randomU64(),
      ac: this.deps.randomU32() >>> 0,
      issuedAt: this.deps.now(),
    };
    if (this.held.issue(uid, anchor)) return anchor;
    this.deps.metrics.drop("middleman", "anchors_full");
    this.deps.warnings.warn(
      "anchors_full",
      "Refusing D2M_Q from camera {uid} at {ip}: {max} anchors held (max_anchors)",
      { uid, ip: peer.ip, max: this.held.maxAnchors },
    );
    return undefined;
  }

  /** The `ac` to answer a `D2R_R` with; undefined (dropped, with the reason) when it is not. */
  check(msg: MessageOf<"D2R_R">, peer: Address): number | undefined {
    const check = this.held.check(msg.fields.uid, msg.fields.token, this.deps.now());
    if ("ac" in check) return check.ac;
    this.deps.metrics.drop("register", check.refused);
    logger.debug("Dropping D2R_R from {uid} at {ip}:{port}: {why}", {
      uid: msg.fields.uid,
      ...peer,
      why: check.refused,
    });
    return undefined;
  }
}

/** The `(token, ac)` pair issued to one camera by `M2D_Q_R`. */
export interface SessionAnchor {
  token: bigint;
  ac: number;
  issuedAt: number;
}

/**
 * Per-UID session anchors: the middleman writes one on `D2M_Q`, the register reads it on
 * `D2R_R` and answers only when the echoed token matches. Bounded by `maxAnchors`;
 * anchors older than `ttlMs` are forgotten.
 */
export class SessionAnchors {
  private readonly anchors = new Map<string, SessionAnchor>();

  constructor(readonly maxAnchors: number, readonly ttlMs: number) {}

  /** How many anchors are held. */
  get size(): number {
    return this.anchors.size;
  }

  /** Stores a fresh anchor for `uid`; false when full of other, unexpired UIDs. */
  issue(uid: string, anchor: SessionAnchor): boolean {
    if (!this.anchors.has(uid) && this.anchors.size >= this.maxAnchors) {
      this.sweep(anchor.issuedAt);
      if (this.anchors.size >= this.maxAnchors) return false;
    }
    this.anchors.set(uid, anchor);
    return true;
  }

  /**
   * Checks a `D2R_R`: the anchor's ac when `token` matches an unexpired anchor for `uid`,
   * otherwise why not.
   */
  check(
    uid: string,
    token: bigint,
    at: number,
  ): { ac: number } | { refused: "no_anchor" | "token_mismatch" } {
    const anchor = this.anchors.get(uid);
    if (anchor === undefined || at - anchor.issuedAt > this.ttlMs) return { refused: "no_anchor" };
    if (anchor.token !== token) return { refused: "token_mismatch" };
    return { ac: anchor.ac };
  }

  /** Forgets expired anchors. */
  sweep(at: number): void {
    for (const [uid, anchor] of this.anchors) {
      if (at - anchor.issuedAt > this.ttlMs) this.anchors.delete(uid);
    }
  }
}
