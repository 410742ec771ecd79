/**
 * Where the DNS responder forwards names it does not answer itself: the configured upstreams,
 * or by default the `nameserver` lines of /etc/resolv.conf, never the responder itself (that
 * would send every forwarded query round in a loop).
 */

import { ipVersion, isLoopback, isWildcard } from "../net/ip.ts";

/** A DNS server to forward to. */
export interface Upstream {
  host: string;
  port: number;
}

/** The standard DNS port. */
export const DNS_PORT = 53;
/** Where the system's resolvers are listed. */
export const RESOLV_CONF = "/etc/resolv.conf";

/** The `nameserver` addresses of a resolv.conf text, in order (malformed or scoped ones left out). */
export function resolvConfNameservers(text: string): string[] {
  const servers: string[] = [];
  for (const line of text.split("\n")) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    if (match && ipVersion(match[1]) !== 0) servers.push(match[1]);
  }
  return servers;
}

/** Reads the system's resolvers from `path` as upstreams on port 53; none when unreadable. */
export function systemUpstreams(path = RESOLV_CONF): Upstream[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    return [];
  }
  return resolvConfNameservers(text).map((host) => ({ host, port: DNS_PORT }));
}

/**
 * True when `upstream` is the responder's own listener (`bind`:`port`): the same address, or,
 * under a wildcard bind, any loopback or local address (`localAddresses`) on that port.
 */
export function isSelf(
  upstream: Upstream,
  listener: Upstream,
  localAddresses: readonly string[],
): boolean {
  if (upstream.port !== listener.port) return false;
  if (upstream.host === listener.host) return true;
  return isWildcard(listener.host) &&
    (isLoopback(upstream.host) || localAddresses.includes(upstream.host));
}
