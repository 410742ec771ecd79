/** `bairelay decode` run as a user runs it (main.ts in a subprocess). */

import assert from "node:assert/strict";
import { toHex as hex } from "../lib/bcudp/mod.ts";
import { MAX_INPUT_BYTES } from "../cli/input.ts";
import { runCli } from "./support/run_cli.ts";

const FIXTURES = new URL("../fixtures/captured/", import.meta.url);
const path = (name: string) => new URL(name, FIXTURES).pathname;
const cloudBytes = Deno.readFileSync(path("cloud_r2d_c.bin"));

Deno.test("decode --file shows the cloud R2D_C readably", async () => {
  const result = await runCli(["decode", "--file", path("cloud_r2d_c.bin")]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(
    lines[0],
    "packet 1 at byte 0: Discovery · tid 0x02613feb (39927787) · crc 0x749ff2cc ok · 276 B body",
  );
  assert.deepEqual(lines.slice(1), [
    "  R2D_C",
    "    cli: 192.168.8.170:10739",
    "    cmap: 31.151.13.35:10739",
    "    relay: 51.44.213.173:54487",
    "    sid: 95196080",
    "    cid: 330001",
    "    debug: 251658240",
    "    nat: NULL",
    "    ac: 95196080",
  ]);
  assert.ok(!result.stdout.includes("\x1b["), "no colours when stdout is not a TTY");
});

Deno.test("decode --json prints one object per packet with u64 as strings", async () => {
  const result = await runCli(["decode", "--json", "--file", path("cloud_r2d_c.bin")]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 1);
  const json = JSON.parse(lines[0]);
  assert.deepEqual(
    { kind: json.kind, tid: json.tid, crc: json.crc, crc_ok: json.crc_ok, variant: json.variant },
    { kind: "discovery", tid: 0x02613feb, crc: 0x749ff2cc, crc_ok: true, variant: "R2D_C" },
  );
  assert.deepEqual(json.fields.cli, { ip: "192.168.8.170", port: 10739 });
  assert.equal(json.fields.debug, 251658240);
  assert.match(json.xml, /^<P2P><R2D_C><cli>/);

  const u64 = await runCli([
    "encode",
    "--tid",
    "42",
    "<P2P><D2R_R><uid>U</uid><token>18446744073709551615</token></D2R_R></P2P>",
  ]);
  assert.equal(u64.code, 0, u64.stderr);
  const decoded = await runCli(["decode", "--json", u64.stdout.trim()]);
  assert.equal(decoded.code, 0, decoded.stderr);
  assert.match(decoded.stdout, /"token":"18446744073709551615"/);
});

Deno.test("decode --xml adds the decrypted XML of a camera packet", async () => {
  const result = await runCli(["decode", "--xml", "--file", path("udp_negotiate_disc.bin")]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(
    result.stdout,
    /^ {2}C2D_DISC\n {4}cid: 82000\n {4}did: 80\n {2}xml:\n {4}<P2P>\n {4}<C2D_DISC>\n/m,
  );
});

Deno.test("decode reads hex with spaces and colons, several datagrams one per line", async () => {
  const spaced = hex(cloudBytes).replace(/(..)/g, "$1 ").trim();
  const coloned = hex(Deno.readFileSync(path("udp_ack.bin"))).replace(/(..)(?!$)/g, "$1:");
  const result = await runCli(["decode", "--json", "-"], {
    stdin: `${spaced}\n\n# a comment\n${coloned}\n`,
  });
  assert.equal(result.code, 0, result.stderr);
  const objects = result.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(objects.map((o) => [o.datagram, o.kind]), [[1, "discovery"], [2, "ack"]]);
  assert.deepEqual(objects[1], {
    kind: "ack",
    connection_id: 80,
    group_id: 0,
    packet_id: 2439,
    latency: 0,
    payload_len: 0,
    payload_preview: "",
    datagram: 2,
    offset: 0,
  });
  // Hex as several command-line words works too.
  const words = await runCli(["decode", ...spaced.split(" ")]);
  assert.equal(words.code, 0, words.stderr);
  assert.match(words.stdout, /R2D_C/);
});

Deno.test("decode of raw bytes on stdin, and of a file holding hex text", async () => {
  const raw = await runCli(["decode", "-"], { stdin: Deno.readFileSync(path("udp_data.bin")) });
  assert.equal(raw.code, 0, raw.stderr);
  assert.match(
    raw.stdout,
    /^packet 1 at byte 0: Data · connection_id 82000 · packet_id 2439 · 1176 B payload\n {2}payload: [0-9a-f]{64} … \(1176 bytes\)$/m,
  );

  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/packet.hex`;
    await Deno.writeTextFile(file, hex(cloudBytes) + "\n");
    const result = await runCli(["decode", "--file", file]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /R2D_C/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a failing packet prints its reason and what was read; others still print; exit 1", async () => {
  const corrupt = cloudBytes.slice();
  corrupt[100] ^= 0x01; // flips a body bit: CRC mismatch, XML still readable
  const truncated = Deno.readFileSync(path("udp_multi_3.bin")).subarray(0, 60);
  const input = `${hex(corrupt)}\n${hex(truncated)}\n${
    hex(Deno.readFileSync(path("udp_multi_0.bin")))
  }\n`;
  const result = await runCli(["decode", "-"], { stdin: input });
  assert.equal(result.code, 1);
  assert.match(
    result.stdout,
    /^datagram 1 packet 1 at byte 0: Discovery · tid 0x02613feb \(39927787\) · crc 0x749ff2cc BAD/m,
  );
  assert.match(
    result.stdout,
    /error: CRC mismatch at byte 0: header says 0x749ff2cc, body gives 0x[0-9a-f]{8}/,
  );
  assert.match(
    result.stdout,
    /^datagram 2 packet 1 at byte 0: Data · connection_id 80 · packet_id 0 · 1330 B payload\n {2}error: truncated body at byte 20: need 1330 bytes, have 40$/m,
  );
  assert.match(
    result.stdout,
    /^datagram 3 packet 1 at byte 0: Discovery · tid 0x00000057 \(87\) · crc 0x[0-9a-f]{8} ok/m,
  );
  assert.match(result.stderr, /2 packets failed to decode/);

  const json = await runCli(["decode", "--json", "-"], { stdin: input });
  assert.equal(json.code, 1);
  const objects = json.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.equal(objects[0].crc_ok, false);
  assert.equal(objects[0].error.reason, "crc_mismatch");
  assert.equal(objects[0].error.expected, 0x749ff2cc);
  assert.deepEqual(
    {
      kind: objects[1].kind,
      connection_id: objects[1].connection_id,
      error: objects[1].error.reason,
      needed: objects[1].error.needed,
    },
    { kind: "data", connection_id: 80, error: "truncated_body", needed: 1330 },
  );
  assert.equal(objects[2].variant, "D2C_T");
  assert.equal(objects[2].error, undefined);
});

Deno.test("bad hex is a failure naming line and column (exit 1)", async () => {
  const result = await runCli(["decode", "3acf872g"]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /bad hex on line 1, column 8: "g" is not a hex digit/);
  const odd = await runCli(["decode", "3acf8"]);
  assert.equal(odd.code, 1);
  assert.match(odd.stderr, /odd number of hex digits \(5\)/);
});

Deno.test("no input or empty input is a usage error (exit 2)", async () => {
  for (
    const [args, stdin, pattern] of [
      [["decode"], undefined, /no input/],
      [["decode", "-"], "", /empty input \(stdin\)/],
      [["decode", "-"], " \n# only a comment\n", /empty input: no hex digits/],
      [
        ["decode", "--file", "/nonexistent/packet.bin"],
        undefined,
        /cannot read \/nonexistent\/packet.bin/,
      ],
    ] as const
  ) {
    const result = await runCli([...args], { stdin });
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, pattern);
  }
});

Deno.test("elements the schema lacks are shown apart; a short header still names the kind", async () => {
  const xml = "<P2P><R2D_DC_R><sid>1</sid><rsp>0</rsp><x>9</x></R2D_DC_R></P2P>";
  const encoded = await runCli(["encode", "--no-validate", "--tid", "5", xml]);
  assert.equal(encoded.code, 0, encoded.stderr);
  const text = await runCli(["decode", encoded.stdout.trim()]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^ {4}sid: 1\n {4}rsp: 0\n {4}\(not in the schema\) x: <x>9<\/x>$/m);
  const json = await runCli(["decode", "--json", encoded.stdout.trim()]);
  assert.deepEqual(JSON.parse(json.stdout).unknown, [{ name: "x", xml: "<x>9</x>" }]);
  // Re-encoding from fields would drop <x>: refused unless the xml is re-sent verbatim.
  const again = await runCli(["encode", "-"], { stdin: json.stdout });
  assert.equal(again.code, 1);
  assert.match(again.stderr, /elements the schema lacks/);
  const verbatim = await runCli(["encode", "--no-validate", "-"], { stdin: json.stdout });
  assert.equal(verbatim.stdout.trim(), encoded.stdout.trim());

  const short = await runCli(["decode", "3acf872a1000"]);
  assert.equal(short.code, 1);
  assert.equal(
    short.stdout,
    "packet 1 at byte 0: Discovery (header unreadable)\n" +
      "  error: truncated header at byte 0: need 20 bytes, have 6\n",
  );
});

/** Runs decode with stdout on a pseudo-terminal (util-linux `script`), NO_COLOR as given. */
async function decodeOnTerminal(noColor: boolean): Promise<string> {
  const main = new URL("../main.ts", import.meta.url).pathname;
  const command = `'${Deno.execPath()}' run -A --quiet '${main}' decode --file '${
    path("cloud_r2d_c.bin")
  }'`;
  const { NO_COLOR: _, ...env } = Deno.env.toObject();
  env.TERM = "xterm";
  if (noColor) env.NO_COLOR = "1";
  const output = await new Deno.Command("script", {
    args: ["-qec", command, "/dev/null"],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout);
}

Deno.test("colours on a terminal, none with NO_COLOR", async () => {
  const coloured = await decodeOnTerminal(false);
  assert.ok(coloured.includes("\x1b[1mDiscovery\x1b[22m"), JSON.stringify(coloured));
  assert.ok(coloured.includes("\x1b[32mok\x1b[39m"));
  const plain = await decodeOnTerminal(true);
  assert.ok(plain.includes("Discovery"));
  assert.ok(!plain.includes("\x1b["), JSON.stringify(plain));
});

Deno.test("input larger than MAX_INPUT_BYTES is refused (exit 2)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/big.bin`;
    await Deno.writeFile(file, new Uint8Array(MAX_INPUT_BYTES + 1));
    const result = await runCli(["decode", "--file", file]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, new RegExp(`is larger than ${MAX_INPUT_BYTES} bytes`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
