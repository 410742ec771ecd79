/**
 * The control API's HTTP limits with real sockets: a half-sent request header is answered 408
 * and closed once the header deadline passes, connections beyond the cap are closed at once,
 * oversized bodies are refused, and the server keeps answering normal requests throughout; and
 * the listener's HTTP/1.1 itself: malformed requests, header size, chunked bodies, pipelining,
 * keep-alive, HTTP/1.0 and HEAD.
 */

import assert from "node:assert/strict";
import { type HttpApi, startHttpApi } from "../lib/api/http.ts";
import { jsonResponse } from "../lib/api/json_response.ts";
import { healthRoute } from "../lib/api/routes.ts";
import { type ApiLimits, DEFAULT_API_LIMITS } from "../lib/api/config.ts";
import {
  KEEP_ALIVE_TIMEOUT_MS,
  MAX_HEADER_BYTES,
  MAX_REQUEST_BODY_BYTES,
} from "../lib/api/http_listener.ts";

/** Generous bound on "the server closes it" waits (the deadlines tested are far shorter). */
const CLOSE_WITHIN_MS = 10_000;

async function withApi(limits: Partial<ApiLimits>, body: (api: HttpApi) => Promise<void>) {
  const api = await startHttpApi({
    listen: { host: "127.0.0.1", port: 0 },
    token: null,
    routes: [healthRoute(), {
      method: "POST",
      path: "/api/echo",
      handle: async (request) => jsonResponse(200, { bytes: (await request.bytes()).length }),
    }],
    limits: { ...DEFAULT_API_LIMITS, ...limits },
  });
  try {
    await body(api);
  } finally {
    await api.close();
  }
}

/** Opens a connection and sends half a request header (no blank line ending it). */
async function halfHeader(port: number): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "));
  return conn;
}

