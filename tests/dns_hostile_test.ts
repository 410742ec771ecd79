/**
 * Hostile input against the DNS responder (real sockets on a random loopback address): random
 * bytes, truncated and lying headers, compression loops, over-long labels, oversized and
 * silent TCP clients. Each is counted as malformed (or timed out), never crashes the server,
 * and never draws a reply larger than the query from a source outside allow_from.
 */

import assert from "node:assert/strict";
import type { DnsServerOptions } from "../lib/dns/server.ts";
import { decodeReply, dig, queryBytes, startTestResponder, udpExchange } from "./support/dns.ts";

/** The responder with short TCP bounds, forwarding off. */
function startResponder(overrides: Partial<DnsServerOptions> = {}) {
  return startTestResponder({
    forward: false,
    upstreamTimeoutMs: 500,
    maxInflight: 16,
    tcpMaxConnections: 4,
    tcpIdleMs: 300,
    ...overrides,
  });
}

/** A header: id 0xbeef, RD, then the four counts. */
function header(qd: number, an = 0, ns = 0, ar = 0): number[] {
  return [0xbe, 0xef, 0x01, 0x00, 0, qd, 0, an, 0, ns, 0, ar];
}

const A_IN = [0, 1, 0, 1];

/** The named hostile messages of the issue, each a single UDP payload. */
const HOSTILE: Record<string, Uint8Array> = {
  "header only, qdcount 1": new Uint8Array(header(1)),
  "qdcount 0": new Uint8Array(header(0)),
  "qdcount 50, one question": new Uint8Array([...header(50), 1, 97, 0, ...A_IN]),
  "qdcount 50, fifty questions": new Uint8Array([
    ...header(50),
    ...Array.from({ length: 50 }, () => [1, 97, 0, ...A_IN]).flat(),
  ]),
  "compression loop (pointer to itself)": new Uint8Array([...header(1), 0xc0, 12, ...A_IN]),
  "compression loop (two pointers)": new Uint8Array([
    ...header(1),
    1,
    97,
    0xc0,
    16,
    0xc0,
    12,
    ...A_IN,
  ]),
  "label of 64 bytes": new Uint8Array([...header(1), 64, ...new Array(64).fill(97), 0, ...A_IN]),
  "label length 63 but 10 bytes": new Uint8Array([...header(1), 63, ...new Array(10).fill(97)]),
  "a response, not a query": new Uint8Array([
    0xbe,
    0xef,
    0x81,
    0x80,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    97,
    0,
    ...A_IN,
  ]),
  "opcode 5 (UPDATE)": new Uint8Array([
    0xbe,
    0xef,
    0x28,
    0x00,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    97,
    0,
    ...A_IN,
  ]),
  "eleven bytes": new Uint8Array(header(1).slice(0, 11)),
  "empty datagram": new Uint8Array(0),
};

Deno.test("dns hostile: every malformed message is counted and the server keeps answering", async () => {
  const { ip, server, count, target } = startResponder();
  try {
    for (const [name, bytes] of Object.entries(HOSTILE)) {
      const before = count("malformed");
      const reply = await udpExchange(target, bytes, "127.0.0.1", 300);
      assert.equal(count("malformed"), before + 1, name);
      if (reply !== null) {
        // Only a bare header with FORMERR or NOTIMP, never longer than what was sent.
        assert.ok(reply.length <= Math.max(12, bytes.length), `${name}: ${reply.length} bytes`);
        const rcode = decodeReply(reply).rcode;
        assert.ok(rcode === "FORMERR" || rcode === "NOTIMP", `${name}: ${rcode}`);
      }
    }
    const still = await dig(ip, target.port, "p2p.reolink.com");
    assert.deepEqual(still.answers, [`p2p.reolink.com. A ${ip}`]);
  } finally {
    await server.close();
  }
});

Deno.test("dns hostile: 2,000 random datagrams, no crash, each counted", async () => {
  const { ip, server, count, target } = startResponder();
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const total = () =>
      ["intercepted", "forwarded", "refused", "servfail", "malformed"].reduce(
        (sum, result) => sum + count(result),
        0,
      );
    // In rounds of 50, each waited for, so the kernel's receive buffer never overflows.
    for (let round = 1; round <= 40; round++) {
      for (let i = 0; i < 50; i++) {
        const bytes = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 600)));
        if (bytes.length > 2) bytes[2] &= 0x07; // QR 0, opcode 0: past the first checks more often
        await socket.send(bytes, { transport: "udp", hostname: ip, port: target.port });
      }
      const deadline = Date.now() + 2000;
      while (total() < round * 50 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    assert.equal(total(), 2000);
    assert.ok(count("malformed") > 1500, `malformed ${count("malformed")}`);
    const still = await dig(ip, target.port, "pushx.reolink.com");
    assert.deepEqual(still.answers, [`pushx.reolink.com. A ${ip}`]);
  } finally {
    socket.close();
    await server.close();
  }
});

Deno.test("dns hostile: a source outside allow_from never gets a reply larger than its query", async () => {
  const { server, count, target } = startResponder({ allowFrom: ["10.0.0.0/8"] });
  try {
    const cases: [string, Uint8Array][] = [
      ...Object.entries(HOSTILE),
      ["p2p query", queryBytes("p2p.reolink.com")],
      ["other query", queryBytes("example.test", "AAAA")],
      // A question name that is a pointer into the header: re-encoded it would grow.
      ["pointer into the header", new Uint8Array([...header(1), 0xc0, 2, ...A_IN])],
    ];
    for (const [name, bytes] of cases) {
      const reply = await udpExchange(target, bytes, "127.0.0.1", 300);
      if (reply === null) continue;
      assert.ok(reply.length <= bytes.length, `${name}: ${reply.length} > ${bytes.length}`);
      assert.equal(decodeReply(reply).rcode, "REFUSED", name);
    }
    assert.equal(count("intercepted"), 0);
    assert.ok(count("refused") >= 3);
  } finally {
    await server.close();
  }
});

