/**
 * Building and "running" the project's container image in this sandbox, where images cannot be
 * pulled and `podman run` does not work (no cgroups): local stand-ins for the base images are
 * made (a Debian root file system from debootstrap, the pinned Deno at the path of the official
 * `denoland/deno:bin` image), the real Dockerfile is built with `--isolation chroot`, and its
 * entrypoint is run in a chroot of the mounted image. Everything lives in a podman storage of
 * its own under /var/tmp (kept between runs, like the debootstrap cache), so no image of the
 * machine's own storage is replaced.
 */

import { join } from "node:path";
import { programPath } from "./programs.ts";

/** Kept across runs: debootstrap is slow. */
export const DEBOOTSTRAP_CACHE = "/var/tmp/bairelay-debootstrap";
/** The Debian release of the Dockerfile's `debian:bookworm-slim`. */
export const DEBIAN_SUITE = "bookworm";
const STORAGE = "/var/tmp/bairelay-podman";
/** podman with this test's own storage. */
export const PODMAN = [
  programPath("podman"),
  "--root",
  `${STORAGE}/storage`,
  "--runroot",
  `${STORAGE}/run`,
];

/** Runs a command; resolves with its output, throws with stderr when it fails. */
export async function run(command: string[], options: { stdin?: Uint8Array } = {}) {
  const child = new Deno.Command(command[0], {
    args: command.slice(1),
    stdin: options.stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(options.stdin);
    await writer.close();
  }
  const output = await child.output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  if (!output.success) {
    throw new Error(`${command.join(" ")} failed (${output.code}):\n${text(output.stderr)}`);
  }
  return { stdout: text(output.stdout), stderr: text(output.stderr) };
}

function succeeds(command: string[]): boolean {
  try {
    return new Deno.Command(command[0], { args: command.slice(1), stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/**
 * Why the container tests cannot run here, or undefined. The first check is the quick one the
 * rest depends on: does `podman build --isolation chroot` work at all (a one-file image).
 */
export const CONTAINER_SKIP_REASON = (() => {
  if (Deno.uid() !== 0) return "needs root (podman build --isolation chroot, mount, chroot)";
  if (!succeeds([programPath("podman"), "--version"])) {
    return "podman is not installed (Debian package podman)";
  }
  const dir = Deno.makeTempDirSync({ prefix: "bairelay-podman-probe-" });
  try {
    Deno.writeTextFileSync(join(dir, "probe"), "probe\n");
    Deno.writeTextFileSync(join(dir, "Containerfile"), "FROM scratch\nCOPY probe /probe\n");
    const tag = "localhost/bairelay-probe:latest";
    if (!succeeds([...PODMAN, "build", "--isolation", "chroot", "--pull=never", "-t", tag, dir])) {
      return "podman build --isolation chroot does not work in this sandbox";
    }
    succeeds([...PODMAN, "image", "rm", tag]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  const cached = exists(join(DEBOOTSTRAP_CACHE, DEBIAN_SUITE, "etc/debian_version"));
  if (!cached && !succeeds([programPath("debootstrap"), "--version"])) {
    return "debootstrap is not installed (Debian package debootstrap) and no cached root file system";
  }
  return undefined;
})();

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The local `debian:bookworm-slim`: a minbase debootstrap of the suite (made once, from Debian's
 * archive, and cached), imported under the name the Dockerfile uses.
 */
export async function ensureDebianImage(name: string): Promise<void> {
  if (succeeds([...PODMAN, "image", "exists", name])) return;
  const rootfs = join(DEBOOTSTRAP_CACHE, DEBIAN_SUITE);
  if (!exists(join(rootfs, "etc/debian_version"))) {
    const partial = `${rootfs}.partial`;
    await Deno.mkdir(DEBOOTSTRAP_CACHE, { recursive: true });
    await Deno.remove(partial, { recursive: true }).catch(() => {});
    await run([programPath("debootstrap"), "--variant=minbase", DEBIAN_SUITE, partial]);
    await Deno.rename(partial, rootfs);
  }
  await run(["sh", "-c", `tar -C '${rootfs}' -c . | ${PODMAN.join(" ")} import - '${name}'`]);
}

/** The local `denoland/deno:bin-VERSION`: only the given Deno executable, at /deno. */
export async function ensureDenoBinImage(name: string, deno: string): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "bairelay-deno-image-" });
  try {
    await Deno.copyFile(deno, join(dir, "deno"));
    await Deno.chmod(join(dir, "deno"), 0o755);
    await Deno.writeTextFile(join(dir, "Containerfile"), "FROM scratch\nCOPY deno /deno\n");
    await run([...PODMAN, "build", "--isolation", "chroot", "--pull=never", "-t", name, dir]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** What `podman image inspect` says of an image's run configuration (docker format). */
export interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[];
  Cmd?: string[];
  Healthcheck?: { Test?: string[] };
  Volumes?: Record<string, unknown>;
}

/** The image's run configuration. */
export async function imageConfig(name: string): Promise<ImageConfig> {
  const { stdout } = await run([...PODMAN, "image", "inspect", name]);
  const image = JSON.parse(stdout)[0];
  // podman reports the HEALTHCHECK beside Config, not in it.
  return { ...image.Config, Healthcheck: image.Healthcheck } as ImageConfig;
}

/** A container of `image` with its root file system mounted at `root` (for chroot). */
export async function mountImage(image: string) {
  const id = (await run([...PODMAN, "create", image])).stdout.trim().split("\n").at(-1)!;
  const root = (await run([...PODMAN, "mount", id])).stdout.trim();
  return {
    root,
    async remove() {
      await run([...PODMAN, "umount", id]).catch(() => {});
      await run([...PODMAN, "rm", "-f", id]).catch(() => {});
    },
  };
}

/**
 * The command line that runs `command` inside the mounted image `root` the way a container
 * would: a private mount namespace with /proc and /dev, the image's environment only, its user
 * (uid:gid, no supplementary groups). The process keeps the caller's PID (no fork), so signals
 * reach it directly.
 */
export function chrootCommand(root: string, config: ImageConfig, command: string[]): string[] {
  const user = config.User || "0:0";
  const script = 'mount -t proc proc "$0/proc" && mount --rbind /dev "$0/dev" && exec "$@"';
  return [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    script,
    root,
    "env",
    "-i",
    ...config.Env ?? [],
    "chroot",
    `--userspec=${user}`,
    root,
    ...command,
  ];
}
