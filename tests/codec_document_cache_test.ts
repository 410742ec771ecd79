/** The document cache (repeated Discovery bodies decode without a parse) and writeDiscoveryPacket. */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BcUdpError,
  decodeDatagramLenient,
  DOCUMENT_CACHE_ENTRIES,
  DocumentCache,
  encodeDiscovery,
  encodeDiscoveryXml,
  HEADER_SIZE,
  MAX_CACHED_DOCUMENT_BYTES,
  message,
  RECENT_DOCUMENT_ENTRIES,
  RecentCache,
  writeDiscoveryPacket,
  writeMessage,
} from "../lib/bcudp/mod.ts";
import { anyMessage, anyTid } from "./support/codec_arbitraries.ts";

const heartbeat = (uid: string) => message("D2R_HB", { uid, needrsp: 1, token: 7n });

Deno.test("document cache: a body seen again under another tid is the same message, no parse", () => {
  const documents = new DocumentCache();
  decodeDatagramLenient(encodeDiscovery(heartbeat("95270000ABCDEFGH0123"), 7), { documents });
  assert.equal(documents.hits, 0);
  const first = decodeDatagramLenient(encodeDiscovery(heartbeat("95270000ABCDEFGH0123"), 1), {
    documents,
  });
  assert.equal(documents.hits, 0, "remembered from its second sight on");
  const again = decodeDatagramLenient(encodeDiscovery(heartbeat("95270000ABCDEFGH0123"), 99), {
    documents,
  });
  assert.equal(documents.hits, 1);
  const [a, b] = [first.packets[0], again.packets[0]];
  assert.ok(a.kind === "discovery" && b.kind === "discovery");
  assert.equal(b.tid, 99);
  assert.equal(b.message, a.message, "the parsed message is shared");
  assert.equal(b.xml, a.xml);
  const other = decodeDatagramLenient(encodeDiscovery(heartbeat("95270000ABCDEFGH9999"), 99), {
    documents,
  });
  assert.equal(documents.hits, 1, "a different body is parsed");
  assert.ok(other.packets[0].kind === "discovery");
  assert.deepEqual(other.packets[0].message, heartbeat("95270000ABCDEFGH9999"));
});

Deno.test("document cache: decoding with and without it gives equal packets and errors", () => {
  const documents = new DocumentCache();
  fc.assert(
    fc.property(anyMessage, anyTid, anyTid, (msg, tid1, tid2) => {
      for (const tid of [tid1, tid2]) {
        const bytes = encodeDiscovery(msg, tid);
        assert.deepEqual(decodeDatagramLenient(bytes, { documents }), decodeDatagramLenient(bytes));
      }
    }),
    { numRuns: 300 },
  );
  for (const xml of ["<P2P><D2R_HB><uid>x</uid>", "<P2P><NOPE/></P2P>", "not xml"]) {
    const bytes = encodeDiscoveryXml(xml, 5);
    const plain = decodeDatagramLenient(bytes);
    assert.ok(plain.error instanceof BcUdpError);
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(decodeDatagramLenient(bytes, { documents }), plain, "errors not cached");
    }
  }
});

Deno.test("document cache: bounded by DOCUMENT_CACHE_ENTRIES and MAX_CACHED_DOCUMENT_BYTES", () => {
  const documents = new DocumentCache();
  const uid = (i: number) => `9527${String(i).padStart(12, "0")}0123`;
  const decode = (i: number) =>
    decodeDatagramLenient(encodeDiscovery(heartbeat(uid(i)), i), { documents });
  for (let i = 0; i < DOCUMENT_CACHE_ENTRIES; i++) {
    decode(i);
    decode(i); // remembered from the second sight
  }
  assert.equal(documents.hits, 0);
  decode(0);
  assert.equal(documents.hits, 1, "all of them held while the cache is not full");
  decode(DOCUMENT_CACHE_ENTRIES);
  decode(DOCUMENT_CACHE_ENTRIES); // one more remembered: the cache is emptied first
  decode(1);
  assert.equal(documents.hits, 1, "older documents are gone after the cache was emptied");
  decode(DOCUMENT_CACHE_ENTRIES);
  assert.equal(documents.hits, 2, "the newest one stays");

  const padded = `<!--${"x".repeat(MAX_CACHED_DOCUMENT_BYTES)}-->` +
    writeMessage(heartbeat(uid(1)));
  for (let i = 0; i < 2; i++) {
    const { packets } = decodeDatagramLenient(encodeDiscoveryXml(padded, i), { documents });
    assert.ok(packets[0].kind === "discovery");
    assert.deepEqual(packets[0].message, heartbeat(uid(1)));
  }
  assert.equal(documents.hits, 2, "a body over the size limit is never cached");
});

Deno.test("document cache: a stream of distinct documents keeps none of them", () => {
  const documents = new DocumentCache();
  const uid = (i: number) => `9527${String(i).padStart(12, "0")}0123`;
  const decode = (i: number) =>
    decodeDatagramLenient(encodeDiscovery(heartbeat(uid(i)), i + 1), { documents });
  decode(0);
  decode(0); // a camera's document, remembered
  for (let i = 1; i <= 2 * DOCUMENT_CACHE_ENTRIES; i++) decode(i);
  decode(0);
  assert.equal(documents.hits, 1, "documents seen once never filled (and emptied) the cache");
  const [a, b] = [decode(7), decode(7)];
  assert.deepEqual(b, a, "a document seen once is parsed again on its second sight");
});

