/** Known answers from the protocol notes (docs/protocol.md) and every captured packet in fixtures/captured/. */

import assert from "node:assert/strict";
import {
  bcudpCrc,
  bcudpCrcByte,
  bcudpCrcWord,
  decodeDatagram,
  encodeDiscovery,
  encodePacket,
  keystream,
  message,
  type Packet,
  parseMessage,
  toHex as hex,
  writeMessage,
  xorCrypt,
} from "../lib/bcudp/mod.ts";
import { concatBytes } from "./support/codec_arbitraries.ts";

const FIXTURES = new URL("../fixtures/captured/", import.meta.url);
const fixture = (name: string) => Deno.readFileSync(new URL(name, FIXTURES));
const ascii = (text: string) => new TextEncoder().encode(text);

Deno.test("keystream of tid 0 and 0xdeadbeef match the documented bytes", () => {
  assert.equal(
    hex(keystream(0)),
    "4b3c2d1f8d7f6c5a4b2e17385a6371822b1a3f86d8f7c6a5b4e17183a5d3f217",
  );
  assert.equal(
    hex(keystream(0xdeadbeef)),
    "3afbdafd7c3e1a393aedc41649221f611ad9ec64c7b67484a3a01f629492a0f6",
  );
});

Deno.test("keystream words wrap mod 2^32; the first wrap is at tid 0x5A390828", () => {
  // KEY[5] = 0xa5c6f7d8 is the largest key word: 0xa5c6f7d8 + 0x5a390828 = 2^32.
  assert.equal(hex(keystream(0x5a390827).subarray(20, 24)), "ffffffff");
  assert.equal(hex(keystream(0x5a390828).subarray(20, 24)), "00000000");
  // KEY[3] = 0x8271635a wraps to 0 at tid 0x7d8e9ca6; every word wraps at tid 0xffffffff.
  assert.equal(hex(keystream(0x7d8e9ca6).subarray(12, 16)), "00000000");
  assert.equal(
    hex(keystream(0xffffffff)),
    "4a3c2d1f8c7f6c5a4a2e1738596371822a1a3f86d7f7c6a5b3e17183a4d3f217",
  );
});

Deno.test("CRC known answers", () => {
  assert.equal(bcudpCrc(new Uint8Array()), 0x00000000);
  assert.equal(bcudpCrc(ascii("123456789")), 0x2dfd2d88);
  assert.equal(bcudpCrc(Uint8Array.of(1)), 0x77073096);
  assert.equal(bcudpCrc(ascii("<P2P></P2P>")), 0x91c89bae);
  // A sub-range is the CRC of just those bytes.
  assert.equal(bcudpCrc(ascii("xx123456789yy"), 2, 11), 0x2dfd2d88);
  // Word and byte steps (for loops that read the bytes for something else too) agree.
  for (
    const text of ["", "1", "123456789", "<P2P></P2P>", "<P2P><D2R_HB><uid>x</uid></D2R_HB></P2P>"]
  ) {
    const bytes = ascii(text);
    let crc = 0;
    let i = 0;
    for (; i + 4 <= bytes.length; i += 4) {
      crc = bcudpCrcWord(
        crc,
        bytes[i] | bytes[i + 1] << 8 | bytes[i + 2] << 16 | bytes[i + 3] << 24,
      );
    }
    for (; i < bytes.length; i++) crc = bcudpCrcByte(crc, bytes[i]);
    assert.equal(crc, bcudpCrc(bytes), text);
  }
});

Deno.test("M2D_Q_R comes out byte for byte in the real cloud's shape", () => {
  const reply = message("M2D_Q_R", {
    reg: { ip: "203.0.113.140", port: 58200 },
    log: { ip: "203.0.113.140", port: 57850 },
    timer: true,
    retry: true,
    rsp: 0,
    token: 1n,
    ac: 2,
  });
  const expected = "<P2P><M2D_Q_R><reg><ip>203.0.113.140</ip><port>58200</port></reg>" +
    "<log><ip>203.0.113.140</ip><port>57850</port></log><timer/><retry/><rsp>0</rsp>" +
    "<token>1</token><ac>2</ac></M2D_Q_R></P2P>";
  assert.equal(writeMessage(reply), expected);
  const packet = encodeDiscovery(reply, 0x1234);
  assert.equal(new TextDecoder().decode(xorCrypt(packet.subarray(20), 0x1234)), expected);
  assert.deepEqual(parseMessage(expected), reply);
});

Deno.test("u64 tokens round-trip exactly, far above 2^53", () => {
  for (const token of [0n, 1n, 2n ** 53n + 1n, 12345678901234567891n, 2n ** 64n - 1n]) {
    const sent = message("D2R_R", { uid: "95270000ABCDEFGH0123", token, r: 2 });
    const [packet] = decodeDatagram(encodeDiscovery(sent, 42));
    assert.equal(packet.kind, "discovery");
    assert.deepEqual(packet.message, sent);
    assert.match(packet.xml, new RegExp(`<token>${token}</token>`));
  }
});

function onlyDiscovery(bytes: Uint8Array) {
  const packets = decodeDatagram(bytes);
  assert.equal(packets.length, 1);
  const [packet] = packets;
  assert.equal(packet.kind, "discovery");
  return packet;
}

