/**
 * What the deployment files must agree on with the rest of the project: one list of flags
 * (deno.json's serve and compile tasks; the release launcher carries the serve task's, and the
 * container and the add-on run that launcher), one Deno version (.tools/package.json, which
 * scripts/release ships), and the host networking compose needs.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { bundledRunFlags, taskFlags } from "../scripts/task_flags.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const read = (path: string) => Deno.readTextFileSync(join(ROOT, path));
/** Flags only `deno compile` has: not part of how `serve` runs. */
const COMPILE_ONLY = ["--exclude-unused-npm"];

Deno.test("flags: deno.json's serve and compile tasks run serve with one list", () => {
  const serve = taskFlags(read("deno.json"), "serve");
  assert.ok(serve.some((flag) => flag.startsWith("--allow-")));
  const compile = taskFlags(read("deno.json"), "compile");
  assert.deepEqual(compile.filter((flag) => !COMPILE_ONLY.includes(flag)), serve);
});

Deno.test("flags: the release launcher takes the serve task's, deno compile the compile task's; the container and the add-on run the launcher", () => {
  const release = read("scripts/release");
  assert.match(
    release,
    /^serve_flags=\$\(scripts\/deno run --allow-read scripts\/task_flags\.ts serve --bundled\)$/m,
  );
  assert.match(release, /^exec "\\\$top\/runtime\/deno" run \$serve_flags "\\\$top\/app\/\$2" /m);
  assert.match(release, /scripts\/task_flags\.ts compile/);
  assert.match(
    read("deploy/container/entrypoint.sh"),
    /^exec \/opt\/bairelay\/bin\/bairelay "\$@"$/m,
  );
  assert.match(read("Dockerfile"), /CMD \["\/opt\/bairelay\/libexec\/healthcheck"\]/);
  assert.match(
    read("deploy/homeassistant/bairelay/Dockerfile"),
    /^ENTRYPOINT \["\/opt\/bairelay\/libexec\/addon"\]$/m,
  );
  assert.throws(() => taskFlags(read("deno.json"), "no-such-task"), /no task "no-such-task"/);
});

Deno.test("flags: the bundle runs with the serve task's flags, deno.json's unstable features and no deno.json", () => {
  const denoJson = read("deno.json");
  const unstable = (JSON.parse(denoJson).unstable as string[]).map((name) => `--unstable-${name}`);
  assert.ok(unstable.includes("--unstable-net"));
  assert.deepEqual(bundledRunFlags(denoJson, "serve"), [
    ...taskFlags(denoJson, "serve"),
    ...unstable,
    "--no-config",
    "--no-lock",
  ]);
  const bad = JSON.stringify({ tasks: { serve: "deno run -A main.ts" }, unstable: "net" });
  assert.throws(() => bundledRunFlags(bad, "serve"), /"unstable" is not a list of names/);
});

Deno.test("no update check where serve runs under deno run: scripts/deno and the release launcher", async () => {
  // `deno run` asks Deno's servers for a newer release in the background; the compiled binary
  // does not. The README's commands go through scripts/deno; the release (and with it the
  // container and the add-on) through its launcher.
  const output = await new Deno.Command(join(ROOT, "scripts/deno"), {
    args: ["eval", "console.log(Deno.env.get('DENO_NO_UPDATE_CHECK'))"],
    env: { DENO_NO_UPDATE_CHECK: "" },
  }).output();
  assert.equal(new TextDecoder().decode(output.stdout).trim(), "1");
  assert.match(
    read("scripts/release"),
    /^export DENO_NO_UPDATE_CHECK=1$/m,
  );
});

Deno.test("Deno version: the release ships the one .tools/package.json pins; the images have none of their own", () => {
  assert.match(read("scripts/release"), /\.tools\/package\.json"\)\)\.devDependencies\.deno/);
  assert.doesNotMatch(read("Dockerfile"), /denoland|DENO_VERSION/);
  assert.doesNotMatch(read("deploy/homeassistant/bairelay/Dockerfile"), /denoland|DENO_VERSION/);
});

Deno.test("compose.yaml: host networking, the state volume, the config file", () => {
  const compose = parseYaml(read("compose.yaml"));
  const service = compose.services.bairelay;
  assert.equal(service.network_mode, "host");
  assert.ok(service.volumes.some((v: string) => v.endsWith(":/var/lib/bairelay")));
  assert.ok(service.volumes.some((v: string) => v.includes(":/etc/bairelay/config.toml")));
});
