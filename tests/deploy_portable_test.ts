/**
 * The portable release tarballs, run the way a person runs them: unpacked into a clean Debian
 * root (debootstrap, cached in /var/tmp), as an ordinary user (nobody), with no network beyond
 * loopback (tests/support/release_box.ts). x86_64 in a chroot through bin/bairelay linked into
 * PATH; aarch64 under qemu-user with the arm64 root's libraries. Each: `--version`,
 * `serve --check-config` on the sample config, `decode` of a captured packet, and `serve` on the
 * sample config: a simulated camera (outside the root, same namespace) registers and
 * `bairelay wake` wakes it; SIGTERM exits 0. The figures (sizes, time to ready, idle memory) are
 * printed for BENCHMARKS.md.
 *
 * The release itself is built here (scripts/release; it needs the npm registry).
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "./support/command.ts";
import { debianRootSkipReason, ensureDebianRoot } from "./support/debian_root.ts";
import {
  chrootBox,
  DEBIAN_ARCH,
  inNetns,
  loopbackNetns,
  NETNS_SKIP_REASON,
  QEMU_SKIP_REASON,
  qemuBox,
  type ReleaseBox,
  residentKb,
} from "./support/release_box.ts";
import { portableName, sharedRelease, treeBytes, unpack } from "./support/release.ts";
import { ServeProcess } from "./support/serve_process.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const CAMERA_MAIN = join(ROOT, "tests/support/camera_sim_main.ts");
const FIXTURE = join(ROOT, "fixtures/captured/cloud_r2d_c.bin");
const PINNED_DENO = JSON.parse(Deno.readTextFileSync(join(ROOT, ".tools/package.json")))
  .devDependencies.deno;

/** Per architecture: how long a step may take (qemu-user runs arm64 code ~10x slower). */
const TIMEOUTS_MS: Record<string, { step: number; ready: number }> = {
  x86_64: { step: 60_000, ready: 60_000 },
  aarch64: { step: 300_000, ready: 300_000 },
};
/** How long serve sits idle before its memory is read. */
const IDLE_MS = 5_000;

/** Runs a command to its end within `timeoutMs`: exit code and output. */
function runTo(command: string[], timeoutMs: number, stdin?: Uint8Array) {
  return runCommand(command, { timeoutMs, stdin });
}

/** The simulated camera as its own process in `netns`: boots, then waits for one wake. */
function startCamera(netns: string, uid: string, timeoutMs: number) {
  const args = {
    uid,
    ip: "127.0.0.1",
    middleman: { ip: "127.0.0.1", port: 9999 },
    wakes: 1,
    timeoutMs,
  };
  const command = inNetns(netns, [
    Deno.execPath(),
    ...["run", "--allow-all", "--quiet", CAMERA_MAIN, JSON.stringify(args)],
  ]);
  const process = new Deno.Command(command[0], {
    args: command.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = process.stdout.pipeThrough(new TextDecoderStream()).values();
  let buffered = "";
  /** The next JSON event the camera prints. */
  const next = async (): Promise<Record<string, unknown>> => {
    while (!buffered.includes("\n")) {
      const chunk = await lines.next();
      if (chunk.done) throw new Error(`camera ended; output so far: ${buffered}`);
      buffered += chunk.value;
    }
    const line = buffered.slice(0, buffered.indexOf("\n"));
    buffered = buffered.slice(buffered.indexOf("\n") + 1);
    return JSON.parse(line);
  };
  return { next, status: process.status, kill: () => process.kill("SIGKILL") };
}

async function exercise(
  arch: string,
  box: ReleaseBox,
  netns: string,
  tarball: string,
  tree: string,
) {
  const timeouts = TIMEOUTS_MS[arch];
  const version = await runTo(box.command(["--version"]), timeouts.step);
  assert.equal(version.code, 0, version.stderr);
  assert.match(version.stdout, new RegExp(`^bairelay [\\d.]+ \\(Deno ${PINNED_DENO}, `));

  const check = await runTo(
    box.command(["serve", "--check-config", "--config", box.sampleConfig]),
    timeouts.step,
  );
  assert.equal(check.code, 0, check.stderr);
  assert.match(check.stdout, /^configuration is valid/);

  const decoded = await runTo(
    box.command(["decode", "-"]),
    timeouts.step,
    Deno.readFileSync(FIXTURE),
  );
  assert.equal(decoded.code, 0, decoded.stderr);
  assert.match(decoded.stdout, /Discovery .* crc 0x[0-9a-f]+ ok[^]*R2D_C/);

  const started = performance.now();
  const serve = ServeProcess.spawn(
    box.command(["serve", "--config", box.sampleConfig, "--bind", "127.0.0.1"]),
  );
  const uid = "95270000RELEASE1";
  let camera: ReturnType<typeof startCamera> | undefined;
  try {
    await serve.waitFor(/bairelay serve ready/, timeouts.ready);
    const readyMs = performance.now() - started;
    camera = startCamera(netns, `${uid}0123`, timeouts.step);
    const booted = await camera.next();
    assert.equal(booted.event, "booted", JSON.stringify(booted));
    const wake = await runTo(box.command(["wake", uid, "--json"]), timeouts.step);
    assert.equal(wake.code, 0, wake.stdout + wake.stderr);
    assert.equal(JSON.parse(wake.stdout).result, "woken");
    const woken = await camera.next();
    assert.equal(woken.event, "wakes", JSON.stringify(woken));
    assert.equal((await camera.status).code, 0);
    camera = undefined;

    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const rssKb = await residentKb(netns, "main.js\0serve");
    const stopped = await serve.stop("SIGTERM", timeouts.step);
    assert.equal(stopped.code, 0, serve.stderr);
    const tarballBytes = (await Deno.stat(tarball)).size;
    console.log(
      `release figures ${arch}: tarball ${tarballBytes} B, unpacked ${await treeBytes(tree)} B, ` +
        `ready ${Math.round(readyMs)} ms, idle RSS ${rssKb} kB` +
        (arch === "aarch64" ? " (qemu-user: emulator included)" : ""),
    );
  } finally {
    camera?.kill();
    await serve.stop("SIGKILL");
  }
}

for (const arch of ["x86_64", "aarch64"]) {
  const skip = NETNS_SKIP_REASON ?? debianRootSkipReason(DEBIAN_ARCH[arch]) ??
    (arch === "aarch64" ? QEMU_SKIP_REASON : undefined);
  Deno.test({
    name: `release: the ${arch} tarball in a clean Debian root as nobody, loopback only: ` +
      "--version, --check-config, decode, serve + a camera woken" +
      (skip ? ` [skipped: ${skip}]` : ""),
    ignore: skip !== undefined,
    sanitizeResources: false,
    sanitizeOps: false,
    fn: async () => {
      const release = await sharedRelease();
      const name = portableName(release.version, arch);
      const tarball = join(release.dir, `${name}.tar.gz`);
      const root = await ensureDebianRoot(DEBIAN_ARCH[arch]);
      const tree = await unpack(tarball, name);
      const home = await Deno.makeTempDir({ prefix: "bairelay-home-" });
      await Deno.chmod(home, 0o777);
      const netns = await loopbackNetns();
      try {
        const box = arch === "x86_64"
          ? chrootBox(netns.name, root, tree)
          : qemuBox(netns.name, root, tree, home);
        await exercise(arch, box, netns.name, tarball, tree);
      } finally {
        await netns.remove();
        await Deno.remove(dirname(tree), { recursive: true });
        await Deno.remove(home, { recursive: true });
      }
    },
  });
}
