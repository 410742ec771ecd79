/** Every BcUdpError reason, with the details a user needs (byte counts, CRCs, field names). */

import assert from "node:assert/strict";
import {
  BcUdpError,
  type BcUdpErrorReason,
  decodeDatagram,
  decodeDatagramLenient,
  decodePacketAt,
  encodeDiscovery,
  encodeDiscoveryXml,
  encodePacket,
  inspectDatagram,
  MAX_PAYLOAD_SIZE,
  MAX_UID_LENGTH,
  MAX_XML_DEPTH,
  message,
  messageFromJson,
  parseMessage,
  parseXml,
  readDiscoveryHeader,
  validateMessage,
  writeMessage,
} from "../lib/bcudp/mod.ts";

function fails(
  run: () => unknown,
  reason: BcUdpErrorReason,
  details: Record<string, unknown> = {},
  pattern?: RegExp,
): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof BcUdpError, `not a BcUdpError: ${error}`);
    assert.equal(error.reason, reason, error.message);
    for (const [key, value] of Object.entries(details)) {
      assert.equal(error.details[key], value, key);
    }
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

const hb = message("D2R_HB", { uid: "95270000ABCDEFGH0123", needrsp: 1, token: 7n });
const packet = encodeDiscovery(hb, 0x01020304);

function withU32(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(at, value, true);
  return copy;
}

Deno.test("bad magic names the magic and the offset", () => {
  fails(() => decodeDatagram(withU32(packet, 0, 0xdeadbeef)), "bad_magic", {
    magic: 0xdeadbeef,
    offset: 0,
  }, /0xdeadbeef/);
});

Deno.test("truncated header and body give the byte counts", () => {
  fails(() => decodeDatagram(new Uint8Array()), "truncated_header", { needed: 20, available: 0 });
  fails(() => decodeDatagram(packet.subarray(0, 19)), "truncated_header", {
    needed: 20,
    available: 19,
  }, /need 20 bytes, have 19/);
  const bodySize = packet.length - 20;
  fails(() => decodeDatagram(packet.subarray(0, 30)), "truncated_body", {
    needed: bodySize,
    available: 10,
  });
  // An Ack header is 28 bytes.
  const ack = encodePacket({
    kind: "ack",
    connectionId: 1,
    groupId: 0,
    packetId: 2,
    latency: 0,
    bitmap: Uint8Array.of(1, 0),
  });
  fails(() => decodeDatagram(ack.subarray(0, 27)), "truncated_header", {
    needed: 28,
    available: 27,
  });
});

Deno.test("CRC mismatch gives the expected and actual CRC", () => {
  const bad = withU32(packet, 16, 0x11111111);
  const actual = new DataView(packet.buffer).getUint32(16, true);
  fails(() => decodeDatagram(bad), "crc_mismatch", { expected: 0x11111111, actual }, /0x11111111/);
  assert.equal(decodeDatagram(bad, { verifyCrc: false }).length, 1);
});

Deno.test("payload size over 65535 is refused on decode and encode", () => {
  fails(() => decodeDatagram(withU32(packet, 4, MAX_PAYLOAD_SIZE + 1)), "payload_too_large", {
    size: 65536,
    max: 65535,
  });
  fails(() => encodeDiscoveryXml("x".repeat(MAX_PAYLOAD_SIZE + 1), 1), "payload_too_large");
  fails(() => encodeDiscoveryXml("é".repeat(40_000), 1), "payload_too_large", { size: 80_000 });
  assert.equal(encodeDiscoveryXml("x".repeat(MAX_PAYLOAD_SIZE), 1).length, MAX_PAYLOAD_SIZE + 20);
});

Deno.test("fixed header fields must hold their values (Discovery's byte 8 is read, not checked)", () => {
  // Discovery's "unknown, always 1" word: another value is kept, not a reason to drop.
  assert.equal(readDiscoveryHeader(withU32(packet, 8, 2)).unknown, 2);
  const data = encodePacket({
    kind: "data",
    connectionId: 5,
    packetId: 1,
    payload: Uint8Array.of(1),
  });
  fails(() => decodeDatagram(withU32(data, 8, 3)), "unknown_field_value", {
    field: "zero",
    value: 3,
  });
});

Deno.test("unknown field value: conn outside local/map/relay", () => {
  fails(
    () =>
      parseMessage(
        "<P2P><D2C_T><sid>1</sid><conn>wifi</conn><cid>1</cid><did>2</did></D2C_T></P2P>",
      ),
    "unknown_field_value",
    { field: "D2C_T.conn", value: "wifi" },
  );
});

