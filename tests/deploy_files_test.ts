/**
 * What the deployment files must agree on with the rest of the project: one list of flags
 * (deno.json's serve and compile tasks; the container takes the serve task's at build time), one
 * Deno version (.tools/package.json, the Dockerfile's DENO_VERSION), and the host networking
 * compose needs.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { taskFlags } from "../scripts/task_flags.ts";

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

Deno.test("flags: the container takes the serve task's, scripts/release the compile task's", () => {
  assert.match(
    read("Dockerfile"),
    /^RUN deno run --allow-read scripts\/task_flags\.ts serve >deno-flags$/m,
  );
  assert.match(
    read("deploy/container/entrypoint.sh"),
    /^flags=\$\(cat \/opt\/bairelay\/deno-flags\)$/m,
  );
  assert.match(
    read("deploy/homeassistant/bairelay/Dockerfile"),
    /deno run \$\(cat \/opt\/bairelay\/deno-flags\)/,
  );
  assert.match(read("scripts/release"), /scripts\/task_flags\.ts compile/);
  assert.throws(() => taskFlags(read("deno.json"), "no-such-task"), /no task "no-such-task"/);
});

Deno.test("no update check where serve runs under deno run: scripts/deno and the image", async () => {
  // `deno run` asks Deno's servers for a newer release in the background; the compiled binary
  // does not. The README's commands go through scripts/deno; the container and the add-on
  // (built from the container image) set it in the image.
  const output = await new Deno.Command(join(ROOT, "scripts/deno"), {
    args: ["eval", "console.log(Deno.env.get('DENO_NO_UPDATE_CHECK'))"],
    env: { DENO_NO_UPDATE_CHECK: "" },
  }).output();
  assert.equal(new TextDecoder().decode(output.stdout).trim(), "1");
  const image = read("Dockerfile").split(/^FROM /m).at(-1)!;
  assert.match(image, /^ENV [^]*?DENO_NO_UPDATE_CHECK=1/m);
});

Deno.test("Deno version: the Dockerfile pins the one .tools/package.json pins", () => {
  const pinned = JSON.parse(read(".tools/package.json")).devDependencies.deno;
  assert.equal(read("Dockerfile").match(/^ARG DENO_VERSION=(\S+)$/m)?.[1], pinned);
});

Deno.test("compose.yaml: host networking, the state volume, the config file", () => {
  const compose = parseYaml(read("compose.yaml"));
  const service = compose.services.bairelay;
  assert.equal(service.network_mode, "host");
  assert.ok(service.volumes.some((v: string) => v.endsWith(":/var/lib/bairelay")));
  assert.ok(service.volumes.some((v: string) => v.includes(":/etc/bairelay/config.toml")));
});
