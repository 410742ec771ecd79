/**
 * The DNS responder's decisions, transport-free: one message in from a client, at most one
 * message out. Names in the table get our address (A) or an empty NOERROR (every other type,
 * so nothing falls through to IPv6 or the real cloud); other names are forwarded, or REFUSED
 * with `forward = false`; clients outside the allow-list get REFUSED; broken messages are
 * counted and, from allowed clients, answered FORMERR/NOTIMP with a bare header. A reply to a
 * client outside the allow-list is never larger than its query (no amplification).
 */

import { getLogger } from "@logtape/logtape";
import { ipVersion } from "../net/ip.ts";
import { AllowList } from "./allow_list.ts";
import type { Forwarder } from "./forwarder.ts";
import {
  answerMessage,
  CLASSIC_UDP_BYTES,
  errorMessage,
  headerOnlyMessage,
  type Query,
  RCODE,
  type Rcode,
  readQuery,
} from "./message.ts";
import { NameMatcher } from "./names.ts";

const log = getLogger(["bairelay", "dns"]);

/** How each query ended, the `result` label of `bairelay_dns_queries_total`. */
export const DNS_RESULTS = [
  "intercepted",
  "forwarded",
  "refused",
  "servfail",
  "malformed",
] as const;
/** One of `DNS_RESULTS`. */
export type DnsResult = typeof DNS_RESULTS[number];

/** Clients remembered for the once-per-client info line (oldest forgotten first). */
export const MAX_ANNOUNCED_CLIENTS = 4096;
/** Routing-table lookups for the answer address running at once; more get SERVFAIL. */
export const MAX_ANSWER_LOOKUPS = 64;

/** What the responder decides with (plain data plus the two helpers it calls out to). */
export interface ResponderOptions {
  /** Name patterns answered here (lib/dns/names.ts). */
  names: readonly string[];
  /** Client ranges served (lib/dns/allow_list.ts). */
  allowFrom: readonly string[];
  /** TTL of our A answers, seconds. */
  ttl: number;
  /** The A answer for a client (the address this box uses to reach it, or a fixed one). */
  answerFor(clientIp: string): Promise<string>;
  /** Forwards other names; null = REFUSED for them (`forward = false`). */
  forwarder: Forwarder | null;
  /** Counts each query's result. */
  count(result: DnsResult): void;
}

/** Answers DNS messages; see the module docs. */
export class Responder {
  private readonly names: NameMatcher;
  private readonly allow: AllowList;
  private readonly announced = new Set<string>();
  private readonly warned = new Set<string>();
  private lookups = 0;

  constructor(private readonly options: ResponderOptions) {
    this.names = new NameMatcher(options.names);
    this.allow = new AllowList(options.allowFrom);
  }

  /** The reply to `message` from `client` over `transport`, or null for none. Never throws. */
  async respond(
    message: Uint8Array,
    client: string,
    transport: "udp" | "tcp",
  ): Promise<Uint8Array | null> {
    try {
      return await this.decide(message, client, transport);
    } catch (error) {
      // A message the codec reads but cannot write back (an odd class or type): no answer.
      this.options.count("malformed");
      log.debug("DNS {transport} from {client}: cannot answer ({error})", {
        transport,
        client,
        error: String(error),
      });
      return null;
    }
  }

  private async decide(
    message: Uint8Array,
    client: string,
    transport: "udp" | "tcp",
  ): Promise<Uint8Array | null> {
    const query = readQuery(message);
    const allowed = this.allow.allows(client);
    if ("malformed" in query) {
      this.options.count("malformed");
      log.debug("DNS {transport} from {client}: malformed ({why})", {
        transport,
        client,
        why: query.malformed,
      });
      return allowed && query.reply !== null && query.id !== null
        ? headerOnlyMessage(query.id, query.reply)
        : null;
    }
    if (!allowed) {
      this.settle("refused", query, client, "refused (not in allow_from)");
      return refusal(query, message.length);
    }
    if (this.names.matches(query.question.name)) return await this.intercept(query, client);
    if (this.options.forwarder === null) {
      this.settle("refused", query, client, "refused (forward = false)");
      return safeError(query, RCODE.REFUSED);
    }
    return await this.forward(query, message, client, transport);
  }

