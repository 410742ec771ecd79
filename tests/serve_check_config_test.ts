/**
 * `bairelay serve --check-config`: validates the configuration (file and flags) as `serve`
 * would, prints what would run and exits 0, or 2 with the loader's messages; it binds nothing.
 */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { join } from "node:path";
import { runCli } from "./support/run_cli.ts";
import { randomLoopback } from "./support/serve_process.ts";

Deno.test("serve --check-config: the sample config with flags, even with its ports taken", async () => {
  const ip = randomLoopback();
  // A port in use does not matter: nothing is bound.
  const socket = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, ip, () => resolve()));
  const port = socket.address().port;
  try {
    const run = await runCli([
      ...["serve", "--check-config", "--config", "sample_config.toml"],
      ...[
        "--bind",
        ip,
        "--middleman-port",
        String(port),
        "--no-push",
        "--state-dir",
        "/nonexistent/x",
      ],
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, "");
    const lines = run.stdout.trimEnd().split("\n");
    assert.equal(lines[0], "configuration is valid; serve would run:");
    assert.deepEqual(lines.slice(1).map((line) => line.split(":")[0].trim()), [
      "config",
      "wake server",
      "push listener",
      "dns responder",
      "api",
      "mqtt",
      "state directory",
      "log",
      "cameras",
    ]);
    assert.match(run.stdout, new RegExp(`middleman udp ${ip.replaceAll(".", "\\.")}:${port}`));
    assert.match(run.stdout, /push listener: off/);
    assert.match(run.stdout, /state directory: \/nonexistent\/x/);
    assert.match(run.stdout, /config: .*sample_config\.toml/);
  } finally {
    socket.close();
  }
});

Deno.test("serve --check-config: every problem at once, exit 2, nothing on stdout", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bairelay-check-config-" });
  try {
    const path = join(dir, "config.toml");
    await Deno.writeTextFile(
      path,
      '[log]\nlevel = "loud"\n[wake_server]\nmax_wakes_per_hour = -1\n',
    );
    const run = await runCli(["serve", "--check-config", "--config", path]);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /invalid configuration:\n.*log\.level: must be one of/);
    assert.match(run.stderr, /wake_server\.max_wakes_per_hour: must be an integer from 0/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
