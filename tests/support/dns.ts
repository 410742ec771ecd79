/**
 * Real DNS tools for the DNS responder's tests: `dig` (bind9-dnsutils) as the client, `dnsmasq`
 * as a real upstream on a loopback address, a truncating upstream (TC over UDP, the full
 * answer over TCP), a silent upstream, and raw UDP/TCP senders for hostile input.
 */

// @deno-types="@types/dns-packet"
import * as dnsPacket from "dns-packet";
import { Buffer } from "node:buffer";
import { DEFAULT_ALLOW_FROM } from "../../lib/dns/ranges.ts";
import { DEFAULT_NAMES } from "../../lib/dns/names.ts";
import { type DnsServerOptions, startDnsServer } from "../../lib/dns/server.ts";
import { Metrics } from "../../lib/metrics.ts";
import { freeUdpPort, randomLoopback } from "./serve_process.ts";
import { programPath } from "./programs.ts";

/** What dig saw. */
export interface DigResult {
  /** NOERROR, REFUSED, SERVFAIL, ... ("timeout" when nothing came back). */
  status: string;
  /** The header flags, e.g. ["qr", "aa", "rd", "ra"]. */
  flags: string[];
  /** Answer records as "name type data". */
  answers: string[];
  /** Everything dig printed. */
  output: string;
}

/** Options of one dig run. */
export interface DigOptions {
  type?: string;
  tcp?: boolean;
  /** Source address (dig -b). */
  source?: string;
  /** Seconds dig waits (default 3). */
  timeSecs?: number;
  /** Extra dig words, e.g. "+ignore". */
  extra?: string[];
}

