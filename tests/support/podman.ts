/**
 * Building and "running" the project's container image in this sandbox, where images cannot be
 * pulled and `podman run` does not work (no cgroups): a local stand-in for the Debian base images
 * is made (a root file system from debootstrap), the real Dockerfiles are built with
 * `--isolation chroot`, and an image's entrypoint is run in a chroot of the mounted image. Everything lives in a podman storage of
 * its own under /var/tmp (kept between runs, like the debootstrap cache), so no image of the
 * machine's own storage is replaced.
 */

import { programPath } from "./programs.ts";
import { join } from "node:path";
import { runCommand } from "./command.ts";
import { debianRootSkipReason, ensureDebianRoot, succeeds } from "./debian_root.ts";

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
  const result = await runCommand(command, options);
  if (result.code !== 0) {
    throw new Error(`${command.join(" ")} failed (${result.code}):\n${result.stderr}`);
  }
  return result;
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
  return debianRootSkipReason("amd64");
})();

/**
 * A local stand-in for a Debian bookworm base image (`debian:bookworm-slim`, Home Assistant's
 * `base-debian:bookworm`): the cached minbase debootstrap, imported under the name given.
 */
export async function ensureDebianImage(name: string): Promise<void> {
  if (succeeds([...PODMAN, "image", "exists", name])) return;
  const rootfs = await ensureDebianRoot("amd64");
  await run(["sh", "-c", `tar -C '${rootfs}' -c . | ${PODMAN.join(" ")} import - '${name}'`]);
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
