/**
 * The DNS check: does each resolver asked send every Reolink host name to this box (or to
 * `--expect`)? Each name's answer is classified; names with the same answer are shown on one
 * line; the verdict and remedy follow from the mix of classes (all here, none here, a mix
 * across the p2p names, only pushx missing, a silent or broken server).
 */

import { isLoopback } from "../net/ip.ts";
import { P2P_HOSTS, PUSH_HOST, redirectAdvice, REOLINK_HOSTS } from "../reolink_hosts.ts";
import type { DnsOutcome } from "./dns_client.ts";
import type { DoctorFacts, ResolverAnswers } from "./facts.ts";
import { type CheckResult, result, type Verdict } from "./result.ts";

/** What one answer means for the set-up. */
export type AnswerClass =
  | "here" // every address is this box (or --expect)
  | "partly" // some addresses are, some are not
  | "cloud" // a public address that is not this box: presumably still Reolink's cloud
  | "lan" // a private address of another machine
  | "blocked" // 0.0.0.0: a blocklist's sinkhole
  | "empty" // no A record
  | "nxdomain"
  | "error" // REFUSED, SERVFAIL, ...
  | "timeout"
  | "garbage"
  | "failed";

/** Where the addresses that count as "here" come from. */
export interface HereAddresses {
  box: readonly string[];
  expected: readonly string[];
}

/** Private, shared and link-local IPv4 ranges (RFC 1918, 6598, 3927) as [first octets, bits]. */
const PRIVATE_V4: readonly [number, number, number][] = [
  [10, 0, 8],
  [172, 16, 12],
  [192, 168, 16],
  [100, 64, 10],
  [169, 254, 16],
];

/** True for an RFC 1918, CGNAT or link-local IPv4 address. */
export function isPrivateIpv4(ip: string): boolean {
  const [a, b] = ip.split(".").map(Number);
  return PRIVATE_V4.some(([first, second, bits]) => {
    if (a !== first) return false;
    const mask = bits === 8 ? 0 : (0xff << (16 - bits)) & 0xff;
    return (b & mask) === second;
  });
}

/** Labels an address: "(this box)", "(--expect)" or "" when neither. */
function hereLabel(ip: string, here: HereAddresses): string {
  if (here.expected.includes(ip)) return " (--expect)";
  if (isLoopback(ip) || here.box.includes(ip)) return " (this box)";
  return "";
}

/** Classifies one answer and writes it as text ("192.168.1.10 (this box)", "NXDOMAIN", ...). */
export function classifyAnswer(
  outcome: DnsOutcome,
  here: HereAddresses,
): { kind: AnswerClass; text: string } {
  switch (outcome.kind) {
    case "nxdomain":
      return { kind: "nxdomain", text: "NXDOMAIN (no such name)" };
    case "error":
      return { kind: "error", text: outcome.rcode };
    case "timeout":
      return { kind: "timeout", text: `no answer within ${outcome.ms} ms` };
    case "garbage":
      return { kind: "garbage", text: `not a DNS answer: ${outcome.detail}` };
    case "failed":
      return { kind: "failed", text: `query not sent: ${outcome.detail}` };
  }
  const addresses = outcome.addresses;
  if (addresses.length === 0) return { kind: "empty", text: "no address (no A record)" };
  const labelled = addresses.map((ip) => `${ip}${hereLabel(ip, here)}`).join(", ");
  const isHere = addresses.map((ip) => hereLabel(ip, here) !== "");
  if (isHere.every(Boolean)) return { kind: "here", text: labelled };
  if (isHere.some(Boolean)) return { kind: "partly", text: `${labelled}: not all this box` };
  if (addresses.every((ip) => ip === "0.0.0.0")) {
    return { kind: "blocked", text: "0.0.0.0 (blocked by a blocklist)" };
  }
  if (addresses.some((ip) => !isPrivateIpv4(ip))) {
    return { kind: "cloud", text: `${labelled} (not this box: Reolink's cloud, presumably)` };
  }
  return { kind: "lan", text: `${labelled} (another machine on the LAN)` };
}

/** "p2p.reolink.com, p2p1..p2p11.reolink.com" for the full P2P set; names joined otherwise. */
export function nameList(names: readonly string[]): string {
  if (P2P_HOSTS.every((name) => names.includes(name))) {
    const rest = names.filter((name) => !P2P_HOSTS.includes(name));
    return [`p2p.reolink.com, p2p1..p2p${P2P_HOSTS.length - 1}.reolink.com`, ...rest].join(", ");
  }
  return names.join(", ");
}

/** How a resolver is named in the output. */
function resolverLabel(resolver: ResolverAnswers): string {
  switch (resolver.source) {
    case "system":
      return `system resolver ${resolver.server}`;
    case "flag":
      return `--dns ${resolver.server}`;
    case "serve":
      return `serve's DNS responder ${resolver.server}`;
  }
}

