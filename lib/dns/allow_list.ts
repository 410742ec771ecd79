/**
 * Which clients the DNS responder serves: address ranges ("192.168.0.0/16", "fd00::/8", or a
 * single address). Everyone else gets REFUSED, so the responder is never an open resolver
 * that strangers can use (or aim at a victim) from the internet. The ranges' syntax is in
 * `ranges.ts`.
 */

import { BlockList } from "node:net";
import { ipVersion } from "../net/ip.ts";
import { parseRange, rangeProblem } from "./ranges.ts";

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
    const version = ipVersion(ip);
    if (version === 0) return false;
    return this.blocks.check(ip, version === 4 ? "ipv4" : "ipv6");
  }
}
