/**
 * `readFlags` (how `serve` reads its command line without commander) gives commander's own
 * options for every command line it accepts, and hands back (null) every one it does not
 * fully understand: help, unknown flags, missing values, bad choices, stray words. Checked on
 * `serve`'s real table against `serve`'s real commander command, with generated command lines.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { readFlags } from "../cli/flags.ts";
import { SERVE_FLAGS } from "../cli/serve_run.ts";
import { serveCommand } from "../cli/serve.ts";

/** Commander's options for `args`, or null when commander refuses them (or prints help). */
function commanderOptions(args: readonly string[]): Record<string, unknown> | null {
  const command = serveCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} })
    .action(() => {});
  try {
    command.parse([...args], { from: "user" });
  } catch {
    return null;
  }
  return { ...command.opts() };
}

Deno.test("readFlags reads ordinary serve command lines as commander does", () => {
  const cases: string[][] = [
    [],
    ["--config", "/etc/bairelay/config.toml", "--log-level", "debug"],
    ["-c", "c.toml", "--no-push", "--dns"],
    ["--api=off", "--bind", "127.0.0.1", "--api", "127.0.0.1:9000"],
    ["--dns-port", "5353", "--log-format", "json", "--check-config"],
    ["--state-dir", "", "--push-port=8443"],
  ];
  for (const args of cases) {
    const ours = readFlags(SERVE_FLAGS, args);
    assert.notEqual(ours, null, args.join(" "));
    assert.deepEqual(ours, commanderOptions(args), args.join(" "));
  }
});

Deno.test("readFlags leaves to commander what it does not fully understand", () => {
  const cases: string[][] = [
    ["--help"],
    ["-h"],
    ["--bogus"],
    ["--config"],
    ["--config", "--dns"],
    ["--log-level", "loud"],
    ["--dns=yes"],
    ["extra"],
    ["--", "--dns"],
    ["-cfile.toml"],
    ["-V"],
  ];
  for (const args of cases) assert.equal(readFlags(SERVE_FLAGS, args), null, args.join(" "));
});

Deno.test("readFlags: whatever it accepts, commander accepts with the same options", () => {
  const words = SERVE_FLAGS.flatMap((s) => s.flags.split(/, | /).filter((w) => w.startsWith("-")));
  const values = ["x", "", "off", "127.0.0.1:1", "json", "debug", "-1", "--dns", "a=b", "53"];
  const word = fc.oneof(
    fc.constantFrom(...words),
    fc.constantFrom(...words).chain((w) => fc.constantFrom(...values).map((v) => `${w}=${v}`)),
    fc.constantFrom(...values, "--help", "-h", "--", "--nope", "-z"),
    fc.string({ maxLength: 6 }),
  );
  let accepted = 0;
  fc.assert(
    fc.property(fc.array(word, { maxLength: 8 }), (args) => {
      const ours = readFlags(SERVE_FLAGS, args);
      if (ours === null) return;
      accepted++;
      assert.deepEqual(ours, commanderOptions(args), JSON.stringify(args));
    }),
    { numRuns: 5000 },
  );
  assert.ok(accepted > 500, `only ${accepted} generated command lines were read`);
});
