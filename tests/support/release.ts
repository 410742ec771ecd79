/**
 * scripts/release for the deployment tests: the release is built once per test process (it takes
 * minutes: two Deno runtimes from the npm registry, gzip -9 of ~100 MB each) into a temporary
 * directory, and its portable tarballs are unpacked where a test needs them.
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "./command.ts";

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
/** How long one scripts/release run may take on a busy two-core machine. */
const RELEASE_TIMEOUT_MS = 900_000;

/** A finished scripts/release run. */
export interface Release {
  dir: string;
  version: string;
  /** Its stderr: what it built and what it skipped. */
  log: string;
}

/** The portable tarball's file name for `arch` (x86_64, aarch64). */
export function portableName(version: string, arch: string): string {
  return `bairelay-${version}-linux-${arch}`;
}

/** Runs scripts/release for `arches` into a new temporary directory. */
export async function runRelease(arches: string[] = []): Promise<Release> {
  const dir = join(await Deno.makeTempDir({ prefix: "bairelay-release-" }), "release");
  const result = await runCommand([join(ROOT, "scripts/release"), ...arches], {
    env: { RELEASE_DIR: dir, NO_COLOR: "1" },
    timeoutMs: RELEASE_TIMEOUT_MS,
  });
  const log = result.stderr;
  if (result.code !== 0) throw new Error(`scripts/release failed (${result.code}):\n${log}`);
  const version = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).version;
  return { dir, version, log };
}

let built: Promise<Release> | undefined;

/**
 * The release of both architectures, built on first use in this process and removed when the
 * process ends.
 */
export function sharedRelease(): Promise<Release> {
  built ??= runRelease().then((release) => {
    globalThis.addEventListener("unload", () => {
      Deno.removeSync(dirname(release.dir), { recursive: true });
    });
    return release;
  });
  return built;
}

/**
 * The tarball `file` unpacked into a new directory every user can read (the tests run the tree
 * as an ordinary user); returns the tree's top directory.
 */
export async function unpack(file: string, top: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bairelay-unpacked-" });
  await Deno.chmod(dir, 0o755);
  const output = await new Deno.Command("tar", { args: ["-xzf", file, "-C", dir] }).output();
  if (!output.success) {
    throw new Error(`tar -xzf ${file}: ${new TextDecoder().decode(output.stderr)}`);
  }
  return join(dir, top);
}

/** Bytes used by the files under `dir` (du -sb). */
export async function treeBytes(dir: string): Promise<number> {
  return Number((await runCommand(["du", "-sb", dir])).stdout.split("\t")[0]);
}
