/**
 * Running `serve` as a real ordinary user (nobody) from a root test run, the way a user without
 * privileges meets it: `setpriv` switches user and group and clears supplementary groups; the
 * Deno cache is copied to a directory that user can read, since root's cache under /root is not.
 * As a non-root test run the command is left as it is (the run is unprivileged already).
 */

const isRoot = Deno.uid() === 0;

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

/**
 * A Deno cache directory nobody can read, filled for main.ts (as root, once per run), so the
 * unprivileged `serve` needs no network and no write access to root's cache.
 */
export async function readableDenoDir(): Promise<string> {
  const dir = "/tmp/bairelay-test-deno-dir";
  const main = new URL("../../main.ts", import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["cache", "--quiet", main],
    env: { DENO_DIR: dir },
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`deno cache failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  await new Deno.Command("chmod", { args: ["-R", "a+rX", dir] }).output();
  return dir;
}
