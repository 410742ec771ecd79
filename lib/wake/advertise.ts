/**
 * The address the wake server puts in `reg`/`relay`/`log`/`t`: never `0.0.0.0` or `::`.
 * Bound to a specific address, that address. Bound to a wildcard, the local address the
 * kernel would use to reach the peer (asked with `ip route get`, the same source-address
 * selection a connected socket gets), cached per peer.
 */

/** Finds the kernel's source address for reaching `peerIp`, or undefined when unknown. */
export type RouteSource = (peerIp: string) => Promise<string | undefined>;

/** True for `0.0.0.0`, `::` and the empty string. */
export function isWildcard(address: string): boolean {
  return address === "" || address === "0.0.0.0" || address === "::" || address === "[::]";
}

const IP_CANDIDATES = ["ip", "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"];
const SRC_PATTERN = /\bsrc\s+([0-9a-fA-F.:]+)/;

/**
 * Asks the kernel's routing table via `ip route get <peer>` and reads its `src`. Works
 * with iproute2 and busybox; needs permission to run `ip` (undefined otherwise).
 */
export const ipRouteSource: RouteSource = async (peerIp) => {
  for (const program of IP_CANDIDATES) {
    try {
      const output = await new Deno.Command(program, {
        args: ["route", "get", peerIp],
        stdout: "piped",
        stderr: "null",
        stdin: "null",
      }).output();
      if (!output.success) return undefined;
      const match = SRC_PATTERN.exec(new TextDecoder().decode(output.stdout));
      return match?.[1];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      return undefined;
    }
  }
  return undefined;
};

function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1";
}

/**
 * The fallback when routing cannot be asked: loopback peers get 127.0.0.1, others the
 * first non-loopback address of the same family (or 127.0.0.1 when there is none).
 */
export function fallbackSource(peerIp: string): string {
  const v6 = peerIp.includes(":");
  if (isLoopback(peerIp)) return v6 ? "::1" : "127.0.0.1";
  try {
    const family = v6 ? "IPv6" : "IPv4";
    const candidate = Deno.networkInterfaces().find((i) =>
      i.family === family && !isLoopback(i.address) && !i.address.startsWith("fe80")
    );
    if (candidate !== undefined) return candidate.address;
  } catch { /* no --allow-sys: fall through */ }
  return v6 ? "::1" : "127.0.0.1";
}

/** Options for an AddressAdvertiser. */
export interface AdvertiserOptions {
  /** The address the listeners are bound to. */
  bind: string;
  /** How to ask for the source address (default `ipRouteSource`). */
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
  private readonly routeSource: RouteSource;
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(options: AdvertiserOptions) {
    this.fixed = isWildcard(options.bind) ? undefined : options.bind;
    this.routeSource = options.routeSource ?? ipRouteSource;
    this.maxEntries = options.maxEntries ?? MAX_ADVERTISE_CACHE;
    this.ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** How many peers are cached. */
  get cacheSize(): number {
    return this.cache.size;
  }

  /** The address for `peerIp` if known right now (no routing lookup). */
  cached(peerIp: string): string | undefined {
    if (this.fixed !== undefined) return this.fixed;
    const hit = this.cache.get(peerIp);
    if (hit === undefined || this.now() - hit.at > this.ttlMs) return undefined;
    return hit.address;
  }

  /** The address for `peerIp`, asking the routing table on a cache miss. */
  resolve(peerIp: string): Promise<string> {
    const known = this.cached(peerIp);
    if (known !== undefined) return Promise.resolve(known);
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
    let address = await this.routeSource(peerIp).catch(() => undefined);
    if (address === undefined || isWildcard(address)) address = fallbackSource(peerIp);
    this.cache.delete(peerIp);
    this.cache.set(peerIp, { address, at: this.now() });
    while (this.cache.size > this.maxEntries) {
      this.cache.delete(this.cache.keys().next().value!);
    }
    return address;
  }
}
