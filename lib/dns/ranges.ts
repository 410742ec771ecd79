/**
 * Address ranges as the `[dns] allow_from` setting writes them ("192.168.0.0/16", "fd00::/8",
 * or a single address): parsed and checked here, without `node:net`, so the configuration can
 * validate them without bringing up Deno's Node layer (megabytes of resident memory for
 * serve's whole life); `allow_list.ts` matches clients against them.
 */

import { ipVersion } from "../net/ip.ts";

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

/** One parsed range: its first address, prefix length and family. */
export interface Range {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/** Parses "a.b.c.d/n", "v6::/n" or a bare address (a single host); null when malformed. */
export function parseRange(text: string): Range | null {
  const [address, prefixText, ...rest] = text.trim().split("/");
  if (rest.length > 0) return null;
  const version = ipVersion(address);
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
