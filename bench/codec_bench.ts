/**
 * Codec throughput: full decode (header + CRC check + XOR + XML to a typed message) and full
 * validated encode (schema check + write + XOR + CRC + header) of a typical D2R_HB and C2R_C.
 * fast-xml-parser parsing the same XML alone is the yardstick measured in the same run.
 *
 * `scripts/deno bench --allow-all bench/codec_bench.ts` runs it under `deno bench` (as
 * `deno task bench` does); `scripts/deno run --allow-all bench/codec_bench.ts` prints the
 * median rate over many short batches instead, which shrugs off a busy machine's pauses.
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
const reference = new XMLParser();
const heartbeatXml = writeMessage(heartbeat);

/** Every measured case: one table for both ways of running. */
const CASES: { name: string; group: "decode" | "encode"; run: () => unknown }[] = [
  { name: "decode D2R_HB", group: "decode", run: () => decodeDatagram(heartbeatBytes) },
  { name: "decode C2R_C", group: "decode", run: () => decodeDatagram(wakeRequestBytes) },
  {
    name: "fast-xml-parser: parse the D2R_HB XML alone",
    group: "decode",
    run: () => reference.parse(heartbeatXml),
  },
  { name: "encode D2R_HB", group: "encode", run: () => encodeDiscovery(heartbeat, 0x12345678) },
  { name: "encode C2R_C", group: "encode", run: () => encodeDiscovery(wakeRequest, 0xdeadbeef) },
];

/** Operations per second: the median of `batches` timed batches of `size` calls. */
function medianRate(run: () => unknown, batches = 41, size = 5_000): number {
  for (let i = 0; i < size * 4; i++) run(); // warm-up: let the JIT optimise first
  const rates: number[] = [];
  for (let b = 0; b < batches; b++) {
    const started = performance.now();
    for (let i = 0; i < size; i++) run();
    rates.push(size / ((performance.now() - started) / 1000));
  }
  rates.sort((a, b) => a - b);
  return rates[batches >> 1];
}

if (import.meta.main) {
  const rates = CASES.map(({ name, run }) => ({ name, rate: medianRate(run) }));
  const yardstick = rates[2].rate;
  for (const { name, rate } of rates) {
    const ratio = (rate / yardstick).toFixed(1);
    console.log(
      `${name.padEnd(45)} ${Math.round(rate).toLocaleString("en").padStart(9)} /s  ${ratio}x`,
    );
  }
} else {
  for (const { name, group, run } of CASES) {
    Deno.bench(name, { group, baseline: name === "decode D2R_HB" }, () => {
      run();
    });
  }
}