/** Everything the server sends until it closes the connection (bounded wait). */
async function readUntilClosed(conn: Deno.TcpConn): Promise<string> {
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(4096);
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), CLOSE_WITHIN_MS);
  });
  try {
    while (true) {
      const n = await Promise.race([conn.read(buffer).catch(() => null), timeout]);
      if (n === "timeout") throw new Error(`still open after ${CLOSE_WITHIN_MS} ms: ${text}`);
      if (n === null) return text;
      text += decoder.decode(buffer.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

/** "closed" when the server closes `conn` within `ms` without sending a byte, else "open"/"answered"; closes it. */
async function stateAfter(conn: Deno.TcpConn, ms: number): Promise<"closed" | "open" | "answered"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"open">((resolve) => timer = setTimeout(() => resolve("open"), ms));
  try {
    const read = await Promise.race([conn.read(new Uint8Array(1)).catch(() => null), timeout]);
    return read === "open" ? "open" : read === null ? "closed" : "answered";
  } finally {
    clearTimeout(timer);
    conn.close();
  }
}

async function healthy(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  await response.body?.cancel();
  return response.status;
}

Deno.test("a half-sent header is answered 408 and closed after header_timeout_ms", async () => {
  await withApi({ headerTimeoutMs: 300 }, async (api) => {
    const started = performance.now();
    const slow = await Promise.all(Array.from({ length: 20 }, () => halfHeader(api.address.port)));
    const answers = await Promise.all(slow.map(readUntilClosed));
    for (const answer of answers) assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(performance.now() - started >= 300, "not before the deadline");
    assert.equal(await healthy(api.address.port), 200);
  });
});

Deno.test("a header trickled a byte at a time still meets the deadline (slowloris)", async () => {
  await withApi({ headerTimeoutMs: 500 }, async (api) => {
    const conn = await halfHeader(api.address.port);
    const trickle = setInterval(() => {
      conn.write(new TextEncoder().encode("x")).catch(() => clearInterval(trickle));
    }, 50);
    try {
      assert.match(await readUntilClosed(conn), /^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(trickle);
    }
  });
});

Deno.test("a header that completes in time is answered normally", async () => {
  await withApi({ headerTimeoutMs: 2000 }, async (api) => {
    const conn = await halfHeader(api.address.port);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await conn.write(new TextEncoder().encode("1\r\nConnection: close\r\n\r\n"));
    assert.match(await readUntilClosed(conn), /^HTTP\/1\.1 200 [^]*"ok"/);
  });
});

Deno.test("connections beyond max_connections are closed at once; freed slots are reused", async () => {
  await withApi({ maxConnections: 8, headerTimeoutMs: 60_000 }, async (api) => {
    const held = await Promise.all(Array.from({ length: 8 }, () => halfHeader(api.address.port)));
    const extra = await Promise.all(Array.from({ length: 4 }, () => halfHeader(api.address.port)));
    for (const answer of await Promise.all(extra.map(readUntilClosed))) {
      assert.equal(answer, "", "closed without an answer");
    }
    for (const conn of held) conn.close();
    // The server notices the closes asynchronously: retry (bounded) until a slot is free.
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = await healthy(api.address.port).catch(() => 0);
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, 200);
  });
});

Deno.test("800 half-header connections neither stay open nor block the API", async () => {
  const limits = { maxConnections: 64, maxConnectionsPerAddress: 64, headerTimeoutMs: 500 };
  await withApi(limits, async (api) => {
    const conns = await Promise.all(
      Array.from({ length: 800 }, () => halfHeader(api.address.port).catch(() => null)),
    );
    const open = conns.filter((conn): conn is Deno.TcpConn => conn !== null);
    const answers = await Promise.all(open.map(readUntilClosed));
    // Every one is closed (readUntilClosed fails on one still open): those over the cap at
    // once, the others with a 408 at the deadline (a slot freed lets a queued one in).
    const timedOut = answers.filter((answer) => answer.startsWith("HTTP/1.1 408 ")).length;
    assert.ok(timedOut >= 64 && timedOut < open.length, `${timedOut} of ${open.length} got 408`);
    assert.equal(await healthy(api.address.port), 200);
  });
});

Deno.test("one address holding 800 half-sent headers locks no other address out", async () => {
  const limits = { maxConnections: 128, maxConnectionsPerAddress: 32, headerTimeoutMs: 60_000 };
  await withApi(limits, async (api) => {
    // The attacker connects from 127.0.0.1 (Deno.connect's source), the client from 127.0.0.2.
    const attacker = await Promise.all(
      Array.from({ length: 800 }, () => halfHeader(api.address.port).catch(() => null)),
    );
    const held = attacker.filter((conn): conn is Deno.TcpConn => conn !== null);
    const client = Deno.createHttpClient({ localAddress: "127.0.0.2" });
    try {
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:${api.address.port}/healthz`, { client });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { status: "ok" });
      const waited = performance.now() - started;
      assert.ok(waited < 2000, `answered after ${Math.round(waited)} ms`);
    } finally {
      client.close();
    }
    // Past its 32, each of the attacker's connections was closed at once, without an answer.
    const states = await Promise.all(held.map((conn) => stateAfter(conn, 1000)));
    assert.equal(states.filter((state) => state === "open").length, 32, "the attacker's share");
    assert.equal(states.filter((state) => state === "closed").length, held.length - 32);
  });
});

Deno.test("a body over the cap is 413; one under it reaches the route", async () => {
  await withApi({}, async (api) => {
    const url = `http://127.0.0.1:${api.address.port}/api/echo`;
    const small = await fetch(url, { method: "POST", body: "x".repeat(1000) });
    assert.deepEqual(await small.json(), { bytes: 1000 });
    const big = await fetch(url, {
      method: "POST",
      body: new Uint8Array(MAX_REQUEST_BODY_BYTES + 1),
    });
    assert.equal(big.status, 413);
    assert.match((await big.json()).error, /request body over/);
  });
});

/** Sends `text` on a fresh connection and returns all the server answers until it closes. */
async function exchange(port: number, text: string | Uint8Array): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(typeof text === "string" ? new TextEncoder().encode(text) : text);
  return await readUntilClosed(conn);
}

Deno.test("listener: malformed requests are 400 and closed, the server keeps answering", async () => {
  await withApi({}, async (api) => {
    const port = api.address.port;
    const cases = [
      "GARBAGE\r\n\r\n",
      "GET /healthz\r\n\r\n",
      "GET /healthz HTTP/2.0\r\n\r\n",
      "GET healthz HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nContent-Length: lots\r\n\r\n",
      "\x00\xff\x01\r\n\r\n",
    ];
    for (const request of cases) {
      assert.match(await exchange(port, request), /^HTTP\/1\.1 400 Bad Request\r\n/, request);
    }
    assert.equal(await healthy(port), 200);
  });
});

Deno.test("listener: a header over MAX_HEADER_BYTES is 431; a chunked request body is 501", async () => {
  await withApi({}, async (api) => {
    const port = api.address.port;
    const big = `GET /healthz HTTP/1.1\r\nX-Big: ${"a".repeat(MAX_HEADER_BYTES)}\r\n\r\n`;
    assert.match(await exchange(port, big), /^HTTP\/1\.1 431 /);
    const endless = `GET /healthz HTTP/1.1\r\nX-Big: ${"a".repeat(MAX_HEADER_BYTES + 10)}`;
    assert.match(await exchange(port, endless), /^HTTP\/1\.1 431 /);
    const chunked = "POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
      "3\r\nabc\r\n0\r\n\r\n";
    assert.match(await exchange(port, chunked), /^HTTP\/1\.1 501 [^]*Transfer-Encoding/);
  });
});

Deno.test("listener: pipelined and keep-alive requests are answered in order; 1.0 closes", async () => {
  await withApi({}, async (api) => {
    const port = api.address.port;
    const two = "POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" +
      "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const answer = await exchange(port, two);
    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d+) /g)].map((m) => m[1]);
    assert.deepEqual(statuses, ["200", "200"]);
    assert.ok(answer.indexOf('"bytes":3') < answer.indexOf('"ok"'), answer);
    const old = await exchange(port, "GET /healthz HTTP/1.0\r\n\r\n");
    assert.match(old, /^HTTP\/1\.1 200 [^]*connection: close/);
    const head = await exchange(port, "HEAD /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert.match(head, /^HTTP\/1\.1 \d+ /);
    assert.ok(head.endsWith("\r\n\r\n"), `HEAD has no body: ${JSON.stringify(head)}`);
  });
});

Deno.test("listener: an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS", async () => {
  await withApi({}, async (api) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: api.address.port });
    await conn.write(new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const started = performance.now();
    const answer = await readUntilClosed(conn);
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.ok(performance.now() - started >= KEEP_ALIVE_TIMEOUT_MS - 100, "kept open while idle");
  });
});
