/** The DNS responder's options as plain data (kept apart so lib/config.ts can name them). */

import type { Upstream } from "./upstreams.ts";

/** What `startDnsServer` needs: plain data, as `[dns]` describes it. */
export interface DnsServerOptions {
  bind: string;
  /** 0 = any free port (tests). */
  port: number;
  names: readonly string[];
  /** Fixed A answer; null = the address this box uses to reach the asking client. */
  answer: string | null;
  /** The wake server's bind: a specific one is the answer, a wildcard means a routing lookup. */
  advertiseBind: string;
  ttl: number;
  forward: boolean;
  /** null = the nameservers of /etc/resolv.conf. */
  upstreams: readonly Upstream[] | null;
  upstreamTimeoutMs: number;
  maxInflight: number;
  allowFrom: readonly string[];
  tcpMaxConnections?: number;
  tcpIdleMs?: number;
}