/** What to do for each class of wrong answer. */
const REMEDY_BY_CLASS: Partial<Record<AnswerClass, string>> = {
  nxdomain:
    "The resolver answers NXDOMAIN: the names are blocked (blocklist?) or not overridden; " +
    "a camera that cannot resolve them never registers. Replace any block with an override.",
  blocked: "The resolver blocks the names (answers 0.0.0.0): remove them from its blocklist and " +
    "override them instead.",
  error: "The server refuses or fails the query: is this box (and the cameras' network) allowed " +
    "to use it, and does it know or forward these names?",
  lan: "The names point at another machine: if `serve` runs there, pass --expect ADDRESS; " +
    "otherwise fix the override.",
  partly: "Each name must resolve only to this box: a camera may pick any address in the answer.",
  timeout: "No answer in time: is this the DNS server the cameras use (see the router's DHCP " +
    "settings), is it running, and does a firewall let UDP through to it? A slow server: " +
    "raise --dns-timeout.",
  garbage:
    "Whatever listens there is not a DNS server (or a broken one): check the address and port.",
  failed: "The query could not be sent: check the address and this box's network.",
};

/** The DNS check for one resolver. */
export function resolverCheck(
  resolver: ResolverAnswers,
  facts: Pick<DoctorFacts, "here" | "adviseAddresses" | "dnsTimeoutMs">,
  options: { advisory: boolean },
): CheckResult {
  const label = resolverLabel(resolver);
  const id = `dns.${resolver.source}.${resolver.server}`;
  const classified = resolver.answers.map(({ name, outcome }) => ({
    name,
    ...classifyAnswer(outcome, facts.here),
  }));
  const byText = new Map<string, string[]>();
  for (const answer of classified) {
    byText.set(answer.text, [...byText.get(answer.text) ?? [], answer.name]);
  }
  const details = [...byText].map(([text, names]) => `${nameList(names)} -> ${text}`);
  const kindOf = (name: string) => classified.find((answer) => answer.name === name)!.kind;
  const p2pHere = P2P_HOSTS.filter((name) => kindOf(name) === "here");
  const wrongKinds = new Set(classified.filter((a) => a.kind !== "here").map((a) => a.kind));
  const advice = redirectAdvice(facts.adviseAddresses);
  const remedy = [
    ...[...wrongKinds].map((kind) => REMEDY_BY_CLASS[kind]).filter((text) => text !== undefined),
    advice,
  ].join(" ");
  const downgrade = (verdict: Verdict): Verdict =>
    options.advisory && verdict === "problem" ? "warning" : verdict;
  const advisoryNote = options.advisory
    ? " (this box's own resolver; the cameras' resolver, asked with --dns, is what counts)"
    : "";

  if (wrongKinds.size === 0) {
    return result("dns", id, "ok", `${label}: all ${REOLINK_HOSTS.length} names resolve here`, {
      details,
    });
  }
  if (classified.every((answer) => answer.kind === "timeout")) {
    return result(
      "dns",
      id,
      downgrade("problem"),
      `${label}: no answer within ${facts.dnsTimeoutMs} ms${advisoryNote}`,
      { remedy: REMEDY_BY_CLASS.timeout },
    );
  }
  if (p2pHere.length === P2P_HOSTS.length) {
    return result(
      "dns",
      id,
      "warning",
      `${label}: the p2p names resolve here, ${PUSH_HOST} does not: motion events will not ` +
        "arrive",
      { details, remedy },
    );
  }
  const summary = p2pHere.length > 0
    ? `${label}: a mix across the p2p names: ${p2pHere.length} of ${P2P_HOSTS.length} ` +
      "resolve here, the others do not (a camera picks any of them)"
    : `${label}: the p2p names do not resolve to this box`;
  return result("dns", id, downgrade("problem"), summary + advisoryNote, { details, remedy });
}

/** Every DNS check: one per resolver asked, and a warning when none could be asked. */
export function dnsChecks(facts: DoctorFacts): CheckResult[] {
  const results: CheckResult[] = [];
  const system = facts.systemResolver;
  if (system !== null && system.servers === 0) {
    results.push(result(
      "dns",
      "dns.system",
      "warning",
      system.readable
        ? `system resolver: no nameserver line in ${system.path}`
        : `system resolver: cannot read ${system.path}`,
      { remedy: "Name the DNS server the cameras use with --dns ADDRESS." },
    ));
  }
  const asksCameras = facts.resolvers.some((resolver) => resolver.source === "flag");
  for (const resolver of facts.resolvers) {
    results.push(
      resolverCheck(resolver, facts, { advisory: resolver.source === "system" && asksCameras }),
    );
  }
  if (facts.resolvers.length === 0 && results.length === 0) {
    results.push(result("dns", "dns.none", "warning", "no DNS server asked", {
      remedy: "Name the DNS server the cameras use with --dns ADDRESS (repeatable).",
    }));
  }
  return results;
}
