/**
 * One UDP listener of the wake server on `Deno.listenDatagram` (enabled by
 * `"unstable": ["net"]` in deno.json), receiving through the shared loop (net/udp_receive.ts).
 */

import { plainIp } from "../net/ip.ts";
import { listenError } from "../net/listen_error.ts";
import { type ReceiveBufferResult, setReceiveBuffer } from "../net/receive_buffer.ts";
import { MAX_DATAGRAM_SIZE, receiveDatagrams } from "../net/udp_receive.ts";
import type { Address } from "./registry.ts";
import type { ListenerName } from "./types.ts";

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
 * Binds `address:port` and starts receiving; throws ListenError when it cannot bind.
 * A `receiveBufferBytes` above 0 asks the kernel for that receive buffer (see
 * net/receive_buffer.ts); the outcome is in the listener's `receiveBuffer`.
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
    throw listenError("wake", { listener, host: address, port }, error);
  }
  const bound = conn.addr as Deno.NetAddr;
  const receiveBuffer = receiveBufferBytes > 0
    ? setReceiveBuffer(bound.port, receiveBufferBytes)
    : undefined;
  let closed = false;
  /** Made once: a closure per datagram sent would be garbage at every heartbeat. */
  const sendFailed = () => handlers.onSendFailed();

  const receiving = receiveDatagrams(conn, MAX_DATAGRAM_SIZE, {
    onDatagram: (bytes, from) =>
      handlers.onDatagram(bytes, { ip: plainIp(from.hostname), port: from.port }),
    onReceiveError: (error) => handlers.onReceiveError(error),
  }, () => closed);

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
