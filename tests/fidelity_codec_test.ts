/**
 * Codec fidelity found by outside checks, through the real CLI and a real server: `D2C_C_R`
 * `pl` is a string (sigV3 `V=1;C=...`); a Discovery header whose "unknown, always 1" word is
 * not 1 (CRC valid) is decoded and flagged by `decode` and `pcap-replay`, and answered by the
 * server; `pcap-replay --json` error records carry what `decode --json` prints for the same
 * packet (tid, crc, xml, the error) in the same words.
 */

import assert from "node:assert/strict";
import { encodeDiscovery, encodeDiscoveryXml, message, toHex } from "../lib/bcudp/mod.ts";
import { LINKTYPE } from "../lib/pcap/mod.ts";
import { ipPacket, linkFrame, pcapHeader, pcapRecord } from "./support/pcap_builder.ts";
import { ClientSim } from "./support/client_sim.ts";
import { runCli } from "./support/run_cli.ts";
import { startTestServer } from "./support/wake_server.ts";

const SIGV3 = "V=1;C=8f0e4a9b1c2d3e4f";
/** A D2C_C_R as sigV3 firmware sends it. */
const D2C_C_R_XML = "<P2P><D2C_C_R><timer><def>3000</def><hb>1000</hb><hbt>6000</hbt></timer>" +
  `<rsp>0</rsp><cid>12345</cid><did>678</did><pl>${SIGV3}</pl></D2C_C_R></P2P>\n`;
/** A D2R_HB whose needrsp is not a number: decodes to an invalid_number error. */
const BAD_HB_XML = "<P2P><D2R_HB><uid>95270000ABCDEFGH0123</uid><needrsp>yes</needrsp>" +
  "<token>1</token></D2R_HB></P2P>\n";

/** `bytes` with the u32 at byte 8 (Discovery's "unknown, always 1") set to `value`. */
function withHeaderWord(bytes: Uint8Array, value: number): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(8, value, true);
  return copy;
}

function jsonLines(text: string) {
  return text.trim().split("\n").map((line) => JSON.parse(line));
}

Deno.test("fidelity: decode --json shows a D2C_C_R's sigV3 pl as a string", async () => {
  const packet = encodeDiscoveryXml(D2C_C_R_XML, 0x1234);
  const result = await runCli(["decode", "--json", toHex(packet)]);
  assert.equal(result.code, 0, result.stderr);
  const [report] = jsonLines(result.stdout);
  assert.equal(report.variant, "D2C_C_R");
  assert.equal(report.fields.pl, SIGV3);
});

Deno.test("fidelity: a Discovery header word 8 other than 1 is decoded and flagged", async () => {
  const packet = withHeaderWord(encodeDiscovery(message("C2M_Q", { uid: "U1", p: "MAC" }), 7), 2);
  const json = await runCli(["decode", "--json", toHex(packet)]);
  assert.equal(json.code, 0, json.stderr);
  const [report] = jsonLines(json.stdout);
  assert.equal(report.variant, "C2M_Q");
  assert.equal(report.crc_ok, true);
  assert.equal(report.header_unknown, 2);
  assert.equal(report.warning, "header field unknown (byte 8) is 2, usually 1");
  const text = await runCli(["decode", toHex(packet)]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /header field unknown \(byte 8\) is 2, usually 1/);
  assert.match(text.stdout, /C2M_Q/);
  const usual = await runCli(["decode", "--json", toHex(withHeaderWord(packet, 1))]);
  assert.equal(jsonLines(usual.stdout)[0].header_unknown, undefined);
});

Deno.test("fidelity: the server answers a packet whose header word 8 is not 1", async () => {
  const server = await startTestServer();
  const client = await ClientSim.start();
  try {
    const tid = 0x5eed;
    const reply = client.waitFor("M2C_Q_R", { match: (r) => r.tid === tid });
    const query = encodeDiscovery(message("C2M_Q", { uid: "95270000ABCDEFGH", p: "MAC" }), tid);
    await client.sendRaw(withHeaderWord(query, 0x2a), server.middleman);
    const answer = await reply;
    assert.equal(answer.message.fields.reg?.port, server.register.port);
    const decodeErrors = server.metrics.counter("bairelay_decode_errors_total", "");
    assert.equal(
      decodeErrors.get({ listener: "middleman", reason: "unknown_field_value" }),
      0,
    );
  } finally {
    await client.close();
    await server.close();
  }
});

Deno.test("fidelity: pcap-replay --json error records carry decode --json's members and words", async () => {
  const bad = encodeDiscoveryXml(BAD_HB_XML, 0xabcdef);
  const odd = withHeaderWord(encodeDiscoveryXml(D2C_C_R_XML, 0x77), 3);
  const options = { linkType: LINKTYPE.RAW };
  const flow = (sourcePort: number) => ({
    source: "192.0.2.10",
    destination: "192.0.2.1",
    sourcePort,
    destinationPort: 58200,
  });
  const capture = new Uint8Array([
    ...pcapHeader(options),
    ...pcapRecord(options, 1, linkFrame(LINKTYPE.RAW, ipPacket(flow(40000), "udp", bad))),
    ...pcapRecord(options, 2, linkFrame(LINKTYPE.RAW, ipPacket(flow(40001), "udp", odd))),
  ]);
  const dir = await Deno.makeTempDir({ prefix: "bairelay-fidelity-" });
  try {
    const file = `${dir}/capture.pcap`;
    await Deno.writeFile(file, capture);
    const replay = await runCli(["pcap-replay", "--json", "--no-summary", file]);
    assert.equal(replay.code, 0, replay.stderr);
    const [errorRecord, oddRecord] = jsonLines(replay.stdout);
    const decoded = await runCli(["decode", "--json", toHex(bad)]);
    assert.equal(decoded.code, 1);
    const [expected] = jsonLines(decoded.stdout);

    // Every member decode --json has (but its datagram number) is in the error record, equal.
    const { datagram: _, ...members } = expected;
    for (const [name, value] of Object.entries(members)) {
      assert.deepEqual(errorRecord[name], value, `member ${name}`);
    }
    assert.equal(errorRecord.tid, 0xabcdef);
    assert.equal(typeof errorRecord.crc, "number");
    assert.equal(errorRecord.crc_ok, true);
    assert.equal(errorRecord.xml, BAD_HB_XML);
    assert.equal(errorRecord.error.reason, "invalid_number");
    assert.equal(errorRecord.frame, 1);
    assert.equal(errorRecord.length, bad.length);

    assert.equal(oddRecord.variant, "D2C_C_R");
    assert.equal(oddRecord.fields.pl, SIGV3);
    assert.equal(oddRecord.header_unknown, 3);
    assert.equal(oddRecord.warning, "header field unknown (byte 8) is 3, usually 1");

    const text = await runCli(["pcap-replay", "--no-summary", file]);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trim().split("\n");
    assert.ok(lines[0].includes(`invalid_number: ${expected.error.message}`), lines[0]);
    assert.match(lines[1], /D2C_C_R .*\(header field unknown \(byte 8\) is 3, usually 1\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
