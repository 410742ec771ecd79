/**
 * The route table: which request variants each listener answers and which role answers
 * them, and the dispatch of a received datagram through it. Anything else is dropped and
 * counted.
 */

import {
  decodeDatagramLenient,
  DocumentCache,
  type Message,
  type MessageOf,
  type VariantName,
} from "../bcudp/mod.ts";
import { logger } from "./log.ts";
import type { Middleman } from "./middleman.ts";
import type { Register } from "./register.ts";
import type { Address } from "./registry.ts";
import type { ListenerName } from "./types.ts";
import { NON_DISCOVERY_VARIANT, type WakeMetrics } from "./wake_metrics.ts";
import type { Waker } from "./waker.ts";

/** The roles a request can be routed to. */
export interface WakeRoles {
  middleman: Middleman;
  register: Register;
  waker: Waker;
}

type Handler<V extends VariantName> = (
  roles: WakeRoles,
  msg: MessageOf<V>,
  peer: Address,
  tid: number,
) => void | Promise<void>;

type Routes = { [V in VariantName]?: Handler<V> };

/** Which requests each listener answers; anything else is dropped and counted. */
const ROUTES: Record<ListenerName, Routes> = {
  middleman: {
    C2M_Q: (roles, _msg, peer, tid) => roles.middleman.answerClientQuery(peer, tid),
    D2M_Q: (roles, msg, peer, tid) => roles.middleman.answerDeviceQuery(msg.fields.uid, peer, tid),
  },
  register: {
    D2R_R: (roles, msg, peer, tid) => roles.register.answerAnchor(msg, peer, tid),
    D2R_HB: (roles, msg, peer, tid) => roles.register.answerHeartbeat(msg, peer, tid),
    C2R_C: (roles, msg, peer, tid) => roles.register.answerConnect(msg, peer, tid),
    D2R_DISC: (roles, msg, peer, tid) => roles.register.answerDisconnect(msg, peer, tid),
    D2R_C_R: (roles, msg, peer) => roles.waker.confirm(msg.fields.sid, "D2R_C_R", peer),
    C2R_CFM: (roles, msg, peer) => roles.waker.confirm(msg.fields.sid, "C2R_CFM", peer),
  },
};

/** Decodes datagrams and hands each request to the role ROUTES names. */
export class Router {
  /**
   * The decoder's options, made once rather than per datagram: the documents seen before
   * (each camera repeats its D2R_HB), which need no parse.
   */
  private readonly decodeOptions = { documents: new DocumentCache() };

  constructor(private readonly roles: WakeRoles, private readonly metrics: WakeMetrics) {}

  /** Decodes one datagram received by `listener` from `peer` and answers it. Never throws. */
  handleDatagram(listener: ListenerName, bytes: Uint8Array, peer: Address): void {
    const { packets, error } = decodeDatagramLenient(bytes, this.decodeOptions);
    if (error !== undefined) {
      this.metrics.decodeErrors.inc({ listener, reason: error.reason });
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
        this.metrics.packetsIn.inc(listener, NON_DISCOVERY_VARIANT[packet.kind]);
        this.metrics.drop(listener, "not_discovery");
        continue;
      }
      const msg = packet.message;
      this.metrics.packetsIn.inc(listener, msg.variant);
      if (logger.isEnabledFor("debug")) {
        logger.debug("{variant} from {ip}:{port} on {listener}", {
          variant: msg.variant,
          listener,
          ...peer,
        });
      }
      const handler = ROUTES[listener][msg.variant] as Handler<VariantName> | undefined;
      if (handler === undefined) {
        this.metrics.drop(listener, "unexpected_variant");
        continue;
      }
      try {
        const pending = handler(this.roles, msg as MessageOf<VariantName>, peer, packet.tid);
        if (pending !== undefined) pending.catch((e) => this.handlerFailed(listener, msg, e));
      } catch (e) {
        this.handlerFailed(listener, msg, e);
      }
    }
  }

  private handlerFailed(listener: ListenerName, msg: Message, error: unknown): void {
    this.metrics.drop(listener, "handler_error");
    logger.error("Handling {variant} on {listener} failed: {error}", {
      variant: msg.variant,
      listener,
      error,
    });
  }
}
