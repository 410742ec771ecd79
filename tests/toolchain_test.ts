/**
 * The checkout's own tools: `scripts/deno` installs exactly what the lock file says, leaves every
 * tracked file as it was and fails in bounded time, naming the cause and the knobs, when npm
 * cannot reach its registry; `scripts/test` never counts a skipped test as passed; the programs
 * the tests drive are found for an ordinary user's PATH too.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
/** How long a failed install may take against a registry that refuses connections. */
const UNREACHABLE_BOUND_MS = 60_000;

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function run(command: string, args: string[], options: Deno.CommandOptions = {}) {
  const output = await new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...options,
  }).output();
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}

async function withTempDir(prefix: string, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("scripts/deno: an unreachable registry fails in bounded time naming the cause and HTTPS_PROXY", async () => {
  await withTempDir("bairelay-toolchain-", async (dir) => {
    await Deno.mkdir(join(dir, "scripts"));
    await Deno.mkdir(join(dir, ".tools"));
    await Deno.copyFile(join(ROOT, "scripts/deno"), join(dir, "scripts/deno"));
    for (const file of ["package.json", "package-lock.json"]) {
      await Deno.copyFile(join(ROOT, ".tools", file), join(dir, ".tools", file));
    }
    const started = performance.now();
    const result = await run(join(dir, "scripts/deno"), ["--version"], {
      env: {
        npm_config_registry: "http://127.0.0.1:9/",
        npm_config_cache: join(dir, "npm-cache"), // nothing cached: npm must ask the registry
      },
    });
    const elapsed = performance.now() - started;
    assert.notEqual(result.code, 0, result.stderr);
    assert.ok(elapsed < UNREACHABLE_BOUND_MS, `took ${Math.round(elapsed)} ms`);
    assert.match(result.stderr, /could not install Deno with npm from http:\/\/127\.0\.0\.1:9\//);
    assert.match(result.stderr, /ECONNREFUSED/);
    assert.match(result.stderr, /HTTPS_PROXY/);
    assert.match(result.stderr, /NODE_EXTRA_CA_CERTS/);
  });
});

Deno.test("scripts/deno: installing into a fresh clone changes no tracked file", async () => {
  await withTempDir("bairelay-clone-", async (dir) => {
    const clone = join(dir, "bairelay");
    const cloned = await run("git", ["clone", "--quiet", "--no-hardlinks", ROOT, clone]);
    assert.equal(cloned.code, 0, cloned.stderr);
    const installed = await run(join(clone, "scripts/deno"), ["--version"]);
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stdout, /^deno /);
    const status = await run("git", ["status", "--porcelain"], { cwd: clone });
    assert.equal(status.stdout, "", "tracked files changed or untracked files appeared");
  });
});

Deno.test("scripts/deno: the first fetch into a log is one plain line, not a line per package", async () => {
  await withTempDir("bairelay-fetch-", async (dir) => {
    // A fresh clone and a fresh Deno cache: as on a new machine (the npm cache is warm).
    const clone = join(dir, "bairelay");
    const cloned = await run("git", ["clone", "--quiet", "--no-hardlinks", ROOT, clone]);
    assert.equal(cloned.code, 0, cloned.stderr);
    const deno = join(clone, "scripts/deno");
    const env = { DENO_DIR: join(dir, "deno"), NO_COLOR: "" };
    assert.equal((await run(deno, ["--version"], { env })).code, 0);
    const first = await run(deno, ["run", "-A", "main.ts", "--version"], { env, cwd: clone });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^bairelay /);
    assert.match(first.stderr, /^scripts\/deno: fetching the npm packages bairelay uses/m);
    assert.doesNotMatch(first.stderr, /Download/);
    assert.ok(first.stderr.trim().split("\n").length <= 2, first.stderr);
    const again = await run(deno, ["run", "-A", "main.ts", "--version"], { env, cwd: clone });
    assert.equal(again.stderr, "", "the second run fetches nothing and says nothing");
    const status = await run("git", ["status", "--porcelain"], { cwd: clone });
    assert.equal(status.stdout, "", "the stamp is ignored by git");
  });
});

Deno.test("scripts/test: a skipped test is reported as skipped, never as passed", async () => {
  await withTempDir("bairelay-skip-", async (dir) => {
    const file = join(dir, "counted_test.ts");
    await Deno.writeTextFile(
      file,
      [
        'Deno.test("passes", () => {});',
        'Deno.test({ name: "is skipped", ignore: true, fn() {} });',
        'Deno.test("fails", () => { throw new Error("on purpose"); });',
      ].join("\n") + "\n",
    );
    const result = await run(join(ROOT, "scripts/test"), [file]);
    const last = result.stdout.trim().split("\n").at(-1);
    assert.equal(result.code, 1);
    assert.match(last ?? "", /^1 passed, [1-9]\d* failed, 1 skipped$/);
  });
});

Deno.test("programs: dnsmasq and mosquitto are found with an ordinary user's PATH", async () => {
  const script = `import { findProgram } from ${
    JSON.stringify(join(ROOT, "tests/support/programs.ts"))
  };
console.log(JSON.stringify(["dnsmasq", "mosquitto"].map(findProgram)));`;
  const result = await run(Deno.execPath(), ["eval", script], {
    env: { PATH: "/usr/local/bin:/usr/bin:/bin" },
  });
  assert.equal(result.code, 0, result.stderr);
  const [dnsmasq, mosquitto] = JSON.parse(result.stdout);
  assert.match(dnsmasq ?? "not found", /^\/.*\/dnsmasq$/);
  assert.match(mosquitto ?? "not found", /^\/.*\/mosquitto$/);
});
