/**
 * The DNS responder's sockets: UDP and TCP on the same port (RFC 1035, RFC 7766) around a
 * `Responder`. Everything is bounded: message sizes, TCP connections held open, how long a
 * TCP connection may stay idle or take to send a message, queries pipelined on one
 * connection, forwards in flight. A bind failure names the cause and the remedy, including
 * the usual one on desktops: systemd-resolved's stub listener holding 127.0.0.53:53.
 */

import { getLogger } from "@logtape/logtape";
import { AddressAdvertiser } from "../net/advertiser.ts";
import { isWildcard, plainIp } from "../net/ip.ts";
import { type ListenError, listenError, RESOLVED_STUB } from "../net/listen_error.ts";
import { type RouteSource, systemInterfaces } from "../net/local_address.ts";
import { receiveDatagrams } from "../net/udp_receive.ts";
import { closeQuietly, Forwarder } from "./forwarder.ts";
import { DNS_RESULTS, type DnsResult, Responder } from "./responder.ts";
import { frame, readFrame, writeAll } from "./tcp_frame.ts";
import { DNS_SPEC, type DnsServerOptions } from "./config.ts";
import { isSelf, systemUpstreams, type Upstream } from "./upstreams.ts";

export type { DnsServerOptions };

const log = getLogger(["bairelay", "dns"]);

/** Largest query accepted, UDP or TCP (real queries are under 600 bytes; EDNS padding included). */
export const MAX_QUERY_BYTES = 4096;
/** Queries of one TCP connection answered at once (RFC 7766 pipelining); reading waits beyond. */
export const MAX_PIPELINED = 16;
/** Tries to find a port free for both UDP and TCP when port 0 is asked. */
const EPHEMERAL_TRIES = 10;
/** Pause after a failed accept, so a persistent error cannot spin the CPU. */
const ERROR_PAUSE_MS = 10;

/** The counter registry the query counts go to (the wake server's `Metrics`). */
export interface DnsMetrics {
  counter(name: string, help: string): { inc(labels?: Record<string, string>, by?: number): void };
}

/** Outside sources the server reads (replaceable in tests). */
export interface DnsServerDeps {
  metrics?: DnsMetrics;
  routeSource?: RouteSource;
  /** resolv.conf to take default upstreams from (default /etc/resolv.conf). */
  resolvConf?: string;
  /** This box's LAN addresses, suggested in the systemd-resolved bind error. */
  lanAddresses?: readonly string[];
}

/** A running DNS responder. */
export interface DnsServer {
  /** The address and port bound (UDP and TCP alike). */
  readonly address: { ip: string; port: number };
  /** Where other names are forwarded (empty with `forward = false`). */
  readonly upstreams: readonly Upstream[];
  /** TCP connections open now. */
  openConnections(): number;
  /** Stops both listeners, ends forwards and connections; resolves when all are done. */
  close(): Promise<void>;
}

/**
 * Binds UDP and TCP on `bind`:`port` and starts answering. Throws `ListenError` (listener
 * "DNS responder (UDP and TCP)") when either cannot be bound.
 */
