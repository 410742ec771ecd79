/**
 * Which clients the DNS responder serves: address ranges ("192.168.0.0/16", "fd00::/8", or a
 * single address). Everyone else gets REFUSED, so the responder is never an open resolver
 * that strangers can use (or aim at a victim) from the internet.
 */

import { BlockList, isIP } from "node:net";

/** Loopback, RFC 1918 private, link-local, and IPv6 unique-local ranges: a home LAN. */
export const DEFAULT_ALLOW_FROM: readonly string[] = [
  "127.0.0.0/8",
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "169.254.0.0/16",
  "::1/128",
  "fe80::/10",
  "fc00::/7",
];

interface Range {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** Parses "a.b.c.d/n", "v6::/n" or a bare address (a single host); null when malformed. */
function parseRange(text: string): Range | null {
  const [address, prefixText, ...rest] = text.trim().split("/");
  if (rest.length > 0) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const bits = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return null;
  return { address, prefix, family: version === 4 ? "ipv4" : "ipv6" };
}

/** Why `text` is not a usable range, or null when it is. */
export function rangeProblem(text: string): string | null {
  return parseRange(text) === null
    ? 'must be an address or a range such as "192.168.1.0/24" or "fd00::/8"'
    : null;
}

/** A set of address ranges to test client addresses against. */
export class AllowList {
  private readonly blocks = new BlockList();

  /** `ranges` must pass `rangeProblem` (RangeError otherwise). */
  constructor(ranges: readonly string[]) {
    for (const text of ranges) {
      const range = parseRange(text);
      if (range === null) throw new RangeError(`allow_from ${text}: ${rangeProblem(text)}`);
      this.blocks.addSubnet(range.address, range.prefix, range.family);
    }
  }

  /** True when `ip` lies in one of the ranges (an IPv4-mapped IPv6 address counts as IPv4). */
  allows(ip: string): boolean {
    const version = isIP(ip);
    if (version === 0) return false;
    return this.blocks.check(ip, version === 4 ? "ipv4" : "ipv6");
  }
}
