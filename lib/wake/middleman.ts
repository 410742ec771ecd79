/**
 * The middleman (UDP 9999): tells clients and cameras where the register is, which is always
 * us. Cameras get the cloud's exact `M2D_Q_R` shape and a fresh anchor; one shaped like
 * `M2C_Q_R` is silently ignored by them.
 */

import { message } from "../bcudp/mod.ts";
import type { Anchors } from "./anchors.ts";
import type { Outbox } from "./outbox.ts";
import type { Address } from "./registry.ts";

/** Answers `C2M_Q` and `D2M_Q`. */
export class Middleman {
  constructor(private readonly outbox: Outbox, private readonly anchors: Anchors) {}

  /** C2M_Q -> M2C_Q_R: every address is ours (register port). */
  async answerClientQuery(peer: Address, tid: number): Promise<void> {
    const us = await this.outbox.registerEndpoint(peer.ip);
    this.outbox.reply(
      "middleman",
      message("M2C_Q_R", { reg: us, relay: us, log: us, t: us }),
      tid,
      peer,
    );
  }

  /** D2M_Q -> M2D_Q_R in the cloud's exact shape, with a fresh (token, ac) anchor. */
  async answerDeviceQuery(uid: string, peer: Address, tid: number): Promise<void> {
    const anchor = this.anchors.issue(uid, peer);
    if (anchor === undefined) return;
    const us = await this.outbox.registerEndpoint(peer.ip);
    const reply = message("M2D_Q_R", {
      reg: us,
      log: us,
      timer: true,
      retry: true,
      rsp: 0,
      token: anchor.token,
      ac: anchor.ac,
    });
    this.outbox.reply("middleman", reply, tid, peer);
  }
}
