/** The UDP socket the wake client talks through, and its default `node:dgram` implementation. */

import dgram from "node:dgram";
import type { Endpoint } from "./endpoint.ts";

/** Called for every datagram the socket receives. */
export type DatagramHandler = (bytes: Uint8Array, from: Endpoint) => void;

/** A bound UDP socket: what `wakeCamera` needs from the network (replaceable in tests). */
export interface ClientSocket {
  /** The local port the socket is bound to (the `<port>` of `<cli>`). */
  readonly localPort: number;
  /** Sends one datagram; failures are reported through `onSendError`, never thrown. */
  send(bytes: Uint8Array, to: Endpoint): void;
  /** Replaces the receive handler (undefined drops datagrams). */
  onDatagram(handler: DatagramHandler | undefined): void;
  /** Called with a short description when a send fails (unreachable network, ...). */
  onSendError(handler: (message: string) => void): void;
  close(): Promise<void>;
}

/** Opens a client socket bound to an ephemeral port on every local IPv4 address. */
export type OpenSocket = () => Promise<ClientSocket>;

/** The default OpenSocket: `node:dgram` udp4 bound to 0.0.0.0, port 0. */
export const openDgramSocket: OpenSocket = async () => {
  const socket = dgram.createSocket("udp4");
  let handler: DatagramHandler | undefined;
  let sendError: (message: string) => void = () => {};
  socket.on("message", (message, remote) => {
    handler?.(new Uint8Array(message), { ip: remote.address, port: remote.port });
  });
  socket.on("error", (error) => sendError(error.message));
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "0.0.0.0", () => {
      socket.off("error", reject);
      resolve();
    });
  });
  const localPort = socket.address().port;
  let closed = false;
  return {
    localPort,
    send(bytes, to) {
      if (closed) return;
      socket.send(bytes, to.port, to.ip, (error) => {
        if (error) sendError(`sending to ${to.ip}:${to.port} failed: ${error.message}`);
      });
    },
    onDatagram(next) {
      handler = next;
    },
    onSendError(next) {
      sendError = next;
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      handler = undefined;
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
};
