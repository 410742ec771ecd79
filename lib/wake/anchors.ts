/**
 * Session anchors between the two listeners: the middleman issues a fresh (token, ac) per
 * `D2M_Q`, the register answers a `D2R_R` only when it echoes the camera's unexpired token.
 * A camera that gets another `ac` back re-queries `D2M_Q` forever, hence the bookkeeping.
 */

import type { MessageOf } from "../bcudp/mod.ts";
import { logger, type RateLimitedWarnings } from "./log.ts";
import type { Address, SessionAnchor, SessionAnchors } from "./registry.ts";
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