export function startDnsServer(options: DnsServerOptions, deps: DnsServerDeps = {}): DnsServer {
  const tcpMaxConnections = options.tcpMaxConnections ?? DNS_SPEC.tcp_max_connections.default;
  const tcpIdleMs = options.tcpIdleMs ?? DNS_SPEC.tcp_idle_ms.default;
  const queries = deps.metrics?.counter(
    "bairelay_dns_queries_total",
    "DNS queries to the built-in responder, by result (intercepted: answered here; forwarded; " +
      "refused: outside allow_from or forward = false; servfail; malformed)",
  );
  for (const result of DNS_RESULTS) queries?.inc({ result }, 0);

  const { udp, tcp } = bindBoth(options, deps);
  const address = {
    ip: (udp.addr as Deno.NetAddr).hostname,
    port: (udp.addr as Deno.NetAddr).port,
  };
  const upstreams = options.forward ? forwardTargets(options, address, deps) : [];
  const forwarder = options.forward
    ? new Forwarder({
      upstreams,
      timeoutMs: options.upstreamTimeoutMs,
      maxInflight: options.maxInflight,
    })
    : null;
  const advertiser = options.answer === null
    ? new AddressAdvertiser({ bind: options.advertiseBind, routeSource: deps.routeSource })
    : null;
  const responder = new Responder({
    names: options.names,
    allowFrom: options.allowFrom,
    ttl: options.ttl,
    answerFor: (client) =>
      advertiser ? advertiser.resolve(client) : Promise.resolve(options.answer!),
    forwarder,
    count: (result: DnsResult) => queries?.inc({ result }),
  });

  let closed = false;
  const connections = new Set<Deno.TcpConn>();
  const tasks = new Set<Promise<void>>();
  const track = (task: Promise<void>) => {
    const settled = task.catch((error) => log.error("DNS query failed: {error}", { error }));
    tasks.add(settled);
    settled.finally(() => tasks.delete(settled));
  };

  const udpLoop = receiveDatagrams(udp, MAX_QUERY_BYTES + 1, {
    onDatagram(bytes, from) {
      const client = plainIp(from.hostname);
      if (bytes.length > MAX_QUERY_BYTES) {
        queries?.inc({ result: "malformed" });
        log.debug("DNS udp from {client}: over {max} bytes, dropped", {
          client,
          max: MAX_QUERY_BYTES,
        });
        return;
      }
      const message = bytes.slice();
      track(
        responder.respond(message, client, "udp").then(async (reply) => {
          if (reply === null || closed) return;
          await udp.send(reply, from).catch(() => {/* client gone: nothing to do */});
        }),
      );
    },
    onReceiveError(error) {
      log.warn("DNS UDP receive failed: {error}", { error: String(error) });
    },
  }, () => closed);

  const tcpLoop = (async () => {
    while (!closed) {
      let conn: Deno.TcpConn;
      try {
        conn = await tcp.accept();
      } catch (error) {
        if (closed || error instanceof Deno.errors.BadResource) return;
        log.warn("DNS TCP accept failed: {error}", { error: String(error) });
        await pause();
        continue;
      }
      if (connections.size >= tcpMaxConnections) {
        log.debug("DNS TCP connection from {client} closed: {max} already open", {
          client: plainIp((conn.remoteAddr as Deno.NetAddr).hostname),
          max: tcpMaxConnections,
        });
        closeQuietly(conn);
        continue;
      }
      connections.add(conn);
      track(
        serveConnection(conn, responder, tcpIdleMs, () => queries?.inc({ result: "malformed" }))
          .finally(() => {
            connections.delete(conn);
            closeQuietly(conn);
          }),
      );
    }
  })();

  log.info("DNS responder listening on udp+tcp {address}; forwarding to {upstreams}", {
    address: `${address.ip}:${address.port}`,
    upstreams: options.forward
      ? upstreams.map((u) => `${u.host}:${u.port}`).join(", ") || "nothing (no upstream)"
      : "nothing (forward = false)",
  });

  let closing: Promise<void> | undefined;
  return {
    address,
    upstreams,
    openConnections: () => connections.size,
    close() {
      closing ??= (async () => {
        closed = true;
        closeQuietly(udp);
        closeQuietly(tcp);
        forwarder?.close();
        for (const conn of connections) closeQuietly(conn);
        await Promise.allSettled([udpLoop, tcpLoop, ...tasks]);
        await advertiser?.settle();
      })();
      return closing;
    },
  };
}

/**
 * Answers one TCP connection: reads length-prefixed queries (each within `idleMs` of the
 * previous one), answers up to MAX_PIPELINED at once, writes each answer within `idleMs`.
 */
async function serveConnection(
  conn: Deno.TcpConn,
  responder: Responder,
  idleMs: number,
  countMalformed: () => void,
): Promise<void> {
  const client = plainIp((conn.remoteAddr as Deno.NetAddr).hostname);
  const pending = new Set<Promise<void>>();
  let writing = Promise.resolve();
  const write = (reply: Uint8Array) => {
    writing = writing.then(() => withDeadline(writeAll(conn, frame(reply)), idleMs, conn));
    return writing;
  };
  try {
    while (true) {
      const read = await withDeadline(readFrame(conn, MAX_QUERY_BYTES), idleMs, conn, pending)
        .catch(() => null);
      if (read === null || read.kind === "closed") break;
      if (read.kind === "too_large") {
        countMalformed();
        log.debug("DNS tcp from {client}: a {length}-byte message announced, closing", {
          client,
          length: read.length,
        });
        break;
      }
      const task = responder.respond(read.bytes, client, "tcp")
        .then((reply) => reply === null ? undefined : write(reply))
        .catch(() => closeQuietly(conn));
      pending.add(task);
      task.finally(() => pending.delete(task));
      if (pending.size >= MAX_PIPELINED) await Promise.race(pending);
    }
    await Promise.allSettled(pending);
  } finally {
    closeQuietly(conn);
  }
}