  /** Counts a query's result and logs it at debug level. */
  private settle(result: DnsResult, query: Query, client: string, outcome: string): void {
    this.options.count(result);
    const { type, name } = query.question;
    log.debug("DNS {type} {name} from {client}: {outcome}", { type, name, client, outcome });
  }

  private async intercept(query: Query, client: string): Promise<Uint8Array> {
    if (query.question.type !== "A" || query.question.class !== "IN") {
      this.settle("intercepted", query, client, "no data (only A is answered)");
      return answerMessage(query, null, this.options.ttl);
    }
    const address = await this.answerAddress(client);
    if (address === null) {
      this.settle("servfail", query, client, "SERVFAIL (no address to answer with)");
      return safeError(query, RCODE.SERVFAIL);
    }
    this.settle("intercepted", query, client, `answered ${address}`);
    this.announce(client, query.question.name, address);
    return answerMessage(query, address, this.options.ttl);
  }

  /** The IPv4 address to answer `client` with; null (logged) when there is none. */
  private async answerAddress(client: string): Promise<string | null> {
    if (this.lookups >= MAX_ANSWER_LOOKUPS) return null;
    this.lookups++;
    let problem: string;
    try {
      const address = await this.options.answerFor(client);
      if (ipVersion(address) === 4) return address;
      problem = `no IPv4 address of this box reaches ${client} (got ${address})`;
    } catch (error) {
      problem = `cannot find the address to answer ${client} with: ${error}`;
    } finally {
      this.lookups--;
    }
    // Once per client, like the info line: a flood of queries must not flood the log.
    if (this.warned.size < MAX_ANNOUNCED_CLIENTS && !this.warned.has(client)) {
      this.warned.add(client);
      log.warn("DNS: {problem}; answering SERVFAIL (set [dns] answer)", { problem });
    }
    return null;
  }

  /** The info line a user setting up a camera wants to see, once per client address. */
  private announce(client: string, name: string, address: string): void {
    if (this.announced.has(client)) return;
    this.announced.add(client);
    if (this.announced.size > MAX_ANNOUNCED_CLIENTS) {
      this.announced.delete(this.announced.values().next().value!);
    }
    log.info("{client} asked for {name}: answered {address}", { client, name, address });
  }

  private async forward(
    query: Query,
    message: Uint8Array,
    client: string,
    transport: "udp" | "tcp",
  ): Promise<Uint8Array> {
    const udpLimit = Math.max(CLASSIC_UDP_BYTES, query.ednsUdpBytes ?? CLASSIC_UDP_BYTES);
    const outcome = await this.options.forwarder!.forward(message, query.question, udpLimit);
    if (outcome.kind !== "answer") {
      this.settle("servfail", query, client, `SERVFAIL (${outcome.kind})`);
      return safeError(query, RCODE.SERVFAIL);
    }
    this.settle("forwarded", query, client, `forwarded (${outcome.bytes.length} bytes)`);
    // A UDP client gets the full (TCP) answer only when it fits what the client accepts;
    // otherwise the upstream's truncated answer, and the client asks us again over TCP.
    if (transport === "udp" && outcome.truncated && outcome.bytes.length > udpLimit) {
      return outcome.truncated;
    }
    return outcome.bytes;
  }
}

/** An error answer with the question; a bare header if the question cannot be re-encoded. */
function safeError(query: Query, rcode: Rcode): Uint8Array {
  try {
    return errorMessage(query, rcode);
  } catch {
    return headerOnlyMessage(query.id, rcode);
  }
}

/** REFUSED for a client outside the allow-list: never larger than its query. */
function refusal(query: Query, queryBytes: number): Uint8Array {
  const full = safeError(query, RCODE.REFUSED);
  return full.length <= queryBytes ? full : headerOnlyMessage(query.id, RCODE.REFUSED);
}
