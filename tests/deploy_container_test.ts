/**
 * The real Dockerfile, built and run as far as this sandbox allows (see tests/support/podman.ts):
 * `podman build --isolation chroot --pull=never` of the release scripts/release built (the
 * Dockerfile unpacks its portable tarball) against a local stand-in of its Debian base image,
 * then the image's entrypoint and command, as the image's non-root user, in a chroot of the
 * built image on a loopback address: a camera's D2M_Q is answered (the whole boot handshake),
 * TCP 443 is bound (the file capability works for that user), /healthz answers, and so does the
 * image's HEALTHCHECK command. SIGTERM stops it with exit code 0. The Home Assistant add-on is
 * built the way the Supervisor builds it, from the add-on folder scripts/release writes, with the
 * Debian stand-in as its base (for Home Assistant's Debian image), and run the same way (as root,
 * like the Supervisor does) on an options.json of the test's.
 *
 * Not reproduced: the container runtime itself (namespaces, cgroups, the volume mount, Docker's
 * capability bounding set); the build fetches libcap2-bin from Debian's archive (the build's own
 * network, as any `docker build` of this Dockerfile).
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { CameraSim } from "./support/camera_sim.ts";
import { taskFlags } from "../scripts/task_flags.ts";
import { launcherCommand } from "./support/release_box.ts";
import { portableName, type Release, sharedRelease } from "./support/release.ts";
import {
  freeServePorts,
  randomLoopback,
  serveAddressArgs,
  ServeProcess,
} from "./support/serve_process.ts";
import {
  chrootCommand,
  CONTAINER_SKIP_REASON,
  ensureDebianImage,
  imageConfig,
  mountImage,
  PODMAN,
  run,
} from "./support/podman.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const DOCKERFILE = Deno.readTextFileSync(`${ROOT}/Dockerfile`);
const IMAGE = "localhost/bairelay:deploy-test";
const ADDON_IMAGE = "localhost/bairelay-addon:deploy-test";
/** The Dockerfile's base image (both stages), which the Debian stand-in replaces. */
const DEBIAN_IMAGE = [...DOCKERFILE.matchAll(/^FROM (\S+)/gm)].map((m) => m[1])
  .find((from) => from.includes("debian"))!;

/**
 * The Dockerfile's build context as a checkout has it after scripts/release: the Dockerfile,
 * the entrypoint, and the release in dist/release (the test's release, copied).
 */
async function buildContext(release: Release): Promise<string> {
  const context = await Deno.makeTempDir({ prefix: "bairelay-context-" });
  await Deno.mkdir(join(context, "dist/release"), { recursive: true });
  await Deno.mkdir(join(context, "deploy/container"), { recursive: true });
  await Deno.copyFile(join(ROOT, "Dockerfile"), join(context, "Dockerfile"));
  const entrypoint = "deploy/container/entrypoint.sh";
  await Deno.copyFile(join(ROOT, entrypoint), join(context, entrypoint));
  for (const file of ["SHA256SUMS", `${portableName(release.version, "x86_64")}.tar.gz`]) {
    await Deno.copyFile(join(release.dir, file), join(context, "dist/release", file));
  }
  return context;
}

let building: Promise<void> | undefined;

/** Builds the project's image from the real Dockerfile (once per test run). */
function appImage(): Promise<void> {
  building ??= (async () => {
    await ensureDebianImage(DEBIAN_IMAGE);
    const context = await buildContext(await sharedRelease());
    try {
      await run([
        ...PODMAN,
        ...["build", "--isolation", "chroot", "--pull=never", "--format", "docker"],
        ...["-t", IMAGE, context],
      ]);
    } finally {
      await Deno.remove(context, { recursive: true });
    }
    // Earlier runs' images, untagged now: the test's storage does not grow run after run.
    await run([...PODMAN, "image", "prune", "--force"]);
  })();
  return building;
}

Deno.test({
  name: "container: podman build --isolation chroot works here (the quick check the rest needs)" +
    (CONTAINER_SKIP_REASON ? ` [skipped: ${CONTAINER_SKIP_REASON}]` : ""),
  ignore: CONTAINER_SKIP_REASON !== undefined,
  fn: () => {
    // CONTAINER_SKIP_REASON built a one-file image; undefined means it worked.
    assert.equal(CONTAINER_SKIP_REASON, undefined);
  },
});