Deno.test("document cache: only ASCII documents are kept; others decode right every time", () => {
  const documents = new DocumentCache();
  const encoder = new TextEncoder();
  const valid = encoder.encode(writeMessage(heartbeat("95270000CAMÉRA000123")));
  // A lone 0xE9 (Latin-1 é) is not UTF-8: it decodes to U+FFFD, as without the cache.
  const xml = writeMessage(heartbeat("95270000CAMXRA000123"));
  const invalid = encoder.encode(xml);
  invalid[xml.indexOf("X")] = 0xe9;
  for (const body of [valid, invalid]) {
    const plain = decodeDatagramLenient(
      writeDiscoveryPacket(body, 3, new Uint8Array(HEADER_SIZE + body.length)),
    );
    assert.equal(plain.error, undefined);
    for (let i = 0; i < 3; i++) {
      const packet = writeDiscoveryPacket(body, 3 + i, new Uint8Array(HEADER_SIZE + body.length));
      const decoded = decodeDatagramLenient(packet, { documents });
      assert.ok(decoded.packets[0].kind === "discovery" && plain.packets[0].kind === "discovery");
      assert.deepEqual(decoded.packets[0].message, plain.packets[0].message);
      assert.equal(decoded.packets[0].xml, plain.packets[0].xml);
    }
  }
  assert.equal(documents.hits, 0, "non-ASCII documents are parsed every time");
  const ascii = encoder.encode(writeMessage(heartbeat("95270000CAMERA000123")));
  for (let i = 0; i < 3; i++) {
    decodeDatagramLenient(
      writeDiscoveryPacket(ascii, i, new Uint8Array(HEADER_SIZE + ascii.length)),
      {
        documents,
      },
    );
  }
  assert.equal(documents.hits, 1, "an ASCII document is served from its third sight");
});

Deno.test("RecentCache keeps at most its capacity, forgetting the least recently used", () => {
  const cache = new RecentCache<string>(3);
  cache.set(1, "a");
  cache.set(2, "b");
  cache.set(3, "c");
  assert.equal(cache.get(1), "a"); // 2 is now the least recently used
  cache.set(4, "d");
  assert.equal(cache.get(2), undefined);
  assert.deepEqual([cache.get(1), cache.get(3), cache.get(4)], ["a", "c", "d"]);
  cache.set(3, "c2"); // replaces in place, forgets nothing
  assert.deepEqual([cache.get(1), cache.get(3), cache.get(4)], ["a", "c2", "d"]);
  for (let key = 10; key < 1000; key++) cache.set(key, `k${key}`);
  assert.deepEqual([cache.get(997), cache.get(998), cache.get(999)], ["k997", "k998", "k999"]);
  assert.equal(cache.get(1), undefined);
});

Deno.test("document cache, bursts: a burst is served from the recent tier, then forgotten", () => {
  const documents = new DocumentCache("bursts");
  const uid = (i: number) => `9527${String(i).padStart(12, "0")}0123`;
  const decode = (i: number, tid = i + 1) =>
    decodeDatagramLenient(encodeDiscovery(heartbeat(uid(i)), tid), { documents });
  for (let tid = 1; tid <= 5; tid++) decode(0, tid); // a burst of one document
  assert.equal(documents.hits, 3, "held from its second sight on");
  for (let i = 1; i <= RECENT_DOCUMENT_ENTRIES; i++) [decode(i), decode(i)]; // other bursts
  const hits = documents.hits;
  decode(0);
  assert.equal(documents.hits, hits, "pushed out of the recent tier by newer bursts");
  for (let i = 20; i < 20 + RECENT_DOCUMENT_ENTRIES; i++) [decode(i), decode(i)];
  decode(0);
  assert.equal(documents.hits, hits + 1, "seen again after it left the recent tier: held long");
});

Deno.test("writeDiscoveryPacket frames UTF-8 bytes exactly like encodeDiscoveryXml", () => {
  fc.assert(
    fc.property(anyMessage, anyTid, (msg, tid) => {
      const xml = writeMessage(msg);
      const plain = new TextEncoder().encode(xml);
      const out = writeDiscoveryPacket(plain, tid, new Uint8Array(HEADER_SIZE + plain.length));
      assert.deepEqual(out, encodeDiscoveryXml(xml, tid));
    }),
    { numRuns: 300 },
  );
  const plain = new TextEncoder().encode("<P2P/>");
  assert.throws(() => writeDiscoveryPacket(plain, 1, new Uint8Array(HEADER_SIZE)), RangeError);
  assert.throws(
    () => writeDiscoveryPacket(plain, -1, new Uint8Array(HEADER_SIZE + plain.length)),
    (e: unknown) => e instanceof BcUdpError && e.reason === "out_of_range",
  );
});
