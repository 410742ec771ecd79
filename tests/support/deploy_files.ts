/**
 * The permission flags `serve` runs with, read from their single source: deno.json's tasks
 * (`serve` for the checkout, `compile` for the executable). The unit, the container and the
 * release must agree with them (tests/deploy_files_test.ts).
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** The `--allow-*` flags of a deno.json task, in their order. */
export function taskPermissions(task: "serve" | "compile"): string[] {
  const json = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
  return String(json.tasks[task]).split(/\s+/).filter((word) => word.startsWith("--allow-"));
}