Deno.test({
  name: "container: the Dockerfile builds, and its entrypoint as the image's user answers " +
    "D2M_Q, binds 443, /healthz and HEALTHCHECK pass, SIGTERM exits 0" +
    (CONTAINER_SKIP_REASON ? ` [skipped: ${CONTAINER_SKIP_REASON}]` : ""),
  ignore: CONTAINER_SKIP_REASON !== undefined,
  sanitizeResources: false,
  fn: async () => {
    await appImage();
    const config = await imageConfig(IMAGE);
    assert.match(config.User ?? "", /^[1-9]\d*:[1-9]\d*$/, "a non-root user, numeric");
    assert.ok(config.Volumes?.["/var/lib/bairelay"], "state in a volume");
    const mounted = await mountImage(IMAGE);
    const ip = randomLoopback();
    const ports = await freeServePorts(ip);
    const api = `${ip}:${ports.api}`;
    const command = [
      ...config.Entrypoint ?? [],
      ...config.Cmd ?? [],
      ...serveAddressArgs(ip, ports, api),
      ...["--push-port", "443"],
    ];
    const serve = ServeProcess.spawn(chrootCommand(mounted.root, config, command));
    let camera: CameraSim | undefined;
    try {
      // The flags it runs with are the serve task's as deno.json has them now.
      const launcher = launcherCommand(join(mounted.root, "opt/bairelay")).command;
      const serveFlags = taskFlags(Deno.readTextFileSync(join(ROOT, "deno.json")), "serve");
      assert.deepEqual(launcher.slice(2, 2 + serveFlags.length), serveFlags);
      await serve.ready();
      assert.match(serve.stderr, new RegExp(`push tcp ${ip.replaceAll(".", "\\.")}:443`));
      assert.match(serve.stderr, /state in \/var\/lib\/bairelay/);

      camera = await CameraSim.start({
        uid: "95270000CNTNRAAA0123",
        ip: randomLoopback(),
        middleman: { ip, port: ports.middleman },
      });
      const boot = await camera.boot();
      assert.equal(boot.register.port, ports.register);

      const health = await fetch(`http://${api}/healthz`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { status: "ok" });

      const push = await Deno.connect({ hostname: ip, port: 443 });
      push.close();

      const test = config.Healthcheck?.Test ?? [];
      assert.equal(test[0], "CMD", `HEALTHCHECK CMD [...]: ${JSON.stringify(test)}`);
      const healthConfig = {
        ...config,
        Env: [...config.Env ?? [], `BAIRELAY_HEALTHZ=http://${api}`],
      };
      await run(chrootCommand(mounted.root, healthConfig, test.slice(1)));
      const unhealthy = {
        ...config,
        Env: [...config.Env ?? [], `BAIRELAY_HEALTHZ=http://${ip}:1`],
      };
      await assert.rejects(run(chrootCommand(mounted.root, unhealthy, test.slice(1))));

      const stopped = await serve.stop("SIGTERM");
      assert.equal(stopped.code, 0, serve.stderr);
      assert.match(serve.stderr, /SIGTERM received, stopping[^]*stopped/);
    } finally {
      await camera?.close();
      await serve.stop("SIGKILL");
      await mounted.remove();
    }
  },
});

Deno.test({
  name: "container: the add-on folder of the release builds as the Supervisor builds it (its " +
    "Dockerfile's own base, a Debian stand-in here), turns /data/options.json into " +
    "/data/config.toml and serves: a camera boots, /healthz answers, SIGTERM exits 0" +
    (CONTAINER_SKIP_REASON ? ` [skipped: ${CONTAINER_SKIP_REASON}]` : ""),
  ignore: CONTAINER_SKIP_REASON !== undefined,
  sanitizeResources: false,
  fn: async () => {
    const release = await sharedRelease();
    await ensureDebianImage(DEBIAN_IMAGE);
    // The Supervisor: `docker buildx build .` in the add-on folder, BUILD_ARCH and BUILD_VERSION
    // as build arguments, no BUILD_FROM without a build.yaml (here: the stand-in's name for it).
    await run([
      ...PODMAN,
      ...["build", "--isolation", "chroot", "--pull=never", "--format", "docker"],
      ...["--build-arg", "BUILD_ARCH=amd64", "--build-arg", `BUILD_VERSION=${release.version}`],
      ...["--build-arg", `BUILD_FROM=${DEBIAN_IMAGE}`, "-t", ADDON_IMAGE],
      join(release.dir, "homeassistant/bairelay"),
    ]);
    const config = await imageConfig(ADDON_IMAGE);
    const mounted = await mountImage(ADDON_IMAGE);
    const ip = randomLoopback();
    const ports = await freeServePorts(ip);
    const api = `${ip}:${ports.api}`;
    // The Supervisor's /data volume, with options as its UI writes them; extra_toml moves every
    // listener to a loopback address of the test's.
    const data = join(mounted.root, "data");
    await Deno.mkdir(data);
    await Deno.writeTextFile(
      join(data, "options.json"),
      JSON.stringify({
        cameras: [{ name: "garden", uid: "95270000ADDNAAAA" }],
        push_listener: true,
        max_wakes_per_hour: 30,
        log_level: "info",
        mqtt: true,
        dns: false,
        extra_toml: `bind = "${ip}"\n[wake_server]\nmiddleman_port = ${ports.middleman}\n` +
          `register_port = ${ports.register}\n[api]\nlisten = "${api}"\n`,
      }),
    );
    const command = [...config.Entrypoint ?? [], ...config.Cmd ?? []];
    const serve = ServeProcess.spawn(chrootCommand(mounted.root, config, command));
    let camera: CameraSim | undefined;
    try {
      await serve.ready();
      assert.match(serve.stderr, /config \/data\/config\.toml; state in \/data\/state/);
      assert.match(serve.stderr, new RegExp(`push tcp ${ip.replaceAll(".", "\\.")}:443`));
      camera = await CameraSim.start({
        uid: "95270000ADDNAAAA0123",
        ip: randomLoopback(),
        middleman: { ip, port: ports.middleman },
      });
      await camera.boot();
      const health = await fetch(`http://${api}/healthz`);
      assert.equal(health.status, 200);
      await health.body?.cancel();
      const token = (await Deno.readTextFile(join(data, "api_token"))).trim();
      const cameras = await fetch(`http://${api}/api/cameras`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(cameras.status, 200);
      const names = (await cameras.json()).cameras.map((c: { name: string }) => c.name);
      assert.deepEqual(names, ["garden"]);
      const stopped = await serve.stop("SIGTERM");
      assert.equal(stopped.code, 0, serve.stderr);
    } finally {
      await camera?.close();
      await serve.stop("SIGKILL");
      await mounted.remove();
    }
  },
});
