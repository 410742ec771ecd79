/** `bairelay encode` run as a user runs it (main.ts in a subprocess), and the round-trip. */

import assert from "node:assert/strict";
import { decodeDatagram, inspectDatagram, toHex as hex } from "../lib/bcudp/mod.ts";
import { runCli } from "./support/run_cli.ts";

const FIXTURES = new URL("../fixtures/captured/", import.meta.url);
const path = (name: string) => new URL(name, FIXTURES).pathname;
const fromHex = (text: string) => new Uint8Array(text.match(/../g)!.map((h) => parseInt(h, 16)));

const M2D_Q_R = "<P2P><M2D_Q_R><reg><ip>203.0.113.140</ip><port>58200</port></reg>" +
  "<log><ip>203.0.113.140</ip><port>57850</port></log><timer/><retry/><rsp>0</rsp>" +
  "<token>1</token><ac>2</ac></M2D_Q_R></P2P>";

function onlyDiscovery(stdout: string) {
  const lines = stdout.trimEnd().split("\n");
  assert.equal(lines.length, 1);
  const [packet] = decodeDatagram(fromHex(lines[0]));
  assert.equal(packet.kind, "discovery");
  return packet;
}

Deno.test("encode XML from an argument with --tid in hex: the exact cloud bytes", async () => {
  const result = await runCli(["encode", "--tid", "0x1234", M2D_Q_R]);
  assert.equal(result.code, 0, result.stderr);
  const packet = onlyDiscovery(result.stdout);
  assert.equal(packet.tid, 0x1234);
  assert.equal(packet.xml, M2D_Q_R);
});

Deno.test("encode rewrites camera-style XML into the strict compact shape", async () => {
  const camera =
    '<?xml version="1.0"?>\n<P2P>\n<D2R_HB>\n<token>5</token>\n<uid>95270000ABCDEFGH0123</uid>\n</D2R_HB>\n</P2P>\n';
  const result = await runCli(["encode", "--tid", "77", "-"], { stdin: camera });
  assert.equal(result.code, 0, result.stderr);
  const packet = onlyDiscovery(result.stdout);
  assert.equal(packet.tid, 77);
  assert.equal(
    packet.xml,
    "<P2P><D2R_HB><uid>95270000ABCDEFGH0123</uid><token>5</token></D2R_HB></P2P>",
  );
});

