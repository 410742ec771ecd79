/** Property tests: for every variant of the SCHEMAS table, encode then decode is the identity. */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeDatagram,
  encodeDiscovery,
  encodePacket,
  fieldsToJsonValue,
  inspectDatagram,
  keystream,
  messageFromJson,
  type Packet,
  parseMessage,
  VARIANT_NAMES,
  writeMessage,
  xorCrypt,
} from "../lib/bcudp/mod.ts";
import { anyMessage, anyTid, concatBytes, messageOf } from "./support/codec_arbitraries.ts";

for (const variant of VARIANT_NAMES) {
  Deno.test(`${variant}: encode then decode gives the same message, tid and XML`, () => {
    fc.assert(
      fc.property(messageOf(variant), anyTid, (message, tid) => {
        const bytes = encodeDiscovery(message, tid);
        const packets = decodeDatagram(bytes);
        assert.equal(packets.length, 1);
        const [packet] = packets;
        assert.equal(packet.kind, "discovery");
        assert.equal(packet.tid, tid);
        assert.deepEqual(packet.message, message);
        assert.equal(packet.xml, writeMessage(message));
        // Writing is deterministic: the decoded message encodes to the same bytes.
        assert.deepEqual(encodeDiscovery(packet.message, tid), bytes);
      }),
      { numRuns: 300 },
    );
  });
}

/** Camera style: a newline after every tag, a declaration, and an element the schema lacks. */
function cameraStyle(xml: string): string {
  const spaced = xml.replace(/>/g, ">\n");
  const at = spaced.indexOf(">", spaced.indexOf(">") + 1) + 1; // just inside the variant
  return `<?xml version="1.0" encoding="UTF-8" ?>\n${spaced.slice(0, at)}` +
    `<extra>\n<n>1</n>\n</extra>\n${spaced.slice(at)}`;
}

Deno.test("lenient reading: whitespace, declaration and unknown elements change nothing", () => {
  fc.assert(
    fc.property(anyMessage, (message) => {
      const parsed = parseMessage(cameraStyle(writeMessage(message)));
      assert.deepEqual(parsed.fields, message.fields);
      assert.deepEqual(parsed.unknown, [{ name: "extra", xml: "<extra><n>1</n></extra>" }]);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("reading ignores element order; writing restores schema order", () => {
  fc.assert(
    fc.property(anyMessage, fc.infiniteStream(fc.nat()), (message, randoms) => {
      const xml = writeMessage(message);
      const open = `<P2P><${message.variant}>`;
      const close = `</${message.variant}></P2P>`;
      const body = xml.slice(open.length, xml.length - close.length);
      // Split the body into its top-level elements and shuffle them.
      const parts = body.match(/<([A-Za-z_]+)\/>|<([A-Za-z_]+)>.*?<\/\2>/gs) ?? [];
      assert.equal(parts.join(""), body);
      const shuffled = [...parts].sort(() => (randoms.next().value % 3) - 1);
      const reparsed = parseMessage(open + shuffled.join("") + close);
      assert.deepEqual(reparsed, message);
      assert.equal(writeMessage(reparsed), xml);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("JSON fields (u64 as strings) convert back to the same message", () => {
  fc.assert(
    fc.property(anyMessage, (message) => {
      const json = JSON.parse(
        JSON.stringify({ variant: message.variant, fields: fieldsToJsonValue(message) }),
      );
      assert.deepEqual(messageFromJson(json), message);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("XOR with the keystream is symmetric and keyed mod 2^32 for every tid", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), anyTid, (bytes, tid) => {
      const cipher = xorCrypt(bytes, tid);
      assert.deepEqual(xorCrypt(cipher, tid), bytes);
      const ks = keystream(tid);
      const view = new DataView(ks.buffer);
      const key = [
        0x1f2d3c4b,
        0x5a6c7f8d,
        0x38172e4b,
        0x8271635a,
        0x863f1a2b,
        0xa5c6f7d8,
        0x8371e1b4,
        0x17f2d3a5,
      ];
      for (let i = 0; i < 8; i++) {
        assert.equal(
          view.getUint32(i * 4, true),
          Number((BigInt(key[i]) + BigInt(tid)) % (1n << 32n)),
        );
      }
      for (let i = 0; i < bytes.length; i++) assert.equal(cipher[i], bytes[i] ^ ks[i % 32]);
    }),
    { numRuns: 2000 },
  );
});

/** Any packet kind, built from random header values and bodies. */
const anyPacket: fc.Arbitrary<Packet> = fc.oneof(
  fc.tuple(anyMessage, anyTid).map(([m, tid]) => decodeDatagram(encodeDiscovery(m, tid))[0]),
  fc.record({
    kind: fc.constant("data" as const),
    connectionId: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    packetId: fc.integer({ min: 0, max: 0xffffffff }),
    payload: fc.uint8Array({ maxLength: 1330 }),
  }),
  fc.record({
    kind: fc.constant("ack" as const),
    connectionId: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
    groupId: fc.constantFrom(0, 0xffffffff),
    packetId: fc.integer({ min: 0, max: 0xffffffff }),
    latency: fc.integer({ min: 0, max: 0xffffffff }),
    bitmap: fc.uint8Array({ maxLength: 64 }),
  }),
  fc.record({
    kind: fc.constant("relay" as const),
    tid: anyTid,
    crc: fc.constant(0),
    body: fc.uint8Array({ maxLength: 200 }),
  }),
).map((packet) => ({ ...packet }) as Packet);

Deno.test("several packets of every kind back to back in one datagram decode in order", () => {
  fc.assert(
    fc.property(fc.array(anyPacket, { minLength: 1, maxLength: 5 }), (packets) => {
      const parts = packets.map(encodePacket);
      const datagram = concatBytes(parts);
      const decoded = decodeDatagram(datagram);
      assert.equal(decoded.length, packets.length);
      decoded.forEach((packet, i) => {
        // A relay's CRC is computed on encoding; everything else comes back as given.
        const expected = packet.kind === "relay" ? { ...packets[i], crc: packet.crc } : packets[i];
        assert.deepEqual(packet, expected);
        assert.deepEqual(encodePacket(packet), parts[i]);
      });
      // The inspector used by `decode` reports the same packets, all clean.
      const reports = inspectDatagram(datagram);
      assert.deepEqual(reports.map((r) => r.packet), decoded);
      assert.deepEqual(reports.map((r) => r.error), decoded.map(() => undefined));
      assert.deepEqual(reports.map((r) => r.offset), parts.map((_, i) => offsetOf(parts, i)));
    }),
    { numRuns: 1000 },
  );
});

function offsetOf(parts: Uint8Array[], index: number): number {
  return parts.slice(0, index).reduce((n, p) => n + p.length, 0);
}