Deno.test("dns hostile: a datagram over 4096 bytes is dropped and counted", async () => {
  const { server, count, target } = startResponder();
  try {
    const big = new Uint8Array(5000);
    big.set(queryBytes("p2p.reolink.com"));
    const reply = await udpExchange(target, big, "127.0.0.1", 300);
    assert.equal(reply, null);
    assert.equal(count("malformed"), 1);
  } finally {
    await server.close();
  }
});

/** Connects to the responder over TCP. */
function connect(target: { ip: string; port: number }): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: target.ip, port: target.port });
}

/** Resolves with the time the server closed `conn` (read returns EOF or fails), or null. */
async function closedWithin(conn: Deno.TcpConn, ms: number): Promise<number | null> {
  const started = performance.now();
  const timer = setTimeout(() => conn.close(), ms);
  try {
    const buffer = new Uint8Array(64);
    while ((await conn.read(buffer)) !== null) { /* drain */ }
    return performance.now() - started;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

Deno.test("dns hostile: a TCP length of 65535 with 10 bytes behind it is refused at once", async () => {
  const { server, count, target } = startResponder({ tcpIdleMs: 5000 });
  try {
    const conn = await connect(target);
    await conn.write(new Uint8Array([0xff, 0xff, ...new Array(10).fill(7)]));
    const closedAfter = await closedWithin(conn, 3000);
    assert.ok(closedAfter !== null && closedAfter < 1000, `closed after ${closedAfter} ms`);
    assert.equal(count("malformed"), 1);
  } finally {
    await server.close();
  }
});

Deno.test("dns hostile: a TCP client that never sends is closed after the idle time", async () => {
  const { server, target } = startResponder({ tcpIdleMs: 300 });
  try {
    const conn = await connect(target);
    const closedAfter = await closedWithin(conn, 3000);
    assert.ok(closedAfter !== null && closedAfter >= 250 && closedAfter < 2000, `${closedAfter}`);
    // One that sends half a message is closed the same way.
    const half = await connect(target);
    await half.write(new Uint8Array([0, 40, 1, 2, 3]));
    const halfClosed = await closedWithin(half, 3000);
    assert.ok(halfClosed !== null && halfClosed < 2000, `${halfClosed}`);
    assert.equal(server.openConnections(), 0);
  } finally {
    await server.close();
  }
});

Deno.test("dns hostile: TCP connections over the cap are closed at once, the rest served", async () => {
  const { ip, server, target } = startResponder({ tcpMaxConnections: 2, tcpIdleMs: 3000 });
  const held: Deno.TcpConn[] = [];
  try {
    held.push(await connect(target), await connect(target));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(server.openConnections(), 2);
    const extra = await connect(target);
    const closedAfter = await closedWithin(extra, 2000);
    assert.ok(closedAfter !== null && closedAfter < 1000, `${closedAfter}`);
    for (const conn of held.splice(0)) conn.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const served = await dig(ip, target.port, "p2p.reolink.com", { tcp: true });
    assert.deepEqual(served.answers, [`p2p.reolink.com. A ${ip}`]);
  } finally {
    for (const conn of held) conn.close();
    await server.close();
  }
});

Deno.test("dns hostile: pipelined TCP queries on one connection are all answered", async () => {
  const { server, target } = startResponder();
  try {
    const conn = await connect(target);
    const messages = Array.from({ length: 40 }, (_, i) => queryBytes("p2p.reolink.com", "A", i));
    const framed = messages.flatMap((m) => [m.length >> 8, m.length & 0xff, ...m]);
    await conn.write(new Uint8Array(framed));
    const ids = new Set<number>();
    let buffer = new Uint8Array(0);
    const chunk = new Uint8Array(4096);
    while (ids.size < 40) {
      const n = await conn.read(chunk);
      if (n === null) break;
      buffer = new Uint8Array([...buffer, ...chunk.subarray(0, n)]);
      while (buffer.length >= 2 && buffer.length >= 2 + ((buffer[0] << 8) | buffer[1])) {
        const length = (buffer[0] << 8) | buffer[1];
        ids.add(decodeReply(buffer.subarray(2, 2 + length)).id!);
        buffer = buffer.subarray(2 + length);
      }
    }
    conn.close();
    assert.equal(ids.size, 40);
  } finally {
    await server.close();
  }
});

Deno.test("dns hostile: odd types and classes for a Reolink name get an empty NOERROR", async () => {
  const { server, count, target } = startResponder();
  try {
    const name = [3, 112, 50, 112, 7, 114, 101, 111, 108, 105, 110, 107, 3, 99, 111, 109, 0];
    for (const [type, klass] of [[28, 300], [1, 300], [65000, 1], [1, 255], [255, 1]]) {
      const bytes = new Uint8Array([
        ...header(1),
        ...name,
        type >> 8,
        type & 0xff,
        klass >> 8,
        klass & 0xff,
      ]);
      const reply = await udpExchange(target, bytes, "127.0.0.1", 500);
      assert.ok(reply !== null, `type ${type} class ${klass}`);
      const decoded = decodeReply(reply);
      assert.equal(decoded.rcode, "NOERROR");
      assert.deepEqual(decoded.answers, []);
    }
    assert.equal(count("intercepted"), 5);
  } finally {
    await server.close();
  }
});
