/**
 * What the wake server sends: every packet goes out through here and is counted, and every
 * address handed to a peer is ours, on the bound register port.
 */

import { encodeDiscovery, type IpPort, type Message, type VariantName } from "../bcudp/mod.ts";
import type { AddressAdvertiser } from "../net/advertiser.ts";
import type { Address } from "./registry.ts";
import type { ListenerName } from "./types.ts";
import type { WakeMetrics } from "./wake_metrics.ts";

/** Sends bytes from one of the listeners. */
export type SendFn = (listener: ListenerName, bytes: Uint8Array, to: Address) => void;

/** Sends and counts the wake server's packets; knows the address it advertises. */
export class Outbox {
  /** The actually bound register port, advertised in every address we hand out. */
  registerPort: number;

  constructor(
    private readonly sendFn: SendFn,
    readonly advertiser: AddressAdvertiser,
    private readonly metrics: WakeMetrics,
    registerPort: number,
  ) {
    this.registerPort = registerPort;
  }

  /** Encodes `msg` with the request's `tid` and sends it to `to` (the UDP source). */
  reply(listener: ListenerName, msg: Message, tid: number, to: Address): void {
    this.send(listener, encodeDiscovery(msg, tid, { validate: false }), msg.variant, to);
  }

  /** Sends an encoded `variant` packet to `to` and counts it. */
  send(listener: ListenerName, packet: Uint8Array, variant: VariantName, to: Address): void {
    this.sendFn(listener, packet, to);
    this.metrics.packetsOut.inc(listener, variant);
  }

  /** Our register address as `peerIp` reaches it. */
  async registerEndpoint(peerIp: string): Promise<IpPort> {
    const ip = this.advertiser.cached(peerIp) ?? await this.advertiser.resolve(peerIp);
    return { ip, port: this.registerPort };
  }
}
