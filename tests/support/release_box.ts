/**
 * A box to run an unpacked portable release in, as a person's machine would: a clean Debian
 * root (tests/support/debian_root.ts), a network namespace with loopback only, an ordinary user
 * (nobody, no groups). x86_64 runs the tree's bin/bairelay through a symlink in PATH inside a
 * chroot of the root, the tree bind-mounted at /opt/bairelay. aarch64 runs the launcher's own
 * command line under qemu-user (`qemu-aarch64-static -L ROOT`: the arm64 root's libraries,
 * no binfmt_misc), as nobody, from the tree where it was unpacked.
 *
 * The simulated camera runs outside the root (this checkout's Deno) in the same namespace.
 */

import { type DebianArch, QEMU_AARCH64, succeeds } from "./debian_root.ts";

/** Debian's name of each release architecture. */
export const DEBIAN_ARCH: Record<string, DebianArch> = { x86_64: "amd64", aarch64: "arm64" };
/** nobody:nogroup, in Debian's root as on this machine. */
const NOBODY = "65534";

/** Why no loopback-only network namespace can be made here, or undefined. */
export const NETNS_SKIP_REASON = (() => {
  if (Deno.uid() !== 0) return "needs root (ip netns, chroot)";
  if (!succeeds(["ip", "-V"])) return "ip is not installed (Debian package iproute2)";
  return undefined;
})();

/** Why arm64 programs cannot run here, or undefined. */
export const QEMU_SKIP_REASON = succeeds([QEMU_AARCH64, "--version"])
  ? undefined
  : `${QEMU_AARCH64} is not installed (Debian package qemu-user-static)`;

/** A namespace with only `lo`, up. */
export async function loopbackNetns(): Promise<{ name: string; remove(): Promise<void> }> {
  const name = `bairelay-rel-${Deno.pid}-${crypto.getRandomValues(new Uint16Array(1))[0]}`;
  for (const args of [["netns", "add", name], ["-n", name, "link", "set", "lo", "up"]]) {
    const output = await new Deno.Command("ip", { args, stderr: "piped" }).output();
    if (!output.success) {
      throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(output.stderr)}`);
    }
  }
  return {
    name,
    async remove() {
      await new Deno.Command("ip", { args: ["netns", "del", name] }).output();
    },
  };
}

/** How a release tree is run in the box. */
export interface ReleaseBox {
  /** The command line that runs `bairelay ARGS` there. */
  command(args: string[]): string[];
  /** Where the tree's sample config is, as the program sees it. */
  sampleConfig: string;
}

/** Runs in the namespace `netns`. */
export function inNetns(netns: string, command: string[]): string[] {
  return ["ip", "netns", "exec", netns, ...command];
}

/**
 * The x86_64 box: in a private mount namespace, /opt becomes a tmpfs holding the tree at
 * /opt/bairelay, /tmp a tmpfs with a bin/ whose bairelay is a symlink to the launcher, /proc and
 * /dev are mounted; then chroot, setpriv to nobody, a clean environment, `bairelay` from PATH.
 * The cached root itself is not written to.
 */
export function chrootBox(netns: string, root: string, tree: string): ReleaseBox {
  const script = [
    "root=$0 tree=$1; shift",
    'mount -t tmpfs -o mode=0755 tmpfs "$root/opt"',
    'mkdir "$root/opt/bairelay" && mount --bind "$tree" "$root/opt/bairelay"',
    'mount -t tmpfs -o mode=1777 tmpfs "$root/tmp" && mkdir -m 0755 "$root/tmp/bin"',
    'ln -s /opt/bairelay/bin/bairelay "$root/tmp/bin/bairelay"',
    'mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev"',
    `exec chroot "$root" setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups ` +
    'env -i HOME=/tmp PATH=/tmp/bin:/usr/bin:/bin NO_COLOR=1 bairelay "$@"',
  ].join("\n");
  return {
    command: (args) =>
      inNetns(netns, [
        ...["unshare", "--mount", "--propagation", "private"],
        ...["sh", "-c", script, root, tree, ...args],
      ]),
    sampleConfig: "/opt/bairelay/sample_config.toml",
  };
}

/**
 * The launcher's command line with the tree's path for `$top`: what `exec` runs at its end
 * (the Deno runtime, the serve task's flags, the entry point), and the environment it exports.
 */
export function launcherCommand(tree: string): { command: string[]; env: string[] } {
  const text = Deno.readTextFileSync(`${tree}/bin/bairelay`);
  const exec = text.match(/^exec (.*) "\$@"$/m)?.[1];
  const exported = text.match(/^export (.*)$/m)?.[1];
  if (!exec || !exported) throw new Error(`bin/bairelay: no exec or export line:\n${text}`);
  const words = (line: string) =>
    line.split(" ").map((word) => word.replaceAll('"', "").replaceAll("$top", tree));
  return { command: words(exec), env: words(exported) };
}

/**
 * The aarch64 box: the launcher's command under qemu-user with the arm64 root's libraries, as
 * nobody with a clean environment. `home` must be writable by nobody (the state directory).
 */
export function qemuBox(netns: string, root: string, tree: string, home: string): ReleaseBox {
  const launcher = launcherCommand(tree);
  return {
    command: (args) =>
      inNetns(netns, [
        ...["setpriv", `--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups"],
        ...["env", "-i", `HOME=${home}`, "NO_COLOR=1", ...launcher.env],
        ...[QEMU_AARCH64, "-L", root, ...launcher.command, ...args],
      ]),
    sampleConfig: `${tree}/sample_config.toml`,
  };
}

/** The resident memory (kB) of the process in `netns` whose command line has `marker`. */
export async function residentKb(netns: string, marker: string): Promise<number | undefined> {
  const output = await new Deno.Command("ip", { args: ["netns", "pids", netns], stdout: "piped" })
    .output();
  for (const pid of new TextDecoder().decode(output.stdout).split(/\s+/).filter(Boolean)) {
    try {
      const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
      if (!cmdline.includes(marker)) continue;
      const status = await Deno.readTextFile(`/proc/${pid}/status`);
      const rss = status.match(/^VmRSS:\s+(\d+) kB$/m);
      if (rss) return Number(rss[1]);
    } catch { /* gone */ }
  }
  return undefined;
}
