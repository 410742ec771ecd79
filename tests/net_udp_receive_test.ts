/**
 * The shared UDP receive loop on real sockets: datagrams reach the handler with their
 * sender, one longer than the buffer arrives cut to it, a throwing handler does not stop the
 * loop, and closing the socket ends it.
 */

import assert from "node:assert/strict";
import { receiveDatagrams } from "../lib/net/udp_receive.ts";

const BUFFER_BYTES = 8;

Deno.test("the receive loop delivers datagrams, survives a throwing handler, ends on close", async () => {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const sender = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const to = conn.addr as Deno.NetAddr;
  const received: { text: string; port: number }[] = [];
  const errors: unknown[] = [];
  let arrived = () => {};
  let closed = false;
  const loop = receiveDatagrams(conn, BUFFER_BYTES, {
    onDatagram(bytes, from) {
      const text = new TextDecoder().decode(bytes);
      received.push({ text, port: from.port });
      arrived();
      if (text === "throw") throw new Error("handler failed");
    },
    onReceiveError: (error) => errors.push(error),
  }, () => closed);
  try {
    for (const text of ["throw", "short", "longer than eight"]) {
      const delivered = new Promise<void>((resolve) => arrived = resolve);
      await sender.send(new TextEncoder().encode(text), to);
      await delivered;
    }
    const senderPort = (sender.addr as Deno.NetAddr).port;
    assert.deepEqual(received, [
      { text: "throw", port: senderPort },
      { text: "short", port: senderPort },
      { text: "longer t", port: senderPort },
    ]);
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /handler failed/);
  } finally {
    closed = true;
    conn.close();
    sender.close();
  }
  await loop;
  assert.equal(errors.length, 1, "closing is not a receive error");
});
