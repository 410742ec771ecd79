/**
 * The push listener: the TCP port (443) that `pushx.reolink.com` points at. A camera that
 * sees motion while asleep dials it; the connection attempt itself is the motion signal (the
 * TLS handshake can never succeed, the camera pins Reolink's certificate). On accept the peer
 * IP is looked up among fresh registered cameras and the motion callback fires at once; only
 * then is the ClientHello read, for at most `sniTimeoutMs`, to record its SNI.
 */

import { getLogger } from "@logtape/logtape";
import { PUSH_LISTENER_SPEC } from "./config.ts";
import { plainIp } from "../net/ip.ts";
import { listenError } from "../net/listen_error.ts";
import { MAX_CLIENT_HELLO_BYTES, readClientHelloSni } from "./sni.ts";

const log = getLogger(["bairelay", "push"]);

/**
 * Default cap on connections held open at once (while their ClientHello is read). Over the
 * cap a connection still fires its motion event but is closed at once, so a flood cannot
 * exhaust file descriptors.
 */
const DEFAULT_MAX_PUSH_CONNECTIONS = PUSH_LISTENER_SPEC.max_connections.default;
/** How long a connection may take to send its ClientHello after the motion event fired. */
const DEFAULT_SNI_TIMEOUT_MS = PUSH_LISTENER_SPEC.sni_timeout_ms.default;
/** First read buffer for the ClientHello (real ones are 200-600 bytes). */
const INITIAL_READ_BYTES = 1024;
/** Pause after a failed accept (e.g. out of file descriptors) before accepting again. */
const ACCEPT_RETRY_MS = 100;
/** Host names counted as camera pushes in the SNI metric (the rest count as "other"). */
const REOLINK_DOMAIN = "reolink.com";

/** Where and how the listener runs. */
export interface PushListenerOptions {
  /** Address to bind ("0.0.0.0", "::", "127.0.0.1", ...). */
  bind: string;
  /** TCP port; 0 = ephemeral (tests). */
  port: number;
  /** Connections held open at once for the SNI read (DEFAULT_MAX_PUSH_CONNECTIONS). */
  maxConnections?: number;
  /** Longest wait for the ClientHello after the event fired (DEFAULT_SNI_TIMEOUT_MS); 0 = none. */
  sniTimeoutMs?: number;
}

/** The camera a peer IP belongs to. */
export interface PushCamera {
  uid: string;
  name?: string;
}

/** A motion push from a registered camera. */
export interface MotionPush extends PushCamera {
  ip: string;
  at: number;
}

/** The subset of lib/metrics.ts the listener uses. */
export interface CounterRegistry {
  counter(
    name: string,
    help: string,
  ): { inc(labels?: Record<string, string>, by?: number): void };
}

/** What the listener calls out to; all synchronous and quick. */
export interface PushListenerDeps {
  /** Finds the fresh registered camera with this IP (registry.lookupByIp). */
  lookup(ip: string): PushCamera | undefined;
  /** Called at once for a push from a registered camera, before anything is read. */
  onMotion(push: MotionPush): void;
  metrics?: CounterRegistry;
  now?: () => number;
}

/** A running push listener. */
export interface PushListener {
  /** The address and port actually bound. */
  readonly address: { ip: string; port: number };
  /** Connections currently held open for the SNI read. */
  openConnections(): number;
  /** Stops accepting, closes every open connection; resolves when all are closed. */
  close(): Promise<void>;
}

/** How an SNI outcome is counted (a bounded label set: the host name itself goes to the log). */
function sniKind(sni: string | undefined): string {
  if (sni === undefined) return "none";
  const host = sni.toLowerCase();
  return host === REOLINK_DOMAIN || host.endsWith("." + REOLINK_DOMAIN) ? "reolink" : "other";
}

/**
 * Binds the push port and starts accepting. Throws ListenError (with the remedy) when the
 * port cannot be bound.
 */
