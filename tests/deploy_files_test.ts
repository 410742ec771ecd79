/**
 * What the deployment files must agree on with the rest of the project: one list of permissions
 * (deno.json's serve and compile tasks, the container's BAIRELAY_PERMISSIONS), one Deno version
 * (.tools/package.json, the Dockerfile's DENO_VERSION), and the host networking compose needs.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { taskPermissions } from "./support/deploy_files.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const read = (path: string) => Deno.readTextFileSync(join(ROOT, path));

Deno.test("permissions: deno.json's serve and compile tasks and the container use one list", () => {
  const serve = taskPermissions("serve");
  assert.ok(serve.length > 0);
  assert.deepEqual(taskPermissions("compile"), serve);
  const container = read("Dockerfile").match(/BAIRELAY_PERMISSIONS="([^"]*)"/)?.[1];
  assert.deepEqual(container?.split(" "), serve, "Dockerfile BAIRELAY_PERMISSIONS");
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
