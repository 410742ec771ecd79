/**
 * Clean Debian root file systems for the deployment tests: `debootstrap --variant=minbase` of
 * bookworm, made once from Debian's archive and kept in /var/tmp between runs (debootstrap is
 * slow). amd64 is a complete root (the container test's base image, the x86_64 release's box);
 * arm64 is debootstrap's first stage only (`--foreign`: the packages unpacked, not configured),
 * which is what `qemu-aarch64-static -L ROOT` needs to run an arm64 program against its libraries
 * on this machine, without binfmt_misc.
 */

import { programPath } from "./programs.ts";
import { join } from "node:path";

/** Kept across runs: debootstrap is slow. */
export const DEBOOTSTRAP_CACHE = "/var/tmp/bairelay-debootstrap";
/** The Debian release: the one of the Dockerfile's base image. */
export const DEBIAN_SUITE = "bookworm";
/** qemu-user for arm64 programs (Debian package qemu-user-static). */
export const QEMU_AARCH64 = "qemu-aarch64-static";

/** Debian's names of the architectures the release is built for. */
export type DebianArch = "amd64" | "arm64";

/** Where the cached root of `arch` lives (amd64 keeps the name it has always had). */
export function debianRootPath(arch: DebianArch): string {
  return join(DEBOOTSTRAP_CACHE, arch === "amd64" ? DEBIAN_SUITE : `${DEBIAN_SUITE}-${arch}`);
}

/** Whether `command` runs and exits 0. */
export function succeeds(command: string[]): boolean {
  try {
    return new Deno.Command(command[0], { args: command.slice(1), stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Why a root of `arch` cannot be had here, or undefined. */
export function debianRootSkipReason(arch: DebianArch): string | undefined {
  if (Deno.uid() !== 0) return "needs root (debootstrap, chroot, mount namespaces)";
  if (exists(join(debianRootPath(arch), "etc/debian_version"))) return undefined;
  if (!succeeds([programPath("debootstrap"), "--version"])) {
    return "debootstrap is not installed (Debian package debootstrap) and no cached root file system";
  }
  return undefined;
}

/**
 * The cached root of `arch`, made first when missing. Several test processes may want it at
 * once: each builds in a directory of its own and the first rename wins.
 */
export async function ensureDebianRoot(arch: DebianArch): Promise<string> {
  const rootfs = debianRootPath(arch);
  if (exists(join(rootfs, "etc/debian_version"))) return rootfs;
  const partial = `${rootfs}.partial-${Deno.pid}`;
  await Deno.mkdir(DEBOOTSTRAP_CACHE, { recursive: true });
  await Deno.remove(partial, { recursive: true }).catch(() => {});
  const foreign = arch === "amd64" ? [] : [`--arch=${arch}`, "--foreign"];
  const output = await new Deno.Command(programPath("debootstrap"), {
    args: ["--variant=minbase", ...foreign, DEBIAN_SUITE, partial],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr) + new TextDecoder().decode(output.stdout);
    throw new Error(`debootstrap ${arch} failed:\n${text.slice(-2000)}`);
  }
  try {
    await Deno.rename(partial, rootfs);
  } catch {
    // Another process was quicker: its root is as good as ours.
    await Deno.remove(partial, { recursive: true });
  }
  return rootfs;
}
