/**
 * A camera's motion push, as seen on the wire: a TCP connection from the camera's own loopback
 * address to the push port, optionally followed by a real TLS ClientHello (node:tls, with the
 * given server name). The listener closes it; the returned promise resolves when it is closed.
 */

import * as net from "node:net";
import * as tls from "node:tls";

/** How to push. */
export interface PushOptions {
  /** Source address, e.g. "127.0.0.5" (the camera's address in the registry). */
  from: string;
  /** Push listener address and port. */
  host?: string;
  port: number;
  /** Send a TLS ClientHello with this SNI; undefined = connect and send nothing. */
  sni?: string;
  /** Give up after this long (default 5 s). */
  timeoutMs?: number;
}

/** Connects like a camera does on motion and waits until the listener has closed the socket. */
export function sendPush(options: PushOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: options.host ?? "127.0.0.1",
      port: options.port,
      localAddress: options.from,
    });
    let settled = false;
    const timer = setTimeout(
      () => finish(new Error("push connection not closed in time")),
      options.timeoutMs ?? 5000,
    );
    function finish(error?: Error): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve();
    }
    socket.on("error", (error: Error & { code?: string }) => {
      // The listener closing a half-open TLS handshake shows up as a reset: that is success.
      if (error.code === "ECONNRESET" || error.code === "EPIPE") finish();
      else finish(error);
    });
    socket.on("close", () => finish());
    socket.on("connect", () => {
      if (options.sni === undefined) {
        socket.on("data", () => {});
        return;
      }
      const secure = tls.connect({ socket, servername: options.sni, rejectUnauthorized: false });
      secure.on("error", () => finish());
      secure.on("close", () => finish());
    });
  });
}
