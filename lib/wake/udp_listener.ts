/**
 * One UDP listener of the wake server on `Deno.listenDatagram` (enabled by
 * `"unstable": ["net"]` in deno.json). Received datagrams land in one reused buffer: measured
 * against `node:dgram`, which allocates 64 KiB per datagram, this answers about a third more
 * heartbeats per second and keeps resident memory near a third (see BENCHMARKS.md).
 */

import { type ReceiveBufferResult, setReceiveBuffer } from "./receive_buffer.ts";
import type { Address } from "./registry.ts";
import type { ListenerName } from "./types.ts";

/** Largest datagram read; a UDP payload cannot be larger. */
export const MAX_DATAGRAM_SIZE = 65535;
/** Pause after a failed receive, so a persistent socket error cannot spin the CPU. */
const RECEIVE_ERROR_PAUSE_MS = 10;

/** A listener could not bind; the message says which, why and what to do. */
export class WakeServerBindError extends Error {
  constructor(
    readonly listener: ListenerName,
    readonly address: string,
    readonly port: number,
    readonly code: string,
  ) {
    super(bindMessage(listener, address, port, code));
    this.name = "WakeServerBindError";
  }
}

function bindMessage(listener: ListenerName, address: string, port: number, code: string): string {
  const where = `${listener} listener on udp ${address}:${port}`;
  switch (code) {
    case "EADDRINUSE":
      return `cannot bind the ${where}: port ${port} is already in use (stop the other ` +
        `program or choose another ${listener} port)`;
    case "EACCES":
    case "EPERM":
      return `cannot bind the ${where}: permission denied (run with CAP_NET_BIND_SERVICE, ` +
        `e.g. AmbientCapabilities=CAP_NET_BIND_SERVICE, or choose a port above 1023)`;
    case "EADDRNOTAVAIL":
      return `cannot bind the ${where}: ${address} is not an address of this machine ` +
        `(use 0.0.0.0 or one of its addresses)`;
    default:
      return `cannot bind the ${where}: ${code}`;
  }
}

function errorCode(error: unknown): string {
  if (error instanceof Deno.errors.AddrInUse) return "EADDRINUSE";
  if (error instanceof Deno.errors.PermissionDenied) return "EACCES";
  if (error instanceof Deno.errors.AddrNotAvailable) return "EADDRNOTAVAIL";
  const code = (error as { code?: unknown })?.code;
  if (typeof code === "string") return code;
  return (error as Error)?.message ?? String(error);
}

/** `::ffff:a.b.c.d` (an IPv4 peer on a dual-stack `::` socket) as plain `a.b.c.d`. */
export function plainIp(ip: string): string {
  return ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice(7) : ip;
}

/** What a listener reports back to its owner. */
export interface UdpListenerHandlers {
  /** A datagram arrived. `bytes` is only valid during the call (the buffer is reused). */
  onDatagram(bytes: Uint8Array, from: Address): void;
  /** A send failed (counted by the owner; never fatal). */
  onSendFailed(): void;
  /** Receiving or handling a datagram failed (logged by the owner; the listener goes on). */
  onReceiveError(error: unknown): void;
}

/** A bound UDP listener. */
export interface UdpListener {
  /** The address actually bound (port resolved when 0 was asked). */
  readonly address: Address;
  /** What became of `receiveBufferBytes`, when it was asked for. */
  readonly receiveBuffer?: ReceiveBufferResult;
  /** Sends without waiting; failures go to `onSendFailed`. */
  send(bytes: Uint8Array, to: Address): void;
  /** Stops receiving and releases the socket. */
  close(): Promise<void>;
}

/**
 * Binds `address:port` and starts receiving; throws WakeServerBindError when it cannot bind.
 * A `receiveBufferBytes` above 0 asks the kernel for that receive buffer (see
 * receive_buffer.ts); the outcome is in the listener's `receiveBuffer`.
 */
export function bindUdpListener(
  listener: ListenerName,
  address: string,
  port: number,
  handlers: UdpListenerHandlers,
  receiveBufferBytes = 0,
): UdpListener {
  let conn: Deno.DatagramConn;
  try {
    conn = Deno.listenDatagram({ transport: "udp", hostname: address, port });
  } catch (error) {
    throw new WakeServerBindError(listener, address, port, errorCode(error));
  }
  const bound = conn.addr as Deno.NetAddr;
  const receiveBuffer = receiveBufferBytes > 0
    ? setReceiveBuffer(bound.port, receiveBufferBytes)
    : undefined;
  let closed = false;
  /** Made once: a closure per datagram sent would be garbage at every heartbeat. */
  const sendFailed = () => handlers.onSendFailed();

  const receiving = (async () => {
    const buffer = new Uint8Array(MAX_DATAGRAM_SIZE);
    while (!closed) {
      let received: [Uint8Array, Deno.Addr];
      try {
        received = await conn.receive(buffer);
      } catch (error) {
        if (closed || error instanceof Deno.errors.BadResource) return;
        handlers.onReceiveError(error);
        await new Promise((resolve) => setTimeout(resolve, RECEIVE_ERROR_PAUSE_MS));
        continue;
      }
      const from = received[1] as Deno.NetAddr;
      try {
        handlers.onDatagram(received[0], { ip: plainIp(from.hostname), port: from.port });
      } catch (error) {
        handlers.onReceiveError(error);
      }
    }
  })();

  return {
    address: { ip: bound.hostname, port: bound.port },
    receiveBuffer,
    send(bytes, to) {
      if (closed) return;
      conn.send(bytes, { transport: "udp", hostname: to.ip, port: to.port }).catch(sendFailed);
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch { /* already closed */ }
      await receiving;
    },
  };
}