/**
 * `work`, but `conn` is closed (ending `work`) once `ms` pass; when `busy` holds answers still
 * being prepared, the close waits for them first.
 */
async function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  conn: Deno.TcpConn,
  busy?: Set<Promise<void>>,
): Promise<T> {
  const timer = setTimeout(async () => {
    if (busy && busy.size > 0) await Promise.allSettled(busy);
    closeQuietly(conn);
  }, ms);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}

/** Binds UDP then TCP on the same port (the same free port when 0 is asked). */
function bindBoth(
  options: DnsServerOptions,
  deps: DnsServerDeps,
): { udp: Deno.DatagramConn; tcp: Deno.TcpListener } {
  const at = { host: options.bind, port: options.port };
  for (let attempt = 1;; attempt++) {
    let udp: Deno.DatagramConn;
    try {
      udp = Deno.listenDatagram({ transport: "udp", hostname: options.bind, port: options.port });
    } catch (error) {
      throw bindError(at, error, deps);
    }
    const port = (udp.addr as Deno.NetAddr).port;
    try {
      const tcp = Deno.listen({ transport: "tcp", hostname: options.bind, port });
      return { udp, tcp };
    } catch (error) {
      closeQuietly(udp);
      const retry = options.port === 0 && error instanceof Deno.errors.AddrInUse &&
        attempt < EPHEMERAL_TRIES;
      if (!retry) throw bindError({ host: options.bind, port }, error, deps);
    }
  }
}

/** The bind failure explained; "port in use" on a port systemd-resolved holds says so. */
function bindError(
  at: { host: string; port: number },
  error: unknown,
  deps: DnsServerDeps,
): ListenError {
  const stub = error instanceof Deno.errors.AddrInUse && stubListenerHolds(at.port);
  const suggestedHost = deps.lanAddresses?.find((address) => address !== RESOLVED_STUB);
  return listenError(
    stub ? "dnsResolvedStub" : "dns",
    { listener: "DNS responder (UDP and TCP)", ...at, suggestedHost },
    error,
  );
}

/** True when something listens on 127.0.0.53:`port` (UDP or TCP), as systemd-resolved does. */
export function stubListenerHolds(port: number): boolean {
  // /proc/net/{udp,tcp} list local addresses as little-endian hex: 127.0.0.53 = 3500007F.
  const wanted = `3500007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const table of ["/proc/net/udp", "/proc/net/tcp"]) {
    try {
      const lines = Deno.readTextFileSync(table).split("\n").slice(1);
      if (lines.some((line) => line.trim().split(/\s+/)[1] === wanted)) return true;
    } catch { /* not Linux, or not readable: cannot tell */ }
  }
  return false;
}

/** The upstreams to forward to: configured or from resolv.conf, never this listener. */
function forwardTargets(
  options: DnsServerOptions,
  listener: { ip: string; port: number },
  deps: DnsServerDeps,
): Upstream[] {
  const configured = options.upstreams ?? systemUpstreams(deps.resolvConf);
  const local = isWildcard(options.bind) ? systemInterfaces().map((entry) => entry.address) : [];
  const self = { host: options.bind, port: listener.port };
  const targets = configured.filter((upstream) => !isSelf(upstream, self, local));
  for (const upstream of configured) {
    if (targets.includes(upstream)) continue;
    log.warn("DNS upstream {upstream} is this responder itself; not forwarding there", {
      upstream: `${upstream.host}:${upstream.port}`,
    });
  }
  if (targets.length === 0) {
    log.warn(
      "The DNS responder has no upstream: names other than the Reolink ones get SERVFAIL. " +
        "Set [dns] upstreams (e.g. your router's address), or forward = false to refuse them.",
    );
  }
  return targets;
}

function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS));
}
