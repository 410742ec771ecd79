/**
 * The receive loop of a bound UDP socket (`Deno.listenDatagram`), shared by the wake
 * server's listeners and the DNS responder. Datagrams land in one reused buffer: measured
 * against `node:dgram`, which allocates 64 KiB per datagram, this answers about a third more
 * heartbeats per second and keeps resident memory near a third (see BENCHMARKS.md).
 */

/** Largest datagram read; a UDP payload cannot be larger. */
export const MAX_DATAGRAM_SIZE = 65535;
/** Pause after a failed receive, so a persistent socket error cannot spin the CPU. */
const RECEIVE_ERROR_PAUSE_MS = 10;

/** What the loop reports to its owner. */
export interface DatagramHandlers {
  /**
   * A datagram arrived: `bytes` is only valid during the call (the buffer is reused); `from`
   * is the sender as the socket reports it (see `plainIp` for IPv4-mapped senders).
   */
  onDatagram(bytes: Uint8Array, from: Deno.NetAddr): void;
  /** Receiving failed, or `onDatagram` threw; the loop goes on. */
  onReceiveError(error: unknown): void;
}

/**
 * Receives on `conn` into one buffer of `bufferBytes` until `stopped()` says so or the socket
 * is closed; resolves then. A datagram longer than the buffer arrives cut to the buffer's
 * length, so a caller that must tell asks for one byte more than it accepts.
 */
export async function receiveDatagrams(
  conn: Deno.DatagramConn,
  bufferBytes: number,
  handlers: DatagramHandlers,
  stopped: () => boolean,
): Promise<void> {
  const buffer = new Uint8Array(bufferBytes);
  while (!stopped()) {
    let received: [Uint8Array, Deno.Addr];
    try {
      received = await conn.receive(buffer);
    } catch (error) {
      if (stopped() || error instanceof Deno.errors.BadResource) return;
      handlers.onReceiveError(error);
      await new Promise((resolve) => setTimeout(resolve, RECEIVE_ERROR_PAUSE_MS));
      continue;
    }
    try {
      handlers.onDatagram(received[0], received[1] as Deno.NetAddr);
    } catch (error) {
      handlers.onReceiveError(error);
    }
  }
}
