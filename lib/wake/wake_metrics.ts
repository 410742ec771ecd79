/**
 * The wake server's metrics: every counter series it can bump exists at 0 from the start, so
 * none appears only after its first event.
 */

import { BCUDP_ERROR_REASONS, VARIANT_NAMES, type VariantName } from "../bcudp/mod.ts";
import { CounterByPair, type Metrics } from "../metrics.ts";
import type { ListenerName, WakeOutcome } from "./types.ts";

/**
 * The `variant` label of packets that are not Discovery packets (which carry no message):
 * in the same upper-case style as the message names.
 */
export const NON_DISCOVERY_VARIANT: Record<"data" | "ack" | "relay", string> = {
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

/** Why a packet is dropped. */
export type DropReason = typeof DROP_REASONS[number];

/** Every result a wake request can have (`bairelay_wakes_total`'s `result`). */
const WAKE_RESULTS: readonly WakeOutcome["result"][] = [
  "started",
  "in_flight",
  "over_budget",
  "not_registered",
  "unknown",
];

/** Upper bounds (seconds) of the wake confirmation histogram: a burst lasts about a second. */
const WAKE_CONFIRM_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/** The wake server's series in the process-wide `Metrics`. */
export class WakeMetrics {
  readonly decodeErrors;
  readonly wakes;
  readonly confirmed;
  readonly confirmSeconds;
  /** Packets received and sent, by listener and variant (bumped for every packet). */
  readonly packetsIn: CounterByPair;
  readonly packetsOut: CounterByPair;
  /** Cameras in the registry. */
  readonly registered;
  private readonly dropped;

  constructor(m: Metrics) {
    const packets = m.counter(
      "bairelay_packets_total",
      "BcUdp packets received, by listener and variant",
    );
    this.decodeErrors = m.counter(
      "bairelay_decode_errors_total",
      "Datagrams that failed to decode, by listener and reason",
    );
    const replies = m.counter("bairelay_replies_total", "Packets sent, by listener and variant");
    this.dropped = m.counter("bairelay_dropped_total", "Packets dropped, by listener and reason");
    this.wakes = m.counter("bairelay_wakes_total", "Wake requests, by result");
    this.confirmed = m.counter(
      "bairelay_wakes_confirmed_total",
      "Wakes the camera (D2R_C_R) or client (C2R_CFM) confirmed, by variant",
    );
    this.confirmSeconds = m.histogram(
      "bairelay_wake_confirm_seconds",
      "Seconds from a wake's start (C2R_C, API, MQTT or motion) to the camera's D2R_C_R",
      WAKE_CONFIRM_BUCKETS_S,
    );
    for (const listener of ["middleman", "register"] as const) {
      for (const variant of [...VARIANT_NAMES, ...Object.values(NON_DISCOVERY_VARIANT)]) {
        packets.inc({ listener, variant }, 0);
      }
      for (const variant of REPLIES[listener]) replies.inc({ listener, variant }, 0);
      for (const reason of BCUDP_ERROR_REASONS) this.decodeErrors.inc({ listener, reason }, 0);
      for (const reason of DROP_REASONS) this.dropped.inc({ listener, reason }, 0);
    }
    for (const result of WAKE_RESULTS) this.wakes.inc({ result }, 0);
    for (const variant of ["D2R_C_R", "C2R_CFM"]) this.confirmed.inc({ variant }, 0);
    this.packetsIn = new CounterByPair(packets, "listener", "variant");
    this.packetsOut = new CounterByPair(replies, "listener", "variant");
    this.registered = m.gauge("bairelay_registered_cameras", "Cameras in the registry");
    this.registered.set(0);
  }

  /** Counts a packet `listener` dropped. */
  drop(listener: ListenerName, reason: DropReason): void {
    this.dropped.inc({ listener, reason });
  }
}
