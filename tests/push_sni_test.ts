import assert from "node:assert/strict";
import * as tls from "node:tls";
import fc from "fast-check";
import { MAX_CLIENT_HELLO_BYTES, readClientHelloSni } from "../lib/push/sni.ts";

/** The first bytes a real TLS stack (node:tls) sends for `servername`. */
async function realClientHello(servername?: string): Promise<Uint8Array> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const client = tls.connect({ host: "127.0.0.1", port, servername, rejectUnauthorized: false });
  client.on("error", () => {});
  const conn = await listener.accept();
  const buffer = new Uint8Array(MAX_CLIENT_HELLO_BYTES);
  let filled = 0;
  try {
    while (readClientHelloSni(buffer.subarray(0, filled)).kind === "incomplete") {
      const count = await conn.read(buffer.subarray(filled));
      if (count === null) break;
      filled += count;
    }
  } finally {
    conn.close();
    listener.close();
    await new Promise((resolve) => {
      client.once("close", resolve);
      client.destroy();
    });
  }
  return buffer.slice(0, filled);
}

Deno.test("reads the SNI of a real ClientHello", async () => {
  const hello = await realClientHello("pushx.reolink.com");
  assert.deepEqual(readClientHelloSni(hello), { kind: "client_hello", sni: "pushx.reolink.com" });
});

Deno.test("a ClientHello without server_name has no SNI", async () => {
  // node:tls sends no SNI when connecting to an IP address (RFC 6066 forbids literal IPs).
  const hello = await realClientHello(undefined);
  assert.deepEqual(readClientHelloSni(hello), { kind: "client_hello" });
});

Deno.test("every strict prefix of a ClientHello is incomplete", async () => {
  const hello = await realClientHello("pushx.reolink.com");
  for (let length = 0; length < hello.length; length++) {
    assert.equal(readClientHelloSni(hello.subarray(0, length)).kind, "incomplete", `${length}`);
  }
});

Deno.test("non-TLS first bytes are not_tls at once", () => {
  const http = new TextEncoder().encode("GET / HTTP/1.1\r\n");
  const result = readClientHelloSni(http);
  assert.equal(result.kind, "not_tls");
  assert.equal(readClientHelloSni(http.subarray(0, 1)).kind, "not_tls");
  assert.equal(readClientHelloSni(new Uint8Array([22, 2, 0, 0, 1, 1])).kind, "not_tls");
});

Deno.test("a record longer than TLS allows is not_tls", () => {
  const result = readClientHelloSni(new Uint8Array([22, 3, 1, 0xff, 0xff]));
  assert.equal(result.kind, "not_tls");
});

Deno.test("a corrupted extension length is reported, not thrown", async () => {
  const hello = await realClientHello("pushx.reolink.com");
  const sessionIdLength = hello[5 + 4 + 34];
  const suitesAt = 5 + 4 + 34 + 1 + sessionIdLength;
  const suitesLength = (hello[suitesAt] << 8) | hello[suitesAt + 1];
  const compressionAt = suitesAt + 2 + suitesLength;
  const extensionsAt = compressionAt + 1 + hello[compressionAt];
  const broken = hello.slice();
  broken[extensionsAt] = 0xff; // extensions claim far more bytes than the record holds
  const result = readClientHelloSni(broken);
  assert.equal(result.kind, "not_tls");
  assert.match((result as { reason: string }).reason, /runs past/);
});

Deno.test("a server name with control bytes is escaped", () => {
  const name = [0x61, 0x0a, 0x62]; // "a\nb"
  const ext = [0, 0, 0, name.length + 5, 0, name.length + 3, 0, 0, name.length, ...name];
  const body = [3, 3, ...new Array(32).fill(0), 0, 0, 2, 0x13, 0x01, 1, 0, 0, ext.length, ...ext];
  const handshake = [1, 0, 0, body.length, ...body];
  const record = new Uint8Array([22, 3, 1, 0, handshake.length, ...handshake]);
  assert.deepEqual(readClientHelloSni(record), { kind: "client_hello", sni: "a\\x0ab" });
});

Deno.test("any bytes give a result, never an exception", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      const result = readClientHelloSni(bytes);
      assert.ok(["client_hello", "incomplete", "not_tls"].includes(result.kind));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 400 }), (tail) => {
      const bytes = new Uint8Array([22, 3, 1, tail.length >> 8, tail.length & 0xff, 1, ...tail]);
      assert.ok(["client_hello", "incomplete", "not_tls"].includes(readClientHelloSni(bytes).kind));
    }),
    { numRuns: 2000 },
  );
});