Deno.test("malformed XML gives the position; unknown variant names it", () => {
  fails(() => parseMessage("<P2P><D2R_HB></P2P>"), "malformed_xml", { position: 13 });
  fails(() => parseMessage("<P2P><X2Y_Z/></P2P>"), "unknown_variant", { variant: "X2Y_Z" });
  fails(() => parseMessage("<XML><D2R_HB/></XML>"), "unknown_variant", { variant: "XML" });
  fails(() => parseMessage("<P2P><C2D_HB/><C2D_HB/></P2P>"), "malformed_xml", {}, /exactly one/);
  fails(
    () => parseMessage("<P2P><R2D_DC_R><sid><x/></sid><rsp>0</rsp></R2D_DC_R></P2P>"),
    "malformed_xml",
    { field: "R2D_DC_R.sid" },
  );
});

Deno.test("out-of-range and invalid numbers name the field", () => {
  const r2drr = (ac: string) => `<P2P><R2D_R_R><rsp>0</rsp><ac>${ac}</ac></R2D_R_R></P2P>`;
  fails(() => parseMessage(r2drr("4294967296")), "out_of_range", { field: "R2D_R_R.ac" });
  fails(() => parseMessage(r2drr("1.5")), "invalid_number", { field: "R2D_R_R.ac" });
  fails(() => parseMessage(r2drr("")), "invalid_number", { field: "R2D_R_R.ac" });
  fails(
    () => parseMessage("<P2P><D2R_R><uid>u</uid><token>18446744073709551616</token></D2R_R></P2P>"),
    "out_of_range",
    { field: "D2R_R.token" },
  );
  fails(
    () => parseMessage("<P2P><D2R_R><uid>u</uid><token>-1</token></D2R_R></P2P>"),
    "out_of_range",
    { field: "D2R_R.token" },
  );
  fails(
    () => parseMessage("<P2P><C2D_S><to><port>65536</port></to></C2D_S></P2P>"),
    "out_of_range",
    { field: "C2D_S.to.port" },
  );
  // "-0" reads as 0, not -0.
  const parsed = parseMessage("<P2P><R2D_DC_R><sid>0</sid><rsp>-0</rsp></R2D_DC_R></P2P>");
  assert.ok(parsed.variant === "R2D_DC_R" && Object.is(parsed.fields.rsp, 0));
});

Deno.test("missing required fields are named, nested ones with their path", () => {
  fails(() => parseMessage("<P2P><D2R_HB><uid>u</uid></D2R_HB></P2P>"), "missing_field", {
    field: "D2R_HB.token",
  });
  fails(
    () => parseMessage("<P2P><R2D_HB_R><rsp>0</rsp><time_t>1</time_t><timer/></R2D_HB_R></P2P>"),
    "missing_field",
    { field: "R2D_HB_R.timer.hb" },
  );
  fails(
    () =>
      parseMessage(
        "<P2P><M2D_Q_R><reg><ip>a</ip><port>1</port></reg><log><ip>a</ip><port>1</port></log><rsp>0</rsp><token>1</token><ac>2</ac></M2D_Q_R></P2P>",
      ),
    "missing_field",
    { field: "M2D_Q_R.timer" },
  );
});

Deno.test("UIDs are limited to MAX_UID_LENGTH bytes of UTF-8", () => {
  const uid = (n: number) => "A".repeat(n);
  assert.ok(parseMessage(`<P2P><D2M_Q><uid>${uid(MAX_UID_LENGTH)}</uid></D2M_Q></P2P>`));
  fails(
    () => parseMessage(`<P2P><D2M_Q><uid>${uid(MAX_UID_LENGTH + 1)}</uid></D2M_Q></P2P>`),
    "out_of_range",
    { field: "D2M_Q.uid" },
  );
  fails(
    () => validateMessage({ variant: "D2M_Q", fields: { uid: "é".repeat(33) } }),
    "out_of_range",
    { field: "D2M_Q.uid" },
  );
});

