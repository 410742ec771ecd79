/**
 * Forwards a query the responder does not answer itself: the client's bytes, under a fresh
 * random id, from a fresh socket (a random source port), to every upstream at once; the first
 * answer that matches the question wins. A truncated UDP answer is asked again over TCP from
 * the upstream that sent it. The answer goes back byte for byte (EDNS and all) with the
 * client's id restored. Everything ends by the timeout; at most `maxInflight` run at once.
 */

import { ipVersion } from "../net/ip.ts";
import { type Query, readUpstreamAnswer, withId } from "./message.ts";
import { frame, MAX_TCP_MESSAGE_BYTES, readFrame, writeAll } from "./tcp_frame.ts";
import type { Upstream } from "./upstreams.ts";

/** How the forwarder runs. */
export interface ForwarderOptions {
  upstreams: readonly Upstream[];
  /** Longest wait for an answer, TCP retry included (ms). */
  timeoutMs: number;
  /** Most forwards at once; more are turned away at once ("busy"). */
  maxInflight: number;
}

/** What became of one forward. */
export type ForwardOutcome =
  /** `bytes`: the answer; `truncated`: the upstream's truncated UDP answer when TCP was used. */
  | { kind: "answer"; bytes: Uint8Array; truncated: Uint8Array | null }
  | { kind: "timeout" }
  | { kind: "busy" }
  | { kind: "no_upstream" };

/** The least room given to an upstream's UDP answer (some send more than the client asked). */
const MIN_UDP_READ_BYTES = 4096;

function randomU16(): number {
  return crypto.getRandomValues(new Uint16Array(1))[0];
}

/** Sends queries upstream; see the module docs. */
export class Forwarder {
  private inflightCount = 0;
  private readonly open = new Set<{ close(): void }>();

  constructor(private readonly options: ForwarderOptions) {}

  /**
   * Forwards `query` (the client's message, asking `question`) and waits for the answer.
   * `maxUdpBytes` is the UDP size the client accepts (its EDNS size, at least 512); answers up
   * to MIN_UDP_READ_BYTES are read whatever it is.
   */
  async forward(
    query: Uint8Array,
    question: Query["question"],
    maxUdpBytes: number,
  ): Promise<ForwardOutcome> {
    if (this.options.upstreams.length === 0) return { kind: "no_upstream" };
    if (this.inflightCount >= this.options.maxInflight) return { kind: "busy" };
    this.inflightCount++;
    const clientId = new DataView(query.buffer, query.byteOffset).getUint16(0);
    const id = randomU16();
    const deadline = Date.now() + this.options.timeoutMs;
    try {
      const udp = await this.overUdp(withId(query, id), id, question, maxUdpBytes, deadline);
      if (udp === null) return { kind: "timeout" };
      if (!udp.truncated) {
        return { kind: "answer", bytes: withId(udp.bytes, clientId), truncated: null };
      }
      const tcp = await this.overTcp(udp.from, withId(query, id), id, question, deadline);
      return tcp === null
        ? { kind: "answer", bytes: withId(udp.bytes, clientId), truncated: null }
        : {
          kind: "answer",
          bytes: withId(tcp, clientId),
          truncated: withId(udp.bytes, clientId),
        };
    } finally {
      this.inflightCount--;
    }
  }

  /** Ends every forward in progress (they resolve as timed out). */
  close(): void {
    for (const resource of [...this.open]) closeQuietly(resource);
    this.open.clear();
  }

  /** Registers `resource` to be closed at `deadline` or on `close()`; returns the undo. */
  private hold(resource: { close(): void }, deadline: number): () => void {
    this.open.add(resource);
    const timer = setTimeout(() => {
      this.open.delete(resource);
      closeQuietly(resource);
    }, Math.max(0, deadline - Date.now()));
    return () => {
      clearTimeout(timer);
      if (this.open.delete(resource)) closeQuietly(resource);
    };
  }

  private async overUdp(
    query: Uint8Array,
    id: number,
    question: Query["question"],
    maxUdpBytes: number,
    deadline: number,
  ): Promise<{ bytes: Uint8Array; truncated: boolean; from: Upstream } | null> {
    const upstreams = this.options.upstreams;
    const families = new Set(upstreams.map((u) => ipVersion(u.host) === 6 ? "::" : "0.0.0.0"));
    const sockets: Deno.DatagramConn[] = [];
    const releases: (() => void)[] = [];
    try {
      for (const hostname of families) {
        const socket = Deno.listenDatagram({ transport: "udp", hostname, port: 0 });
        sockets.push(socket);
        releases.push(this.hold(socket, deadline));
        for (const upstream of upstreams) {
          if ((ipVersion(upstream.host) === 6) !== (hostname === "::")) continue;
          socket.send(query, { transport: "udp", hostname: upstream.host, port: upstream.port })
            .catch(() => {/* unreachable upstream: the others (or the timeout) decide */});
        }
      }
      const receivers = sockets.map((socket) =>
        receiveAnswer(socket, upstreams, id, question, maxUdpBytes)
      );
      // The first valid answer wins; a socket closed by the deadline resolves null.
      return await firstNonNull(receivers);
    } catch {
      return null;
    } finally {
      for (const release of releases) release();
    }
  }

  private async overTcp(
    upstream: Upstream,
    query: Uint8Array,
    id: number,
    question: Query["question"],
    deadline: number,
  ): Promise<Uint8Array | null> {
    let release = () => {};
    let conn: Deno.TcpConn | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const connecting = Deno.connect({ hostname: upstream.host, port: upstream.port });
      conn = await Promise.race([
        connecting,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error("timeout")),
            Math.max(0, deadline - Date.now()),
          );
        }),
      ]).catch((error) => {
        connecting.then(closeQuietly, () => {});
        throw error;
      });
      clearTimeout(timer);
      release = this.hold(conn, deadline);
      await writeAll(conn, frame(query));
      const read = await readFrame(conn, MAX_TCP_MESSAGE_BYTES);
      if (read.kind !== "message") return null;
      return readUpstreamAnswer(read.bytes, id, question) === null ? null : read.bytes;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
      release();
    }
  }
}

/** Receives on `socket` until a valid answer from an upstream arrives; null once closed. */
async function receiveAnswer(
  socket: Deno.DatagramConn,
  upstreams: readonly Upstream[],
  id: number,
  question: Query["question"],
  maxUdpBytes: number,
): Promise<{ bytes: Uint8Array; truncated: boolean; from: Upstream } | null> {
  const buffer = new Uint8Array(Math.max(maxUdpBytes, MIN_UDP_READ_BYTES));
  while (true) {
    let received: [Uint8Array, Deno.Addr];
    try {
      received = await socket.receive(buffer);
    } catch {
      return null;
    }
    const from = received[1] as Deno.NetAddr;
    const upstream = upstreams.find((u) => u.host === from.hostname && u.port === from.port);
    if (upstream === undefined) continue;
    const answer = readUpstreamAnswer(received[0], id, question);
    if (answer === null) continue;
    return { bytes: received[0].slice(), truncated: answer.truncated, from: upstream };
  }
}

/** The first promise to resolve non-null, or null when all resolved null. */
function firstNonNull<T>(promises: Promise<T | null>[]): Promise<T | null> {
  return new Promise((resolve, reject) => {
    let pending = promises.length;
    for (const promise of promises) {
      promise.then((value) => {
        if (value !== null) resolve(value);
        else if (--pending === 0) resolve(null);
      }, reject);
    }
  });
}

/** Closes a socket or connection that may be closed already. */
export function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch { /* already closed */ }
}