/** Every Discovery fixture: its file, tid, and exactly the fields it decodes to. */
const DISCOVERY_FIXTURES = [
  {
    file: "cloud_r2d_c.bin",
    tid: 0x02613feb,
    message: message("R2D_C", {
      cli: { ip: "192.168.8.170", port: 10739 },
      cmap: { ip: "31.151.13.35", port: 10739 },
      relay: { ip: "51.44.213.173", port: 54487 },
      sid: 95196080,
      cid: 330001,
      debug: 251658240,
      nat: "NULL",
      ac: 95196080,
    }),
    cameraStyle: false,
  },
  {
    file: "udp_negotiate_disc.bin",
    tid: 96,
    message: message("C2D_DISC", { cid: 82000, did: 80 }),
    cameraStyle: true,
  },
  {
    file: "udp_negotiate_camt.bin",
    tid: 113,
    message: message("D2C_T", { sid: 62098713, conn: "local", cid: 82001, did: 96 }),
    cameraStyle: true,
  },
  {
    file: "udp_negotiate_clientt.bin",
    tid: 1101,
    message: message("C2D_T", { sid: 62098713, conn: "local", cid: 82001, mtu: 1350 }),
    cameraStyle: true,
  },
  {
    file: "udp_negotiate_camcfm.bin",
    tid: 1101,
    message: message("D2C_CFM", {
      sid: 62098713,
      conn: "local",
      rsp: 0,
      cid: 82001,
      did: 96,
      time_r: 0,
    }),
    cameraStyle: true,
  },
  {
    file: "udp_multi_0.bin",
    tid: 87,
    message: message("D2C_T", { sid: 62097899, conn: "local", cid: 82000, did: 80 }),
    cameraStyle: true,
  },
  {
    file: "udp_multi_1.bin",
    tid: 92,
    message: message("C2D_T", { sid: 62097899, conn: "local", cid: 82000, mtu: 1350 }),
    cameraStyle: true,
  },
  {
    file: "udp_multi_2.bin",
    tid: 92,
    message: message("D2C_CFM", {
      sid: 62097899,
      conn: "local",
      rsp: 0,
      cid: 82000,
      did: 80,
      time_r: 0,
    }),
    cameraStyle: true,
  },
];

for (const { file, tid, message: expected, cameraStyle } of DISCOVERY_FIXTURES) {
  Deno.test(`fixture ${file} decodes to the documented ${expected.variant}`, () => {
    const bytes = fixture(file);
    const packet = onlyDiscovery(bytes);
    assert.equal(packet.tid, tid);
    assert.deepEqual(packet.message, expected);
    // Camera-built payloads put a newline after every element; cloud-built ones none.
    assert.equal(packet.xml.endsWith("\n"), cameraStyle);
    assert.equal(packet.xml.includes("\n"), cameraStyle);
    // Re-encoding gives the canonical compact form; for the cloud's packet the exact bytes.
    const reencoded = encodeDiscovery(packet.message, packet.tid);
    if (!cameraStyle) assert.deepEqual(reencoded, bytes);
    else assert.deepEqual(onlyDiscovery(reencoded).message, expected);
  });
}

Deno.test("the cloud packet survives decode -> encodePacket byte for byte", () => {
  const bytes = fixture("cloud_r2d_c.bin");
  assert.deepEqual(encodePacket(decodeDatagram(bytes)[0]), bytes);
});

function header(packet: Packet) {
  const { payload: _p, bitmap: _b, ...rest } = packet as Packet & {
    payload?: unknown;
    bitmap?: unknown;
  };
  return rest;
}

Deno.test("Data and Ack fixtures decode to the documented headers and sizes", () => {
  const cases = [
    { file: "udp_multi_3.bin", connectionId: 80, packetId: 0, size: 1330 },
    { file: "udp_multi_4.bin", connectionId: 80, packetId: 1, size: 526 },
    { file: "udp_data.bin", connectionId: 82000, packetId: 2439, size: 1176 },
  ];
  for (const { file, connectionId, packetId, size } of cases) {
    const bytes = fixture(file);
    const [packet] = decodeDatagram(bytes);
    assert.equal(packet.kind, "data");
    assert.deepEqual(header(packet), { kind: "data", connectionId, packetId });
    assert.equal(packet.payload.length, size);
    assert.deepEqual(encodePacket(packet), bytes);
  }
  // A Baichuan message start inside the first Data packet of a stream.
  const first = decodeDatagram(fixture("udp_multi_3.bin"))[0];
  assert.equal(first.kind === "data" && hex(first.payload.subarray(0, 4)), "f0debc0a");

  const ackBytes = fixture("udp_ack.bin");
  const [ack] = decodeDatagram(ackBytes);
  assert.deepEqual(header(ack), {
    kind: "ack",
    connectionId: 80,
    groupId: 0,
    packetId: 2439,
    latency: 0,
  });
  assert.equal(ack.kind === "ack" && ack.bitmap.length, 0);
  assert.deepEqual(encodePacket(ack), ackBytes);
});

Deno.test("several captured packets back to back decode from one datagram", () => {
  const names = ["udp_multi_0.bin", "udp_multi_1.bin", "udp_multi_2.bin", "udp_multi_3.bin"];
  const datagram = concatBytes(names.map(fixture));
  const packets = decodeDatagram(datagram);
  assert.deepEqual(packets.map((p) => p.kind), ["discovery", "discovery", "discovery", "data"]);
  assert.deepEqual(packets.map((p) => p.kind === "discovery" && p.message.variant), [
    "D2C_T",
    "C2D_T",
    "D2C_CFM",
    false,
  ]);
});

Deno.test("xml_crypto_sample1 decrypts with tid 87 to its plaintext", () => {
  const cipher = fixture("xml_crypto_sample1.bin");
  const plain = fixture("xml_crypto_sample1_plaintext.bin");
  assert.deepEqual(xorCrypt(cipher, 87), plain);
  assert.deepEqual(xorCrypt(plain, 87), cipher);
  assert.deepEqual(
    parseMessage(new TextDecoder().decode(plain)),
    message("D2C_T", { sid: 62097899, conn: "local", cid: 82000, did: 80 }),
  );
});
