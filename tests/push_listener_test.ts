import assert from "node:assert/strict";
import * as net from "node:net";
import { Metrics } from "../lib/metrics.ts";
import {
  type MotionPush,
  type PushCamera,
  type PushListenerOptions,
  startPushListener,
} from "../lib/push/listener.ts";
import { ListenError, listenError } from "../lib/net/listen_error.ts";
import { sendPush } from "./support/push_client.ts";

const CAMERAS: Record<string, PushCamera> = {
  "127.0.0.5": { uid: "95270000ABCDEFGH0123", name: "garden" },
  "127.0.0.6": { uid: "95270000ZZZZZZZZ0456" },
};

function start(options: Partial<PushListenerOptions> = {}) {
  const metrics = new Metrics();
  const pushes: MotionPush[] = [];
  const waiters: (() => void)[] = [];
  const listener = startPushListener(
    { bind: "127.0.0.1", port: 0, ...options },
    {
      lookup: (ip) => CAMERAS[ip],
      onMotion: (push) => {
        pushes.push(push);
        waiters.splice(0).forEach((wake) => wake());
      },
      metrics,
    },
  );
  const connections = metrics.counter("bairelay_push_connections_total", "");
  const sni = metrics.counter("bairelay_push_sni_total", "");
  /** Resolves when `count` motion pushes were seen (bounded). */
  async function motionCount(count: number, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (pushes.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${pushes.length}/${count} pushes seen`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  return { listener, pushes, connections, sni, motionCount, port: listener.address.port };
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A raw TCP connection from `from` that sends nothing (a camera stuck before its ClientHello). */
function openIdle(from: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress: from });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

function closed(socket: net.Socket, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve();
    const timer = setTimeout(
      () => reject(new Error("socket not closed by the listener")),
      timeoutMs,
    );
    socket.on("error", () => {});
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume();
  });
}

Deno.test("a push from a registered camera fires motion before anything is read", async () => {
  const { listener, pushes, connections, sni, motionCount, port } = start({ sniTimeoutMs: 300 });
  try {
    const socket = await openIdle("127.0.0.5", port);
    await motionCount(1);
    assert.equal(pushes[0].uid, "95270000ABCDEFGH0123");
    assert.equal(pushes[0].name, "garden");
    assert.equal(pushes[0].ip, "127.0.0.5");
    assert.ok(!socket.destroyed, "the event fired while the connection was still open");
    await closed(socket); // closed by the listener when the SNI wait ends
    await until(() => sni.get({ kind: "timeout" }) === 1, "timeout metric");
    assert.equal(connections.get({ result: "motion" }), 1);
  } finally {
    await listener.close();
  }
});

Deno.test("the SNI of a real ClientHello is recorded and the connection closed", async () => {
  const { listener, pushes, sni, port } = start();
  try {
    await sendPush({ from: "127.0.0.6", port, sni: "pushx.reolink.com" });
    assert.equal(pushes.length, 1);
    assert.equal(pushes[0].uid, "95270000ZZZZZZZZ0456");
    await until(() => sni.get({ kind: "reolink" }) === 1, "reolink SNI metric");
    await sendPush({ from: "127.0.0.6", port, sni: "example.org" });
    await until(() => sni.get({ kind: "other" }) === 1, "other SNI metric");
    assert.equal(listener.openConnections(), 0);
  } finally {
    await listener.close();
  }
});

Deno.test("a push from an unknown IP fires nothing and is counted", async () => {
  const { listener, pushes, connections, port } = start();
  try {
    await sendPush({ from: "127.0.0.9", port, sni: "pushx.reolink.com" });
    await until(() => connections.get({ result: "unknown_ip" }) === 1, "unknown_ip metric");
    assert.equal(pushes.length, 0);
  } finally {
    await listener.close();
  }
});

Deno.test("non-TLS bytes end the SNI read at once", async () => {
  const { listener, sni, port } = start({ sniTimeoutMs: 5000 });
  try {
    const socket = await openIdle("127.0.0.5", port);
    const started = Date.now();
    socket.write("GET / HTTP/1.1\r\n\r\n");
    await closed(socket);
    assert.ok(Date.now() - started < 2000, "closed long before the 5 s SNI timeout");
    await until(() => sni.get({ kind: "not_tls" }) === 1, "not_tls metric");
  } finally {
    await listener.close();
  }
});

Deno.test("over the connection cap, pushes still fire but are closed unread", async () => {
  const { listener, pushes, sni, motionCount, port } = start({
    maxConnections: 2,
    sniTimeoutMs: 2000,
  });
  const sockets: net.Socket[] = [];
  try {
    for (let i = 0; i < 5; i++) sockets.push(await openIdle("127.0.0.5", port));
    await motionCount(5);
    assert.equal(pushes.length, 5, "every push fired its motion event");
    await until(() => sni.get({ kind: "skipped" }) === 3, "3 skipped");
    assert.equal(listener.openConnections(), 2);
    await Promise.all(sockets.slice(2).map((socket) => closed(socket, 1000)));
  } finally {
    await listener.close();
    await Promise.all(sockets.map((socket) => closed(socket)));
  }
  assert.equal(listener.openConnections(), 0);
});

Deno.test("close ends open SNI reads promptly", async () => {
  const { listener, motionCount, port } = start({ sniTimeoutMs: 5000 });
  const socket = await openIdle("127.0.0.5", port);
  await motionCount(1);
  const started = Date.now();
  await listener.close();
  assert.ok(Date.now() - started < 1000);
  await closed(socket);
});

Deno.test("a port in use is a ListenError naming the port and the remedy", () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    assert.throws(
      () =>
        startPushListener({ bind: "127.0.0.1", port }, { lookup: () => undefined, onMotion() {} }),
      (error: unknown) => {
        assert.ok(error instanceof ListenError);
        assert.equal(error.code, "EADDRINUSE");
        assert.equal(error.port, port);
        assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        assert.match(error.message, /--push-port/);
        return true;
      },
    );
  } finally {
    busy.close();
  }
});

Deno.test("the remedy for a privileged port names CAP_NET_BIND_SERVICE", () => {
  const error = listenError(
    "push",
    { listener: "push", host: "0.0.0.0", port: 443 },
    new Deno.errors.PermissionDenied("Permission denied (os error 13)"),
  );
  assert.match(error.message, /0\.0\.0\.0:443: Permission denied/);
  assert.match(error.message, /root or CAP_NET_BIND_SERVICE/);
});

/** A ClientHello record with `padding` bytes of padding extension before the server_name. */
function bigClientHello(sni: string, padding: number): Uint8Array {
  const name = [...new TextEncoder().encode(sni)];
  const be16 = (n: number) => [n >> 8, n & 0xff];
  const serverName = [
    0,
    0,
    ...be16(name.length + 5),
    ...be16(name.length + 3),
    0,
    ...be16(name.length),
    ...name,
  ];
  const pad = [0, 21, ...be16(padding), ...new Array(padding).fill(0)];
  const extensions = [...pad, ...serverName];
  const body = [
    3,
    3,
    ...new Array(32).fill(7),
    0,
    0,
    2,
    0x13,
    0x01,
    1,
    0,
    ...be16(extensions.length),
    ...extensions,
  ];
  const handshake = [1, 0, ...be16(body.length), ...body];
  return new Uint8Array([22, 3, 1, ...be16(handshake.length), ...handshake]);
}

Deno.test("a ClientHello larger than the first read buffer is still read whole", async () => {
  const { listener, sni, port } = start({ sniTimeoutMs: 2000 });
  try {
    const socket = await openIdle("127.0.0.5", port);
    const hello = bigClientHello("pushx.reolink.com", 5000);
    // Sent in pieces, as a slow camera might.
    for (let i = 0; i < hello.length; i += 700) socket.write(hello.subarray(i, i + 700));
    await closed(socket);
    await until(() => sni.get({ kind: "reolink" }) === 1, "reolink SNI from a 5 kB ClientHello");
  } finally {
    await listener.close();
  }
});

Deno.test("a throwing lookup costs that connection only; the listener keeps accepting", async () => {
  let calls = 0;
  const pushes: MotionPush[] = [];
  const listener = startPushListener({ bind: "127.0.0.1", port: 0 }, {
    lookup: (ip) => {
      if (calls++ === 0) throw new Error("registry exploded");
      return CAMERAS[ip];
    },
    onMotion: (push) => pushes.push(push),
  });
  try {
    await sendPush({ from: "127.0.0.5", port: listener.address.port });
    await sendPush({ from: "127.0.0.5", port: listener.address.port, sni: "pushx.reolink.com" });
    assert.equal(pushes.length, 1);
  } finally {
    await listener.close();
  }
});
