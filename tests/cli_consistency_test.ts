/**
 * One command line, one style, through the real CLI: every error on stderr starts with
 * `bairelay: ` (commander's own messages included) and ends with a README exit code; a missing
 * input file is exit 2 in every subcommand; `--version` names bairelay's, Deno's and V8's
 * versions (bairelay's kept equal to deno.json's); `--help` shows numeric defaults as numbers.
 * And the API answers a malformed %-escape in a path with 400, not 500.
 */

import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import { VERSION } from "../lib/version.ts";
import { runCli, SUBCOMMANDS } from "./support/run_cli.ts";
import { startServiceFixture } from "./support/service_fixture.ts";

const MISSING = "/nonexistent/bairelay-input";

/** Asserts a usage error in bairelay's style: exit 2, nothing on stdout, `bairelay: ...`. */
function assertUsageError(result: { code: number; stdout: string; stderr: string }, what: string) {
  assert.equal(result.code, 2, `${what}: ${result.stderr}`);
  assert.equal(result.stdout, "", what);
  assert.match(result.stderr, /^bairelay: /, `${what}: ${result.stderr}`);
  assert.doesNotMatch(result.stderr, /^error:/m, what);
}

Deno.test("cli: VERSION in lib/version.ts equals deno.json's version", () => {
  assert.equal(VERSION, denoJson.version);
});

Deno.test("cli: --version prints bairelay's, Deno's and V8's versions", async () => {
  const result = await runCli(["--version"]);
  assert.equal(result.code, 0);
  assert.equal(
    result.stdout.trim(),
    `bairelay ${VERSION} (Deno ${Deno.version.deno}, V8 ${Deno.version.v8})`,
  );
});

Deno.test("cli: unknown options and commands are `bairelay: ...` usage errors", async () => {
  const results = await Promise.all([
    runCli(["--bogus"]),
    runCli(["frobnicate"]),
    ...SUBCOMMANDS.map((name) => runCli([name, "--bogus"])),
  ]);
  assert.match(results[0].stderr, /^bairelay: unknown option '--bogus'\n\(run with --help/);
  assert.match(results[1].stderr, /^bairelay: unknown command 'frobnicate'/);
  results.forEach((result, i) =>
    assertUsageError(result, ["--bogus", "frobnicate", ...SUBCOMMANDS][i])
  );
});

Deno.test("cli: a missing input file is exit 2 in every subcommand", async () => {
  const runs: [string, string[]][] = [
    ["decode", ["decode", "--file", MISSING]],
    ["encode", ["encode", "--file", MISSING]],
    ["pcap-replay", ["pcap-replay", MISSING]],
    ["serve", ["serve", "--config", MISSING]],
    ["wake", ["wake", "--config", MISSING, "door"]],
    ["registry", ["registry", "--config", MISSING]],
    ["doctor", ["doctor", "--config", MISSING]],
  ];
  const results = await Promise.all(runs.map(([, args]) => runCli(args, { timeoutMs: 20_000 })));
  results.forEach((result, i) => {
    assertUsageError(result, runs[i][0]);
    assert.ok(result.stderr.includes(MISSING), result.stderr);
    assert.match(result.stderr, /no such file/, result.stderr);
  });
});

Deno.test("cli: --help shows numeric defaults as numbers", async () => {
  const results = await Promise.all(SUBCOMMANDS.map((name) => runCli([name, "--help"])));
  results.forEach((result, i) => {
    assert.equal(result.code, 0, SUBCOMMANDS[i]);
    const help = result.stdout.replace(/\s+/g, " ");
    assert.doesNotMatch(help, /\(default: "\d+"\)/, `${SUBCOMMANDS[i]}:\n${result.stdout}`);
  });
  const registry = results[SUBCOMMANDS.indexOf("registry")].stdout.replace(/\s+/g, " ");
  assert.match(registry, /--timeout <ms> Give up after this many milliseconds \(default: 5000\)/);
  const doctor = results[SUBCOMMANDS.indexOf("doctor")].stdout.replace(/\s+/g, " ");
  assert.match(doctor, /--timeout <ms> Time limit for each API request \(default: 2000\)/);
});

Deno.test("api: a malformed %-escape in a path is a 400, and the server keeps answering", async () => {
  const fixture = await startServiceFixture();
  try {
    const bad = await fixture.call("POST", "/api/cameras/%E0%A4%A/wake");
    assert.equal(bad.status, 400, bad.text);
    assert.match(
      bad.json.error,
      /malformed %-encoding in the path: \/api\/cameras\/%E0%A4%A\/wake/,
    );
    const good = await fixture.call("POST", "/api/cameras/%64oor/wake");
    assert.equal(good.status, 404, good.text);
    // Decoded: "door", a name no camera has.
    assert.match(good.json.error, /no camera is named door or has that UID/);
  } finally {
    await fixture.close();
  }
});
