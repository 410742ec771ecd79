/**
 * Codec throughput: full decode (header + CRC check + XOR + XML to a typed message) and full
 * validated encode (schema check + write + XOR + CRC + header) of a typical D2R_HB and C2R_C.
 * fast-xml-parser parsing the same XML alone is the yardstick measured in the same run.
 * Run alone with `scripts/deno bench --allow-all bench/codec_bench.ts`.
 */

import { XMLParser } from "fast-xml-parser";
import { decodeDatagram, encodeDiscovery, message, writeMessage } from "../lib/bcudp/mod.ts";

const heartbeat = message("D2R_HB", {
  uid: "95270000ABCDEFGH0123",
  dev: { ip: "192.168.1.50", port: 41234 },
  needrsp: 1,
  token: 1234567890123456789n,
});
const wakeRequest = message("C2R_C", {
  uid: "95270000ABCDEFGH",
  cli: { ip: "192.168.1.20", port: 53000 },
  relay: { ip: "192.168.1.2", port: 58200 },
  cid: 330001,
  debug: 0,
  family: 4,
  p: "MAC",
  r: 3,
});
const heartbeatBytes = encodeDiscovery(heartbeat, 0x12345678);
const wakeRequestBytes = encodeDiscovery(wakeRequest, 0xdeadbeef);

Deno.bench("decode D2R_HB", { group: "decode", baseline: true }, () => {
  decodeDatagram(heartbeatBytes);
});
Deno.bench("decode C2R_C", { group: "decode" }, () => {
  decodeDatagram(wakeRequestBytes);
});
Deno.bench("encode D2R_HB", { group: "encode" }, () => {
  encodeDiscovery(heartbeat, 0x12345678);
});
Deno.bench("encode C2R_C", { group: "encode" }, () => {
  encodeDiscovery(wakeRequest, 0xdeadbeef);
});

const reference = new XMLParser();
const heartbeatXml = writeMessage(heartbeat);
Deno.bench("fast-xml-parser: parse the D2R_HB XML alone", { group: "decode" }, () => {
  reference.parse(heartbeatXml);
});
