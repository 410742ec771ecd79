/**
 * The DNS responder's part of the config file, `[dns]`, and the options `startDnsServer` takes
 * (plain data, apart from server.ts so the config can name them without loading the responder).
 */

import type { ConfigReader, Table } from "../config/reader.ts";
import { PORT_BOUNDS, type SectionSpec, type SectionValues } from "../config/spec.ts";
import { ipVersion } from "../net/ip.ts";
import { parseListen } from "../net/listen_address.ts";
import { DEFAULT_NAMES, namePatternProblem } from "./names.ts";
import { DEFAULT_ALLOW_FROM, rangeProblem } from "./ranges.ts";
import { DNS_PORT, type Upstream } from "./upstreams.ts";

/** `[dns]`. */
export const DNS_SPEC = {
  enable: { type: "boolean", default: false, help: "run the DNS responder" },
  bind: { type: "string", help: "address it binds, UDP and TCP (default: the top-level bind)" },
  port: { ...PORT_BOUNDS, default: DNS_PORT, help: "DNS responder UDP+TCP port" },
  names: {
    type: "strings",
    default: DEFAULT_NAMES,
    max: 256,
    help: "names answered here (`*` matches within one label)",
  },
  answer: {
    type: "string",
    help: "fixed IPv4 answer (default: the address this box uses to reach the asking client)",
  },
  ttl: { type: "integer", default: 60, min: 0, max: 86_400, help: "TTL of those answers (s)" },
  forward: { type: "boolean", default: true, help: "forward every other name to upstreams" },
  upstreams: {
    type: "strings",
    max: 16,
    help: 'where to forward: "ip", "ip:port" or "[v6]:port" (default: /etc/resolv.conf)',
  },
  upstream_timeout_ms: {
    type: "integer",
    default: 2000,
    min: 100,
    max: 30_000,
    help: "wait for an upstream's answer this long before SERVFAIL (ms)",
  },
  max_inflight: {
    type: "integer",
    default: 512,
    min: 1,
    max: 65_536,
    help: "forwarded queries waiting at once; more get SERVFAIL",
  },
  allow_from: {
    type: "strings",
    default: DEFAULT_ALLOW_FROM,
    max: 256,
    help: "address ranges that may ask; others get REFUSED",
  },
  tcp_max_connections: {
    type: "integer",
    default: 64,
    min: 1,
    max: 65_536,
    help: "DNS-over-TCP connections open at once (more are closed at accept)",
  },
  tcp_idle_ms: {
    type: "integer",
    default: 10_000,
    min: 100,
    max: 300_000,
    help: "a TCP connection idle this long, or this slow to send one message, is closed (ms)",
  },
} as const satisfies SectionSpec;

type DnsValues = SectionValues<typeof DNS_SPEC>;

/** `[dns]` as read. */
export type DnsConfig = Omit<DnsValues, "bind" | "answer" | "upstreams"> & {
  bind: string;
  /** Fixed A answer; null = the address this box uses to reach the asking client. */
  answer: string | null;
  /** null = the nameservers of /etc/resolv.conf. */
  upstreams: Upstream[] | null;
};

/**
 * What `startDnsServer` needs: `[dns]` but `enable` (port 0 = any free port, for tests; the
 * TCP bounds default to the config file's), and the wake server's bind, `advertiseBind`: a
 * specific one is the answer, a wildcard means a routing lookup.
 */
export type DnsServerOptions =
  & Omit<DnsConfig, "enable" | "upstreams" | "tcpMaxConnections" | "tcpIdleMs">
  & Partial<Pick<DnsConfig, "tcpMaxConnections" | "tcpIdleMs">>
  & { advertiseBind: string; upstreams: readonly Upstream[] | null };

/** `[dns]`; `bind` is the top-level bind unless the section sets its own. */
export function readDns(reader: ConfigReader, dns: Table, bind: string): DnsConfig {
  const values = reader.values(dns, DNS_SPEC, "dns");
  const list = (
    key: string,
    items: readonly string[],
    problem: (item: string) => string | null,
  ) => {
    for (const item of items) {
      const rule = problem(item);
      if (rule) reader.fail(`dns.${key}`, `${JSON.stringify(item)}: ${rule}`);
    }
    return [...items];
  };
  const answer = reader.nonEmpty("dns.answer", values.answer);
  if (answer !== null && (ipVersion(answer) !== 4 || answer === "0.0.0.0")) {
    reader.fail(
      "dns.answer",
      `must be an IPv4 address of this box such as 192.168.1.10, not a wildcard (got ${
        JSON.stringify(answer)
      }); leave it out to answer with the address each client reaches this box on`,
    );
  }
  const upstreams = values.upstreams?.map((text) => {
    const parsed = ipVersion(text) !== 0 ? { host: text, port: DNS_PORT } : parseListen(text);
    if (parsed === null || parsed.host === "localhost") {
      reader.fail(
        "dns.upstreams",
        `${JSON.stringify(text)}: must be an IP address, "ip:port" or "[v6]:port"`,
      );
    }
    return parsed;
  }).filter((upstream) => upstream !== null) ?? null;
  return {
    ...values,
    bind: reader.address("dns.bind", values.bind, bind),
    names: list("names", values.names, namePatternProblem),
    answer: answer !== null && ipVersion(answer) === 4 ? answer : null,
    upstreams,
    allowFrom: list("allow_from", values.allowFrom, rangeProblem),
  };
}
