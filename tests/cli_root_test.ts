import assert from "node:assert/strict";
import { runCli } from "./support/run_cli.ts";

Deno.test("--help lists every subcommand of the tool", async () => {
  const result = await runCli(["--help"]);
  assert.equal(result.code, 0);
  for (const name of ["serve", "decode", "encode", "wake", "registry", "doctor", "pcap-replay"]) {
    assert.match(result.stdout, new RegExp(`^\\s+${name}\\b`, "m"), `missing ${name}`);
  }
});

Deno.test("--version prints the version with Deno's and V8's", async () => {
  const result = await runCli(["--version"]);
  assert.equal(result.code, 0);
  assert.match(result.stdout.trim(), /^bairelay \d+\.\d+\.\d+ \(Deno \S+, V8 \S+\)$/);
});

Deno.test("an unknown subcommand is a usage error (exit 2, message on stderr)", async () => {
  const result = await runCli(["frobnicate"]);
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, /unknown command 'frobnicate'/);
});
