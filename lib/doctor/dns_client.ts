/**
 * A small DNS client for `doctor`: one A query to one server over UDP, with a hard time limit,
 * and every way it can go wrong (no answer, NXDOMAIN, a refusal, bytes that are not a DNS
 * answer) returned as plain data instead of thrown. The system resolver (`Deno.resolveDns`,
 * getaddrinfo) cannot be given a time limit or a server, so `doctor` asks the servers itself.
 */

import { Buffer } from "node:buffer";
import dgram from "node:dgram";
// @ts-types="@types/dns-packet"
import dnsPacket from "dns-packet";
import { DNS_PORT, type Upstream } from "../dns/upstreams.ts";
import { ipVersion } from "../net/ip.ts";
import { parseListen } from "../net/listen_address.ts";

/** A DNS server to ask: an IP address and a UDP port. */
export type DnsServer = Upstream;

/** How one query ended. */
export type DnsOutcome =
  /** NOERROR: the IPv4 addresses in the answer (empty when the name has no A record). */
  | { kind: "answer"; addresses: string[] }
  /** The name does not exist (NXDOMAIN), e.g. blocked by a blocklist that answers so. */
  | { kind: "nxdomain" }
  /** Another error code: REFUSED, SERVFAIL, ... */
  | { kind: "error"; rcode: string }
  /** Nothing usable came back within the time limit. */
  | { kind: "timeout"; ms: number }
  /** The server sent something that is not an answer to this query. */
  | { kind: "garbage"; detail: string }
  /** The query could not be sent (e.g. no route to the server). */
  | { kind: "failed"; detail: string };

/** Response codes by number (RFC 1035, 2136). */
const RCODES: Record<number, string> = {
  1: "FORMERR",
  2: "SERVFAIL",
  3: "NXDOMAIN",
  4: "NOTIMP",
  5: "REFUSED",
  6: "YXDOMAIN",
  7: "YXRRSET",
  8: "NXRRSET",
  9: "NOTAUTH",
  10: "NOTZONE",
};

/** What `queryA` needs besides the server and name. */
export interface QueryOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** The query id (default random; tests fix it). */
  id?: number;
}

/**
 * Asks `server` for the A records of `name`, once, and waits at most `timeoutMs`. Only a
 * datagram from the server's address and port counts; the first one decides (an answer that
 * does not decode or does not match the query is `garbage`). Never throws.
 */
export function queryA(
  server: DnsServer,
  name: string,
  options: QueryOptions,
): Promise<DnsOutcome> {
  const id = options.id ?? crypto.getRandomValues(new Uint16Array(1))[0];
  const query = dnsPacket.encode({
    type: "query",
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: "A", class: "IN", name }],
  });
  const socket = dgram.createSocket(ipVersion(server.host) === 6 ? "udp6" : "udp4");
  return new Promise<DnsOutcome>((resolve) => {
    let done = false;
    const finish = (outcome: DnsOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        socket.close();
      } catch { /* never bound */ }
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ kind: "timeout", ms: options.timeoutMs }),
      options.timeoutMs,
    );
    socket.on("error", (error) => finish({ kind: "failed", detail: error.message }));
    socket.on("message", (message, from) => {
      if (from.port !== server.port || !sameAddress(from.address, server.host)) return;
      finish(interpretAnswer(message, id, name));
    });
    socket.bind(0, () => {
      socket.send(query, server.port, server.host, (error) => {
        if (error) finish({ kind: "failed", detail: error.message });
      });
    });
  });
}

function sameAddress(a: string, b: string): boolean {
  const strip = (ip: string) => ip.toLowerCase().replace(/^::ffff:/, "").replace(/%.*$/, "");
  return strip(a) === strip(b);
}

/**
 * Reads a datagram as the answer to the A query `id` for `name`: its addresses, NXDOMAIN,
 * another error code, or `garbage` saying why it is not an answer to that query.
 */
export function interpretAnswer(bytes: Uint8Array, id: number, name: string): DnsOutcome {
  let packet;
  try {
    packet = dnsPacket.decode(Buffer.from(bytes));
  } catch {
    return { kind: "garbage", detail: `${bytes.length} bytes that are not a DNS message` };
  }
  if (packet.type !== "response") {
    return { kind: "garbage", detail: "a DNS query instead of an answer" };
  }
  if (packet.id !== id) {
    return { kind: "garbage", detail: `an answer to another query (id ${packet.id}, not ${id})` };
  }
  const question = packet.questions?.[0]?.name?.toLowerCase().replace(/\.$/, "");
  if (question !== undefined && question !== name.toLowerCase()) {
    return { kind: "garbage", detail: `an answer about ${question}, not ${name}` };
  }
  const rcode = (packet.flags ?? 0) & 0xf;
  if (rcode === 3) return { kind: "nxdomain" };
  if (rcode !== 0) return { kind: "error", rcode: RCODES[rcode] ?? `rcode ${rcode}` };
  const addresses: string[] = [];
  for (const record of packet.answers ?? []) {
    if (record.type === "A" && typeof record.data === "string") addresses.push(record.data);
  }
  return { kind: "answer", addresses };
}

/**
 * Parses a `--dns` value: an IP address with an optional port ("192.168.1.1",
 * "192.168.1.1:5353", "::1", "[::1]:5353"); null when it is not one (a host name is not: the
 * point is to ask one particular server, without a lookup of its own).
 */
export function parseDnsServer(text: string): DnsServer | null {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (ipVersion(bare) !== 0) return { host: bare, port: DNS_PORT };
  const listen = parseListen(text);
  return listen === null || ipVersion(listen.host) === 0 ? null : listen;
}
