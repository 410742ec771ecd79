/**
 * Which of this host's addresses a peer reaches us on (or we reach it from): what the wake
 * server advertises in `reg`/`relay` under a wildcard bind, and what `wake` puts in `<cli>`.
 * Deno's sockets cannot report the local address the kernel chose for a peer, so the kernel is
 * asked (source_address.ts; `ip route get` where that cannot be used), with a guess from the
 * interface list as fallback.
 */

import { isLoopback, isWildcard } from "./ip.ts";
import { kernelSourceAddress } from "./source_address.ts";

/** Finds the kernel's source address for reaching `peerIp`, or undefined when unknown. */
export type RouteSource = (peerIp: string) => Promise<string | undefined>;

/** One local interface address, as `Deno.networkInterfaces()` lists it. */
export interface InterfaceAddress {
  family: "IPv4" | "IPv6";
  address: string;
  netmask: string;
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

/**
 * The kernel's answer for `peerIp`: through a connected socket (no program started), or
 * `ipRouteSource` where that cannot be asked (no `--allow-ffi`, not Linux).
 */
export const kernelRouteSource: RouteSource = (peerIp) => {
  const address = kernelSourceAddress(peerIp);
  if (address !== undefined) return Promise.resolve(address ?? undefined);
  return ipRouteSource(peerIp);
};

function ipv4ToNumber(ip: string): number {
  return ip.split(".").reduce((value, part) => (value * 256 + Number(part)) >>> 0, 0);
}

/**
 * The local address the kernel most likely uses to reach `peerIp`, from the interface list
 * alone: loopback peers get loopback; an IPv4 peer the interface whose subnet holds it; else
 * the first non-loopback (non-link-local) address of the peer's family (the usual home of
 * the default route); else loopback. Never a wildcard.
 */
export function guessLocalAddress(peerIp: string, interfaces: InterfaceAddress[]): string {
  const v6 = peerIp.includes(":");
  const loopback = v6 ? "::1" : "127.0.0.1";
  if (isLoopback(peerIp)) return loopback;
  const family = interfaces.filter((entry) => entry.family === (v6 ? "IPv6" : "IPv4"));
  if (!v6) {
    const wanted = ipv4ToNumber(peerIp);
    const onLink = family.find((entry) => {
      const mask = ipv4ToNumber(entry.netmask);
      return mask !== 0 && ((ipv4ToNumber(entry.address) & mask) >>> 0) === ((wanted & mask) >>> 0);
    });
    if (onLink) return onLink.address;
  }
  const routed = family.find((entry) =>
    !isLoopback(entry.address) && !entry.address.toLowerCase().startsWith("fe80")
  );
  return routed?.address ?? loopback;
}

/** The host's interfaces; none when not permitted (--allow-sys). */
export function systemInterfaces(): InterfaceAddress[] {
  try {
    return Deno.networkInterfaces();
  } catch {
    return [];
  }
}

/** Where `localAddressFor` looks (both replaceable in tests). */
export interface LocalAddressSources {
  /** Default `kernelRouteSource`. */
  routeSource?: RouteSource;
  /** Default `systemInterfaces`. */
  interfaces?: () => InterfaceAddress[];
}

/**
 * The local address for talking with `peerIp`: the kernel's routing answer, or, when it
 * cannot be asked, `guessLocalAddress` from the interfaces. Never a wildcard.
 */
export async function localAddressFor(
  peerIp: string,
  sources: LocalAddressSources = {},
): Promise<string> {
  const routed = await (sources.routeSource ?? kernelRouteSource)(peerIp).catch(() => undefined);
  if (routed !== undefined && !isWildcard(routed)) return routed;
  return guessLocalAddress(peerIp, (sources.interfaces ?? systemInterfaces)());
}

/**
 * A documentation address (RFC 5737 TEST-NET-1) whose route is the default route: asking the
 * kernel how it would reach it (a routing-table lookup that sends nothing) names the address of
 * the default-route interface.
 */
export const DEFAULT_ROUTE_PROBE = "192.0.2.1";

/**
 * The addresses to tell cameras about (the DNS answer for `p2p*.reolink.com`): the bind
 * address when it is specific; under a wildcard bind the default route's source address
 * first, then every other non-loopback, non-link-local IPv4 interface address. Empty when
 * this box has none (loopback only).
 */
export async function advertisedAddresses(
  bind: string,
  sources: LocalAddressSources = {},
): Promise<string[]> {
  if (!isWildcard(bind)) return [bind];
  const addresses: string[] = [];
  const routed = await (sources.routeSource ?? kernelRouteSource)(DEFAULT_ROUTE_PROBE)
    .catch(() => undefined);
  if (routed !== undefined && !isWildcard(routed) && !isLoopback(routed)) addresses.push(routed);
  for (const entry of (sources.interfaces ?? systemInterfaces)()) {
    if (entry.family !== "IPv4" || isLoopback(entry.address)) continue;
    if (entry.address.startsWith("169.254.") || addresses.includes(entry.address)) continue;
    addresses.push(entry.address);
  }
  return addresses;
}
