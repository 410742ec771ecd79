/**
 * A UDP endpoint speaking BcUdp for tests: sends messages, keeps every decoded packet it
 * receives (with receive time and sender) and waits for the ones a test expects, always
 * with a bounded timeout. The camera and client simulators are built on it.
 */

import dgram from "node:dgram";
import {
  decodeDatagramLenient,
  encodeDiscovery,
  type Message,
  type MessageOf,
  type VariantName,
} from "../../lib/bcudp/mod.ts";

/** An IP address and UDP port. */
export interface Endpoint {
  ip: string;
  port: number;
}

/** One decoded message as received. */
export interface Received<V extends VariantName = VariantName> {
  message: MessageOf<V>;
  tid: number;
  from: Endpoint;
  /** `performance.now()` when the datagram arrived. */
  at: number;
  /** The decrypted XML text, exactly as sent. */
  xml: string;
  /** The raw datagram. */
  bytes: Uint8Array;
}

/** Default bound on every wait, in ms (the test box is slow and shared). */
export const DEFAULT_WAIT_MS = 3000;

interface Waiter {
  match: (r: Received) => boolean;
  resolve: (r: Received) => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Thrown when an expected message did not arrive in time. */
export class WaitTimeout extends Error {}

/** A random u32 for tids. */
export function randomTid(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0];
}

/** A bound UDP socket that records every BcUdp message it receives. */
export class UdpPeer {
  /** Every message received, in order. */
  readonly received: Received[] = [];
  private readonly waiters = new Set<Waiter>();
  /** Called for each message after it is recorded (simulators react here). */
  protected onMessage?: (r: Received) => void;

  protected constructor(protected readonly socket: dgram.Socket, readonly address: Endpoint) {
    socket.on("message", (bytes: Uint8Array, rinfo: dgram.RemoteInfo) => {
      const at = performance.now();
      const { packets } = decodeDatagramLenient(bytes);
      for (const packet of packets) {
        if (packet.kind !== "discovery") continue;
        const r: Received = {
          message: packet.message,
          tid: packet.tid,
          from: { ip: rinfo.address, port: rinfo.port },
          at,
          xml: packet.xml,
          bytes,
        };
        this.received.push(r);
        this.onMessage?.(r);
        for (const waiter of this.waiters) {
          if (!waiter.match(r)) continue;
          this.waiters.delete(waiter);
          clearTimeout(waiter.timer);
          waiter.resolve(r);
        }
      }
    });
  }

  /** Binds a UDP socket on `ip` (default 127.0.0.1) and `port` (default ephemeral). */
  protected static async bindSocket(ip = "127.0.0.1", port = 0): Promise<dgram.Socket> {
    const socket = dgram.createSocket(ip.includes(":") ? "udp6" : "udp4");
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(port, ip, () => {
        socket.off("error", reject);
        resolve();
      });
    });
    return socket;
  }

  /** Sends raw bytes to `to`. */
  sendRaw(bytes: Uint8Array, to: Endpoint): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.send(bytes, to.port, to.ip, (error) => error ? reject(error) : resolve());
    });
  }

  /** Encodes and sends `message` with `tid` (random by default); returns the tid. */
  async send(message: Message, to: Endpoint, tid = randomTid()): Promise<number> {
    await this.sendRaw(encodeDiscovery(message, tid), to);
    return tid;
  }

  /**
   * Waits for the first message of `variant` (received from now on, or already received
   * when `includePast`) that passes `match`; rejects with WaitTimeout after `timeoutMs`.
   */
  waitFor<V extends VariantName>(
    variant: V,
    options: { match?: (r: Received<V>) => boolean; timeoutMs?: number; includePast?: boolean } =
      {},
  ): Promise<Received<V>> {
    const match = (r: Received) =>
      r.message.variant === variant && (options.match?.(r as unknown as Received<V>) ?? true);
    if (options.includePast) {
      const past = this.received.find(match);
      if (past) return Promise.resolve(past as unknown as Received<V>);
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const promise = new Promise<Received<V>>((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: resolve as unknown as (r: Received) => void,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new WaitTimeout(`no ${variant} within ${timeoutMs} ms at ${this.label()}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
    promise.catch(() => {}); // a wait abandoned by close() is not an unhandled rejection
    return promise;
  }

  /** Sends `message` and waits for the reply of `variant` carrying the same tid. */
  async request<V extends VariantName>(
    message: Message,
    to: Endpoint,
    variant: V,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<Received<V>> {
    const tid = randomTid();
    const reply = this.waitFor(variant, { match: (r) => r.tid === tid, timeoutMs });
    await this.send(message, to, tid);
    return await reply;
  }

  /** Every received message of `variant`. */
  all<V extends VariantName>(variant: V): Received<V>[] {
    return this.received.filter((r) => r.message.variant === variant) as unknown as Received<V>[];
  }

  /** Waits `ms` and returns how many messages of `variant` arrived meanwhile (no-reply checks). */
  async countDuring(variant: VariantName, ms: number): Promise<number> {
    const before = this.all(variant).length;
    await new Promise((r) => setTimeout(r, ms));
    return this.all(variant).length - before;
  }

  protected label(): string {
    return `${this.address.ip}:${this.address.port}`;
  }

  /** Closes the socket and fails pending waits. */
  async close(): Promise<void> {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new WaitTimeout(`${this.label()} closed`));
    }
    this.waiters.clear();
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