/** Asks `server`:`port` for `name` with dig (one try). */
export async function dig(
  server: string,
  port: number,
  name: string,
  options: DigOptions = {},
): Promise<DigResult> {
  const args = [
    `@${server}`,
    "-p",
    String(port),
    name,
    options.type ?? "A",
    "+tries=1",
    `+time=${options.timeSecs ?? 3}`,
    ...(options.tcp ? ["+tcp"] : []),
    ...(options.source ? ["-b", options.source] : []),
    ...(options.extra ?? []),
  ];
  const result = await new Deno.Command(programPath("dig"), {
    args,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const output = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
  const status = /status: (\w+)/.exec(output)?.[1] ?? "timeout";
  const flags = /;; flags: ([a-z ]+);/.exec(output)?.[1].trim().split(/\s+/) ?? [];
  const answers: string[] = [];
  const section = output.split(";; ANSWER SECTION:\n")[1];
  if (section !== undefined) {
    for (const line of section.split("\n")) {
      if (line.trim() === "") break;
      const [owner, , , type, ...data] = line.split(/\s+/);
      answers.push(`${owner} ${type} ${data.join(" ")}`);
    }
  }
  return { status, flags, answers, output };
}

/** A running dnsmasq. */
export interface Dnsmasq {
  ip: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Starts dnsmasq on `ip` and a free port (or `fixedPort`), answering `addresses` (name -> IPv4) and nothing
 * else (no resolv.conf, no hosts file, no upstream): a real upstream that never leaves the box.
 * `extra.args` adds command-line options (then `extra.probe` names a name they answer, asked
 * until dnsmasq is up).
 */
export async function startDnsmasq(
  ip: string,
  addresses: Record<string, string>,
  fixedPort?: number,
  extra: { args: string[]; probe: string } = { args: [], probe: Object.keys(addresses)[0] },
): Promise<Dnsmasq> {
  let port = fixedPort ?? await freeUdpPort(ip);
  while (fixedPort === undefined && !tcpFree(ip, port)) port = await freeUdpPort(ip);
  const child = new Deno.Command(programPath("dnsmasq"), {
    args: [
      "--no-daemon",
      "--conf-file=/dev/null",
      "--no-resolv",
      "--no-hosts",
      "--bind-interfaces",
      `--listen-address=${ip}`,
      "--except-interface=nonexistent0",
      `--port=${port}`,
      "--user=root",
      "--pid-file",
      "--cache-size=0",
      ...Object.entries(addresses).map(([name, address]) => `--address=/${name}/${address}`),
      ...extra.args,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = (async () => new TextDecoder().decode((await child.output()).stderr))();
  const first = extra.probe;
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const answer = await dig(ip, port, first, { timeSecs: 1 });
    if (answer.status === "NOERROR") {
      return {
        ip,
        port,
        async stop() {
          try {
            child.kill("SIGTERM");
          } catch { /* already gone */ }
          await stderr;
        },
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  try {
    child.kill("SIGKILL");
  } catch { /* already gone */ }
  throw new Error(`dnsmasq on ${ip}:${port} did not answer:\n${await stderr}`);
}

function tcpFree(ip: string, port: number): boolean {
  try {
    Deno.listen({ hostname: ip, port }).close();
    return true;
  } catch {
    return false;
  }
}

/** A test upstream on UDP and TCP of one port (see `startTruncatingUpstream`). */
export interface TestUpstream {
  ip: string;
  port: number;
  /** Queries received over UDP and over TCP. */
  udpQueries: number;
  tcpQueries: number;
  stop(): Promise<void>;
}

/**
 * An upstream that answers every UDP query with TC set and no records, and the same query over
 * TCP with `records` A records (192.0.2.1, .2, ...) for the asked name: a real truncation.
 * With `silent`, it reads and never answers.
 */
export async function startTestUpstream(
  ip: string,
  options: { records?: number; silent?: boolean } = {},
): Promise<TestUpstream> {
  let port = await freeUdpPort(ip);
  while (!tcpFree(ip, port)) port = await freeUdpPort(ip);
  const udp = Deno.listenDatagram({ transport: "udp", hostname: ip, port });
  const tcp = Deno.listen({ hostname: ip, port });
  const records = options.records ?? 40;
  const conns = new Set<Deno.TcpConn>();
  const state = { udpQueries: 0, tcpQueries: 0 };
  const answer = (query: Uint8Array, truncated: boolean) => {
    const decoded = dnsPacket.decode(Buffer.from(query));
    const question = decoded.questions![0];
    return dnsPacket.encode({
      type: "response",
      id: decoded.id,
      flags: (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) | dnsPacket.RECURSION_AVAILABLE,
      questions: [question],
      answers: truncated ? [] : Array.from({ length: records }, (_, i) => ({
        type: "A" as const,
        name: question.name,
        ttl: 30,
        data: `192.0.2.${i + 1}`,
      })),
    });
  };
  const udpLoop = (async () => {
    const buffer = new Uint8Array(65535);
    while (true) {
      let received: [Uint8Array, Deno.Addr];
      try {
        received = await udp.receive(buffer);
      } catch {
        return;
      }
      state.udpQueries++;
      if (options.silent) continue;
      await udp.send(answer(received[0], true), received[1]).catch(() => {});
    }
  })();
  const tcpLoop = (async () => {
    while (true) {
      let conn: Deno.TcpConn;
      try {
        conn = await tcp.accept();
      } catch {
        return;
      }
      conns.add(conn);
      (async () => {
        try {
          const head = new Uint8Array(2);
          await readFull(conn, head);
          const query = new Uint8Array((head[0] << 8) | head[1]);
          await readFull(conn, query);
          state.tcpQueries++;
          if (options.silent) return;
          const reply = answer(query, false);
          const framed = new Uint8Array(reply.length + 2);
          framed[0] = reply.length >> 8;
          framed[1] = reply.length & 0xff;
          framed.set(reply, 2);
          await conn.write(framed);
        } catch { /* closed */ }
      })();
    }
  })();
  return {
    ip,
    port,
    get udpQueries() {
      return state.udpQueries;
    },
    get tcpQueries() {
      return state.tcpQueries;
    },
    async stop() {
      udp.close();
      tcp.close();
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      await Promise.all([udpLoop, tcpLoop]);
    },
  };
}

async function readFull(conn: Deno.TcpConn, buffer: Uint8Array): Promise<void> {
  let filled = 0;
  while (filled < buffer.length) {
    const n = await conn.read(buffer.subarray(filled));
    if (n === null) throw new Error("closed");
    filled += n;
  }
}

/** Sends `bytes` over UDP from `source` and returns the reply, or null after `waitMs`. */
export async function udpExchange(
  server: { ip: string; port: number },
  bytes: Uint8Array,
  source = "127.0.0.1",
  waitMs = 500,
): Promise<Uint8Array | null> {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: source, port: 0 });
  const timer = setTimeout(() => socket.close(), waitMs);
  try {
    await socket.send(bytes, { transport: "udp", hostname: server.ip, port: server.port });
    const [reply] = await socket.receive();
    return reply;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    try {
      socket.close();
    } catch { /* closed by the timer */ }
  }
}

/** A query message for `name` (dns-packet), for raw sends. */
export function queryBytes(name: string, type: "A" | "AAAA" = "A", id = 0x1234): Uint8Array {
  return dnsPacket.encode({
    type: "query",
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name }],
  });
}

/** Decodes a reply (dns-packet), with its response code by name. */
export function decodeReply(bytes: Uint8Array): dnsPacket.Packet & { rcode: string } {
  return dnsPacket.decode(Buffer.from(bytes)) as unknown as dnsPacket.Packet & { rcode: string };
}

/**
 * The responder in-process on a random loopback address and a free port, answering with that
 * address, forwarding to nothing unless `overrides` say otherwise; `count(result)` reads
 * `bairelay_dns_queries_total`.
 */
export function startTestResponder(overrides: Partial<DnsServerOptions> = {}) {
  const ip = randomLoopback();
  const metrics = new Metrics();
  const server = startDnsServer({
    bind: ip,
    port: 0,
    names: DEFAULT_NAMES,
    answer: null,
    advertiseBind: ip,
    ttl: 60,
    forward: true,
    upstreams: [],
    upstreamTimeoutMs: 2000,
    maxInflight: 512,
    allowFrom: DEFAULT_ALLOW_FROM,
    ...overrides,
  }, { metrics });
  const count = (result: string) =>
    metrics.counter("bairelay_dns_queries_total", "").get({ result });
  return { ip, server, metrics, count, target: { ip, port: server.address.port } };
}