Deno.test("validation before encoding names the field", () => {
  fails(
    () => encodeDiscovery({ variant: "D2R_HB", fields: { uid: "u", token: 1 } } as never, 1),
    "invalid_number",
    { field: "D2R_HB.token" },
  );
  fails(
    () => encodeDiscovery({ variant: "R2D_R_R", fields: { rsp: 0, ac: -1 } } as never, 1),
    "out_of_range",
    { field: "R2D_R_R.ac" },
  );
  fails(
    () => encodeDiscovery({ variant: "R2D_R_R", fields: { rsp: 0, ac: 1, zz: 1 } } as never, 1),
    "unknown_field_value",
    { field: "R2D_R_R.zz" },
  );
  fails(() => encodeDiscovery({ variant: "NOPE", fields: {} } as never, 1), "unknown_variant", {
    variant: "NOPE",
  });
  fails(() => validateMessage(null as never), "missing_field", { field: "variant" });
  fails(
    () => messageFromJson({ variant: "D2R_HB", fields: { uid: "u", token: "x" } }),
    "invalid_number",
    { field: "D2R_HB.token" },
  );
  fails(() => messageFromJson([] as never), "missing_field", { field: "variant" });
});

Deno.test("tids outside the u32 range are refused", () => {
  for (const tid of [-1, 2 ** 32, 1.5, NaN]) {
    fails(() => encodeDiscovery(hb, tid), "out_of_range", { field: "tid" });
  }
  fails(
    () =>
      encodePacket({ kind: "data", connectionId: 2 ** 31, packetId: 0, payload: new Uint8Array() }),
    "out_of_range",
    { field: "connectionId" },
  );
});

Deno.test("lenient datagram decoding keeps the packets before a failure", () => {
  const datagram = new Uint8Array([...packet, ...packet.subarray(0, 25)]);
  const result = decodeDatagramLenient(datagram);
  assert.equal(result.packets.length, 1);
  assert.equal(result.error?.reason, "truncated_body");
  assert.equal(result.errorOffset, packet.length);
  assert.equal(decodePacketAt(datagram, 0).end, packet.length);
});

Deno.test("inspection goes on after a broken packet whose length is known", () => {
  const badXml = encodeDiscoveryXml("<P2P><D2R_HB></P2P>", 9);
  const badCrc = withU32(packet, 16, 0);
  const datagram = new Uint8Array([...badXml, ...badCrc, ...packet, 0x3a, 0xcf]);
  const reports = inspectDatagram(datagram);
  assert.deepEqual(reports.map((r) => r.error?.reason), [
    "malformed_xml",
    "crc_mismatch",
    undefined,
    "truncated_header",
  ]);
  assert.equal(reports[0].xml, "<P2P><D2R_HB></P2P>");
  assert.equal(reports[0].header?.kind === "discovery" && reports[0].header.tid, 9);
  assert.equal(reports[1].crcOk, false);
  assert.deepEqual(reports[1].packet?.kind === "discovery" && reports[1].packet.message, hb);
  assert.equal(reports[2].crcOk, true);
  assert.equal(reports[3].offset, badXml.length + 2 * packet.length);
});

Deno.test("XML nesting is limited to MAX_XML_DEPTH levels", () => {
  const nested = (depth: number) => "<a>".repeat(depth) + "</a>".repeat(depth);
  assert.equal(parseXml(nested(MAX_XML_DEPTH)).name, "a");
  fails(() => parseXml(nested(MAX_XML_DEPTH + 1)), "malformed_xml", {}, /nesting deeper than 16/);
});

Deno.test("encoding without validation still fails only with BcUdpError", () => {
  fails(
    () => encodeDiscovery({ variant: "NOPE", fields: {} } as never, 1, { validate: false }),
    "unknown_variant",
  );
  fails(() => writeMessage({ variant: "D2R_HB", fields: null } as never), "missing_field", {
    field: "D2R_HB",
  });
  fails(
    () => writeMessage({ variant: "D2R_HB", fields: { uid: Symbol("x"), token: 1n } } as never),
    "invalid_number",
    { field: "D2R_HB.uid" },
  );
  fails(
    () => writeMessage({ variant: "C2R_C", fields: { cli: 5 } } as never),
    "missing_field",
    { field: "C2R_C.cli" },
  );
});

Deno.test("text with whitespace at its ends is refused on encode (the reader would trim it)", () => {
  for (const uid of [" U", "U\n", "\tU "]) {
    fails(() => encodeDiscovery(message("D2M_Q", { uid }), 1), "out_of_range", {
      field: "D2M_Q.uid",
    });
  }
  assert.ok(encodeDiscovery(message("D2M_Q", { uid: "U V" }), 1));
});