Deno.test("encode --file, --out writes raw bytes; without --tid the tid is random", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/in.xml`, M2D_Q_R);
    const first = await runCli(["encode", "--file", `${dir}/in.xml`, "--out", `${dir}/a.bin`]);
    const second = await runCli(["encode", "--file", `${dir}/in.xml`, "--out", `${dir}/b.bin`]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(first.stdout, "");
    const [a] = decodeDatagram(await Deno.readFile(`${dir}/a.bin`));
    const [b] = decodeDatagram(await Deno.readFile(`${dir}/b.bin`));
    assert.ok(a.kind === "discovery" && b.kind === "discovery");
    assert.equal(a.xml, M2D_Q_R);
    assert.notEqual(a.tid, b.tid); // 1 in 2^32 chance of a false failure
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("decode --json | encode - gives the cloud packet back byte for byte", async () => {
  const original = Deno.readFileSync(path("cloud_r2d_c.bin"));
  const json = await runCli(["decode", "--json", "--file", path("cloud_r2d_c.bin")]);
  assert.equal(json.code, 0, json.stderr);
  const encoded = await runCli(["encode", "-"], { stdin: json.stdout });
  assert.equal(encoded.code, 0, encoded.stderr);
  assert.equal(encoded.stdout.trim(), hex(original));
});

Deno.test("JSON of camera packets: fields re-encode; --no-validate re-sends the XML verbatim", async () => {
  const names = ["udp_multi_0.bin", "udp_multi_1.bin", "udp_multi_2.bin"];
  const stdin = names.map((n) => hex(Deno.readFileSync(path(n)))).join("\n");
  const json = await runCli(["decode", "--json", "-"], { stdin });
  assert.equal(json.code, 0, json.stderr);
  const typed = await runCli(["encode", "-"], { stdin: json.stdout });
  assert.equal(typed.code, 0, typed.stderr);
  const lines = typed.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 3);
  const decoded = lines.map((line) => decodeDatagram(fromHex(line))[0]);
  const again = json.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  decoded.forEach((packet, i) => {
    assert.ok(packet.kind === "discovery");
    assert.equal(packet.tid, again[i].tid);
    assert.equal(packet.message.variant, again[i].variant);
  });
  const verbatim = await runCli(["encode", "--no-validate", "-"], { stdin: json.stdout });
  assert.equal(verbatim.code, 0, verbatim.stderr);
  assert.equal(verbatim.stdout.trim(), stdin);
});

Deno.test("JSON input with its tid overridden by --tid, and u64 strings", async () => {
  const json = JSON.stringify({
    kind: "discovery",
    tid: 5,
    variant: "D2R_R",
    fields: { uid: "95270000ABCDEFGH0123", token: "18446744073709551615", r: 2 },
  });
  const result = await runCli(["encode", "--tid", "4294967295", json]);
  assert.equal(result.code, 0, result.stderr);
  const packet = onlyDiscovery(result.stdout);
  assert.equal(packet.tid, 0xffffffff);
  assert.deepEqual(packet.message.fields, {
    uid: "95270000ABCDEFGH0123",
    token: 18446744073709551615n,
    r: 2,
  });
});

Deno.test("validation errors name the field (exit 1); --no-validate sends any XML", async () => {
  const cases: [string, RegExp][] = [
    [
      "<P2P><D2R_HB><uid>u</uid></D2R_HB></P2P>",
      /field D2R_HB\.token: required element is missing/,
    ],
    ["<P2P><R2D_R_R><rsp>0</rsp><ac>-1</ac></R2D_R_R></P2P>", /field R2D_R_R\.ac: -1 is outside/],
    ["<P2P><HELLO/></P2P>", /unknown variant <HELLO>/],
    [
      "<P2P><R2D_DC_R><sid>1</sid><rsp>0</rsp><extra/></R2D_DC_R></P2P>",
      /field R2D_DC_R\.extra: no such element/,
    ],
    ["<P2P><R2D_DC_R>", /malformed XML at character 15/],
    [
      '{"variant":"D2R_HB","fields":{"uid":"u","token":"abc"}}',
      /field D2R_HB\.token: "abc" is not an integer/,
    ],
    ['{"kind":"data","connection_id":1}', /only Discovery packets can be encoded/],
    ["hello", /neither XML .* nor JSON/],
  ];
  for (const [input, pattern] of cases) {
    const result = await runCli(["encode", "--tid", "1", input]);
    assert.equal(result.code, 1, input);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, pattern, input);
  }
  const raw = await runCli(["encode", "--no-validate", "--tid", "3", "<P2P><HELLO/></P2P>"]);
  assert.equal(raw.code, 0, raw.stderr);
  const [report] = inspectDatagram(fromHex(raw.stdout.trim()));
  assert.equal(report.xml, "<P2P><HELLO/></P2P>");
  assert.equal(report.crcOk, true);
  assert.equal(report.error?.reason, "unknown_variant");
});

Deno.test("usage errors exit 2: bad --tid, no input, empty stdin", async () => {
  for (const tid of ["-1", "0x100000000", "4294967296", "12abc"]) {
    const result = await runCli(["encode", "--tid", tid, M2D_Q_R]);
    assert.equal(result.code, 2, tid);
    assert.match(result.stderr, /--tid/);
  }
  assert.equal((await runCli(["encode"])).code, 2);
  const empty = await runCli(["encode", "-"], { stdin: "\n" });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /empty input/);
});
