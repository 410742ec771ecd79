/**
 * Running `serve` as a real ordinary user (nobody) from a root test run, the way a user without
 * privileges meets it: `setpriv` switches user and group and clears supplementary groups. That
 * user may not be able to read this checkout (CI clones under root's directories) or root's Deno
 * cache, so the program is copied with a filled Deno cache to a directory everyone can read.
 * As a non-root test run the command is left as it is (the run is unprivileged already).
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const isRoot = Deno.uid() === 0;
const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
/** What `serve` needs of the checkout. */
const PROGRAM_FILES = ["main.ts", "deno.json", "deno.lock", "cli", "lib"];

/** Why the test cannot run as another user here, or undefined when it can. */
export const AS_NOBODY_SKIP_REASON = (() => {
  if (!isRoot) return undefined;
  try {
    const ok = new Deno.Command("setpriv", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
    return ok ? undefined : "setpriv does not run";
  } catch {
    return "setpriv is not installed (Debian package util-linux)";
  }
})();

/** The words before a command that run it as nobody:nogroup with no capabilities. */
export function asNobody(command: string[]): string[] {
  return isRoot
    ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--", ...command]
    : command;
}

/** A copy of the program any user can read, with its own filled Deno cache. */
export interface ReadableProgram {
  /** main.ts of the copy. */
  main: string;
  /** DENO_DIR holding its dependencies. */
  denoDir: string;
  remove(): Promise<void>;
}

/**
 * Copies the program to a fresh directory under /tmp that everyone can read and fills a Deno
 * cache there for it (as the current user, from the registry or the current cache), so the
 * unprivileged `serve` needs no network and no access to root's files.
 */
export async function readableProgram(): Promise<ReadableProgram> {
  const dir = await Deno.makeTempDir({ prefix: "bairelay-readable-" });
  const run = async (command: string, args: string[], env: Record<string, string> = {}) => {
    const output = await new Deno.Command(command, { args, env, stdout: "null", stderr: "piped" })
      .output();
    if (!output.success) {
      throw new Error(`${command} ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
    }
  };
  await run("cp", ["-R", ...PROGRAM_FILES.map((file) => join(ROOT, file)), dir]);
  const main = join(dir, "main.ts");
  const denoDir = join(dir, ".deno");
  await run(Deno.execPath(), ["cache", "--quiet", main], { DENO_DIR: denoDir });
  await run("chmod", ["-R", "a+rX", dir]);
  return { main, denoDir, remove: () => Deno.remove(dir, { recursive: true }) };
}