export function startPushListener(
  options: PushListenerOptions,
  deps: PushListenerDeps,
): PushListener {
  const maxConnections = options.maxConnections ?? DEFAULT_MAX_PUSH_CONNECTIONS;
  const sniTimeoutMs = options.sniTimeoutMs ?? DEFAULT_SNI_TIMEOUT_MS;
  if (!(Number.isInteger(maxConnections) && maxConnections >= 0)) {
    throw new RangeError(`maxConnections must be a non-negative integer, got ${maxConnections}`);
  }
  const now = deps.now ?? Date.now;
  const connectionsTotal = deps.metrics?.counter(
    "bairelay_push_connections_total",
    "Push connections accepted, by result (motion: registered camera; unknown_ip: no fresh camera)",
  );
  const sniTotal = deps.metrics?.counter(
    "bairelay_push_sni_total",
    "TLS server names seen on push connections, by kind (reolink, other, none, not_tls, " +
      "timeout, skipped over the connection cap)",
  );
  // Every series exists at 0 from the start, not only after its first connection.
  for (const result of ["motion", "unknown_ip"]) connectionsTotal?.inc({ result }, 0);
  for (const kind of ["reolink", "other", "none", "not_tls", "timeout", "skipped"]) {
    sniTotal?.inc({ kind }, 0);
  }

  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: options.bind, port: options.port, transport: "tcp" });
  } catch (error) {
    throw listenError("push", { listener: "push", host: options.bind, port: options.port }, error);
  }
  const bound = listener.addr as Deno.NetAddr;
  const open = new Set<Deno.TcpConn>();
  const reads = new Set<Promise<void>>();
  let closing = false;
  let acceptFailing = false;
  let retry: { timer: ReturnType<typeof setTimeout>; resume: () => void } | undefined;

  function handle(conn: Deno.TcpConn): void {
    const ip = plainIp((conn.remoteAddr as Deno.NetAddr).hostname);
    const at = now();
    const camera = deps.lookup(ip);
    if (camera) {
      connectionsTotal?.inc({ result: "motion" });
      log.debug("Motion push from camera {camera} ({uid}) at {ip}", {
        camera: camera.name ?? camera.uid,
        uid: camera.uid,
        ip,
      });
      try {
        deps.onMotion({ ...camera, ip, at });
      } catch (error) {
        log.error("Motion handler failed for {uid}: {error}", { uid: camera.uid, error });
      }
    } else {
      connectionsTotal?.inc({ result: "unknown_ip" });
      log.debug("Push from unknown IP {ip}: no fresh registered camera has it", { ip });
    }
    if (sniTimeoutMs <= 0) {
      closeQuietly(conn);
      return;
    }
    if (open.size >= maxConnections) {
      sniTotal?.inc({ kind: "skipped" });
      log.debug("Push connection from {ip} closed unread: {max} connections already open", {
        ip,
        max: maxConnections,
      });
      closeQuietly(conn);
      return;
    }
    open.add(conn);
    const read = recordSni(conn, ip, camera).finally(() => {
      open.delete(conn);
      reads.delete(read);
      closeQuietly(conn);
    });
    reads.add(read);
  }

  async function recordSni(
    conn: Deno.TcpConn,
    ip: string,
    camera: PushCamera | undefined,
  ): Promise<void> {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      closeQuietly(conn);
    }, sniTimeoutMs);
    // Most ClientHellos fit the first buffer; it grows (to one full record) only when needed.
    let buffer = new Uint8Array(INITIAL_READ_BYTES);
    let filled = 0;
    let outcome: string | undefined;
    let detail: string | undefined;
    try {
      while (outcome === undefined) {
        if (filled === buffer.length) {
          if (buffer.length >= MAX_CLIENT_HELLO_BYTES) break;
          const larger = new Uint8Array(Math.min(buffer.length * 4, MAX_CLIENT_HELLO_BYTES));
          larger.set(buffer);
          buffer = larger;
        }
        const count = await conn.read(buffer.subarray(filled));
        if (count === null) {
          outcome = "not_tls";
          detail = filled === 0 ? "closed without sending anything" : "closed mid-ClientHello";
          break;
        }
        filled += count;
        const result = readClientHelloSni(buffer.subarray(0, filled));
        if (result.kind === "client_hello") {
          outcome = sniKind(result.sni);
          detail = result.sni;
        } else if (result.kind === "not_tls") {
          outcome = "not_tls";
          detail = result.reason;
        }
      }
    } catch (error) {
      outcome = timedOut || closing ? "timeout" : "not_tls";
      detail = timedOut || closing
        ? `no ClientHello within ${sniTimeoutMs} ms`
        : (error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
    outcome ??= "not_tls";
    sniTotal?.inc({ kind: outcome });
    if (camera && outcome === "other") {
      // The motion already fired: say so, because this may not have been a motion push at all.
      log.info(
        "Push from camera {camera} at {ip} asked for {sni}, not a Reolink host: was it motion? " +
          "(check which names your DNS sends to this box)",
        { camera: camera.name ?? camera.uid, ip, sni: detail },
      );
      return;
    }
    log.debug("Push connection from {ip} ({camera}): SNI {kind} {detail}", {
      ip,
      camera: camera ? (camera.name ?? camera.uid) : "unknown",
      kind: outcome,
      detail: detail ?? "",
    });
  }

  async function acceptLoop(): Promise<void> {
    while (!closing) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing) return;
        if (!acceptFailing) {
          acceptFailing = true;
          log.warn("Push listener cannot accept connections: {error}; retrying", { error });
        }
        await new Promise<void>((resume) => {
          retry = { timer: setTimeout(resume, ACCEPT_RETRY_MS), resume };
        });
        retry = undefined;
        continue;
      }
      if (acceptFailing) {
        acceptFailing = false;
        log.info("Push listener accepts connections again");
      }
      try {
        handle(conn);
      } catch (error) {
        // A failing lookup must cost one connection, never the listener.
        log.error("Push connection handling failed: {error}", { error });
        closeQuietly(conn);
      }
    }
  }

  const loop = acceptLoop();
  log.info("Push listener on TCP {address}:{port}", {
    address: bound.hostname,
    port: bound.port,
  });

  return {
    address: { ip: bound.hostname, port: bound.port },
    openConnections: () => open.size,
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      if (retry) {
        clearTimeout(retry.timer);
        retry.resume();
      }
      try {
        listener.close();
      } catch { /* already closed */ }
      for (const conn of open) closeQuietly(conn);
      await loop;
      await Promise.all([...reads]);
    },
  };
}

function closeQuietly(conn: Deno.TcpConn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
