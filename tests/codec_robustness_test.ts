/**
 * Robustness: whatever the bytes (random, truncated, bit-flipped, mangled XML), decoding
 * returns packets or throws BcUdpError, never anything else, and never hangs. The suite runs
 * well over 100,000 cases; the last test checks the count.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  BcUdpError,
  decodeDatagram,
  encodeDiscovery,
  encodeDiscoveryXml,
  inspectDatagram,
  MAGIC_ACK,
  MAGIC_DATA,
  MAGIC_DISCOVERY,
  MAGIC_RELAY,
  messageFromJson,
  parseMessage,
  writeMessage,
} from "../lib/bcudp/mod.ts";
import { anyMessage, anyTid } from "./support/codec_arbitraries.ts";

let cases = 0;

/** Decodes `bytes` every way there is; only BcUdpError may escape the decoders. */
function decodeOnlyFailsTyped(bytes: Uint8Array): void {
  cases++;
  for (const verifyCrc of [true, false]) {
    try {
      const packets = decodeDatagram(bytes, { verifyCrc });
      assert.ok(packets.length >= 1);
    } catch (error) {
      if (!(error instanceof BcUdpError)) throw error;
      assert.equal(typeof error.reason, "string");
      assert.ok(error.message.length > 0);
    }
  }
  // The inspector reports errors instead of throwing them.
  const reports = inspectDatagram(bytes);
  assert.ok(reports.length >= 1);
}

const FIXTURES = new URL("../fixtures/captured/", import.meta.url);
const fixtures = [...Deno.readDirSync(FIXTURES)]
  .filter((entry) => entry.name.endsWith(".bin"))
  .map((entry) => Deno.readFileSync(new URL(entry.name, FIXTURES)));

const u32le = (n: number) => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24);
const validPacket = fc.tuple(anyMessage, anyTid).map(([m, tid]) => encodeDiscovery(m, tid));

Deno.test("random bytes", () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), decodeOnlyFailsTyped), {
    numRuns: 20_000,
  });
});

Deno.test("random bytes after each valid magic (and plausible header sizes)", () => {
  const magic = fc.constantFrom(MAGIC_DISCOVERY, MAGIC_DATA, MAGIC_ACK, MAGIC_RELAY);
  const size = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(65535, 65536, 0xffffffff));
  const fixed = fc.constantFrom(0, 1, 2);
  fc.assert(
    fc.property(magic, size, fixed, fc.uint8Array({ maxLength: 120 }), (m, s, f, rest) => {
      // Discovery/Relay: magic, size, 1, tid...; Data/Ack: magic, id, 0, ... size later.
      const head = new Uint8Array([...u32le(m), ...u32le(s), ...u32le(f)]);
      decodeOnlyFailsTyped(new Uint8Array([...head, ...rest]));
    }),
    { numRuns: 20_000 },
  );
});

Deno.test("every truncation of every captured packet", () => {
  for (const bytes of fixtures) {
    for (let length = 0; length <= bytes.length; length++) {
      decodeOnlyFailsTyped(bytes.subarray(0, length));
    }
  }
});

Deno.test("truncations of generated packets fail as truncated bodies/headers", () => {
  fc.assert(
    fc.property(validPacket, fc.nat(), (bytes, cut) => {
      const length = cut % bytes.length;
      decodeOnlyFailsTyped(bytes.subarray(0, length));
      assert.throws(
        () => decodeDatagram(bytes.subarray(0, length)),
        (e: unknown) =>
          e instanceof BcUdpError &&
          (e.reason === "truncated_header" || e.reason === "truncated_body"),
      );
    }),
    { numRuns: 10_000 },
  );
});

Deno.test("bit flips of generated and captured packets", () => {
  const packet = fc.oneof(validPacket, fc.constantFrom(...fixtures));
  fc.assert(
    fc.property(packet, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), (bytes, flips) => {
      const copy = bytes.slice();
      for (const flip of flips) copy[(flip >>> 3) % copy.length] ^= 1 << (flip & 7);
      decodeOnlyFailsTyped(copy);
    }),
    { numRuns: 25_000 },
  );
});

Deno.test("a flipped body bit is caught by the CRC", () => {
  fc.assert(
    fc.property(validPacket, fc.nat(), (bytes, flip) => {
      const copy = bytes.slice();
      copy[20 + ((flip >>> 3) % (copy.length - 20))] ^= 1 << (flip & 7);
      cases++;
      assert.throws(
        () => decodeDatagram(copy),
        (e: unknown) => e instanceof BcUdpError && e.reason === "crc_mismatch",
      );
    }),
    { numRuns: 5_000 },
  );
});

/** Mangles XML text: deletes, duplicates or replaces a slice with XML-ish noise. */
const mangledXml = fc
  .tuple(
    anyMessage.map(writeMessage),
    fc.nat(),
    fc.nat(),
    fc.constantFrom(
      "",
      "<",
      ">",
      "</",
      "/>",
      "&",
      "&#x;",
      "&#99999999;",
      "<!--",
      "<![CDATA[",
      "<?",
      "<!DOCTYPE x>",
      "-1",
      "99999999999999999999",
      "\n",
      "<P2P>",
      "<a b='>'>",
    ),
  )
  .map(([xml, a, b, noise]) => {
    const start = a % (xml.length + 1);
    const end = start + (b % 8);
    return xml.slice(0, start) + noise + xml.slice(end);
  });

Deno.test("mangled XML inside valid framing fails only with BcUdpError", () => {
  fc.assert(
    fc.property(mangledXml, anyTid, (xml, tid) => {
      decodeOnlyFailsTyped(encodeDiscoveryXml(xml, tid));
      cases++;
      try {
        parseMessage(xml, { strict: true });
      } catch (error) {
        if (!(error instanceof BcUdpError)) throw error;
      }
    }),
    { numRuns: 20_000 },
  );
});

Deno.test("arbitrary JSON given to messageFromJson fails only with BcUdpError", () => {
  const variant = fc.oneof(fc.constantFrom("D2R_HB", "C2R_C", "R2D_HB_R", "M2D_Q_R"), fc.string());
  const data = fc.oneof(
    fc.jsonValue(),
    fc.record({
      variant,
      fields: fc.dictionary(
        fc.constantFrom("uid", "token", "cli", "ip", "port", "timer", "hb", "debug", "x"),
        fc.jsonValue(),
      ),
    }),
  );
  fc.assert(
    fc.property(data, (value) => {
      cases++;
      try {
        messageFromJson(value as { variant: string; fields: unknown });
      } catch (error) {
        if (!(error instanceof BcUdpError)) throw error;
      }
    }),
    { numRuns: 5_000 },
  );
});

Deno.test("pathological XML is rejected quickly (no hang, no stack overflow)", () => {
  const deep = "<a>".repeat(50_000) + "</a>".repeat(50_000);
  const cases_ = [
    deep,
    "<P2P>" + "&".repeat(60_000),
    "<P2P>" + "<!--".repeat(15_000),
    "<P2P><D2R_HB>" + "<x/>".repeat(15_000) + "</D2R_HB></P2P>",
    '<P2P a="' + "x".repeat(60_000),
  ];
  for (const xml of cases_) {
    const started = performance.now();
    decodeOnlyFailsTyped(encodeDiscoveryXml(xml.slice(0, 65535), 1));
    assert.ok(performance.now() - started < 2_000, `took too long on ${xml.slice(0, 20)}...`);
  }
});

Deno.test("the robustness tests above ran at least 100,000 cases", () => {
  assert.ok(cases >= 100_000, `only ${cases} cases`);
});
