/**
 * `scripts/bairelay`, the command a checkout's users run (and link into PATH): the pinned
 * Deno with the shipped flags, in the caller's directory, so relative paths mean what they
 * say there.
 */

import assert from "node:assert/strict";

const SCRIPT = new URL("../scripts/bairelay", import.meta.url).pathname;
const SAMPLE = new URL("../sample_config.toml", import.meta.url).pathname;

async function run(command: string, args: string[], cwd: string) {
  const output = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("scripts/bairelay: a relative --config is read from the caller's directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.copyFile(SAMPLE, `${dir}/config.toml`);
    const result = await run(SCRIPT, ["serve", "--check-config", "--config", "config.toml"], dir);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^configuration is valid/);
    assert.match(result.stdout, /config: config\.toml/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scripts/bairelay: works through a symlink in PATH, from anywhere", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/bin`);
    await Deno.symlink(SCRIPT, `${dir}/bin/bairelay`);
    // Found through PATH, as a link in a user's ~/.local/bin is.
    const linked = await new Deno.Command("bairelay", {
      args: ["--version"],
      cwd: "/",
      env: { PATH: `${dir}/bin:${Deno.env.get("PATH")}` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(linked.code, 0, new TextDecoder().decode(linked.stderr));
    assert.match(new TextDecoder().decode(linked.stdout), /^bairelay \d+\.\d+\.\d+ \(Deno /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
