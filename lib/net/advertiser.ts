/**
 * The address to tell a peer to reach us on: what the wake server puts in
 * `reg`/`relay`/`log`/`t` and what the DNS responder answers; never `0.0.0.0` or `::`. Bound
 * to a specific address, that address. Bound to a wildcard, the local address the kernel
 * would use to reach the peer (local_address.ts), cached per peer.
 */

import { isWildcard } from "./ip.ts";
import { localAddressFor, type RouteSource } from "./local_address.ts";

/** Options for an AddressAdvertiser. */
export interface AdvertiserOptions {
  /** The address the listeners are bound to. */
  bind: string;
  /** How to ask for the source address (default `kernelRouteSource`). */
  routeSource?: RouteSource;
  /** Most peers remembered (oldest forgotten first). */
  maxEntries?: number;
  /** How long an answer is trusted, in ms (addresses change with DHCP). */
  ttlMs?: number;
  now?: () => number;
}

/** Default bound on the per-peer cache. */
export const MAX_ADVERTISE_CACHE = 1024;
const DEFAULT_TTL_MS = 5 * 60_000;

/** Answers "which of our addresses does this peer reach us on", with a bounded cache. */
export class AddressAdvertiser {
  private readonly cache = new Map<string, { address: string; at: number }>();
  private readonly pending = new Map<string, Promise<string>>();
  private readonly fixed: string | undefined;
  private readonly routeSource: RouteSource | undefined;
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: AdvertiserOptions) {
    this.fixed = isWildcard(options.bind) ? undefined : options.bind;
    this.routeSource = options.routeSource;
    this.maxEntries = options.maxEntries ?? MAX_ADVERTISE_CACHE;
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** How many peers are cached. */
  get cacheSize(): number {
    return this.cache.size;
  }

  /**
   * The address for `peerIp` if known right now (no routing lookup). An answer older than
   * the TTL is still returned, and a fresh lookup starts behind it: a wake must not wait
   * for a routing lookup because its camera has been heartbeating for a while.
   */
  cached(peerIp: string): string | undefined {
    if (this.fixed !== undefined) return this.fixed;
    const hit = this.cache.get(peerIp);
    if (hit === undefined) return undefined;
    if (this.now() - hit.at > this.ttlMs) this.startLookup(peerIp).catch(() => {});
    return hit.address;
  }

  /** The address for `peerIp`, asking the routing table on a cache miss. */
  resolve(peerIp: string): Promise<string> {
    const known = this.cached(peerIp);
    if (known !== undefined) return Promise.resolve(known);
    return this.startLookup(peerIp);
  }

  /** One routing lookup per peer at a time. */
  private startLookup(peerIp: string): Promise<string> {
    let lookup = this.pending.get(peerIp);
    if (lookup === undefined) {
      lookup = this.lookup(peerIp).finally(() => this.pending.delete(peerIp));
      this.pending.set(peerIp, lookup);
    }
    return lookup;
  }

  /** Waits for lookups in progress (so a closing server leaves no subprocess behind). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.pending.values()]);
  }

  private async lookup(peerIp: string): Promise<string> {
    const address = await localAddressFor(peerIp, { routeSource: this.routeSource });
    this.cache.delete(peerIp);
    this.cache.set(peerIp, { address, at: this.now() });
    while (this.cache.size > this.maxEntries) {
      this.cache.delete(this.cache.keys().next().value!);
    }
    return address;
  }
}
