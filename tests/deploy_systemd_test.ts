/**
 * deploy/systemd/bairelay.service, installed the way docs/deployment.md says: the install block
 * there (its `systemctl` lines aside) runs as root in a chroot of an overlay of a clean Debian
 * root (debootstrap, cached; the overlay keeps the cache clean) with the x86_64 release tarball
 * scripts/release built. Then `systemd-analyze verify` of the installed unit passes without a
 * warning with the installed tree at /opt/bairelay, and fails without it; and the unit's ExecStart
 * runs in that root as far as it can be reproduced without systemd as PID 1: `setpriv` with a uid
 * of systemd's DynamicUser range, no groups, no_new_privs, the unit's capabilities as the only
 * ambient, inheritable and bounding ones, the unit's environment, /var/lib/bairelay made as
 * StateDirectory= makes it. It binds 443 on a loopback address, answers a camera's boot and stops
 * on SIGTERM within TimeoutStopSec.
 *
 * Not reproduced: the sandboxing directives (ProtectSystem, the system call and address family
 * filters...), which need systemd itself, and `systemctl enable --now`.
 */

import { programPath } from "./support/programs.ts";
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultStateDir } from "../lib/wake/config.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { runCommand } from "./support/command.ts";
import { debianRootSkipReason, ensureDebianRoot, succeeds } from "./support/debian_root.ts";
import { portableName, sharedRelease } from "./support/release.ts";
import { freeServePorts, randomLoopback, ServeProcess } from "./support/serve_process.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const UNIT_TEXT = Deno.readTextFileSync(join(ROOT, "deploy/systemd/bairelay.service"));
const DOCS = Deno.readTextFileSync(join(ROOT, "docs/deployment.md"));
/** Where the installed unit is, inside the root. */
const INSTALLED_UNIT = "etc/systemd/system/bairelay.service";

/** The unit's [Service] settings: key -> every value given (comments skipped). */
function serviceSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = line.match(/^\[(.+)\]$/);
    if (header) section = header[1];
    else if (section === "Service") {
      const [key, ...rest] = line.split("=");
      settings.set(key, [...settings.get(key) ?? [], rest.join("=")]);
    }
  }
  return settings;
}

const UNIT = serviceSettings(UNIT_TEXT);
const one = (key: string) => {
  const values = UNIT.get(key) ?? [];
  assert.equal(values.length, 1, `${key}= once in the unit`);
  return values[0];
};

const VERIFY_SKIP = succeeds([programPath("systemd-analyze"), "--version"])
  ? undefined
  : "systemd-analyze is not installed (Debian package systemd)";
const INSTALL_SKIP = Deno.uid() !== 0
  ? "needs root (overlay mount, chroot, setpriv to another uid)"
  : debianRootSkipReason("amd64");

/**
 * docs/deployment.md's install block (the ```sh block after the "tested" marker) as a script run
 * as root in the root: no sudo, the tarball's name as built, no systemctl (no systemd here).
 */
function documentedInstall(tarballName: string): string {
  const block = DOCS.match(/<!-- tested: the install below [^]*?```sh\n([^]*?)```/)?.[1];
  assert.ok(block, "docs/deployment.md: the tested install block");
  const lines = block.trim().split("\n").map((line) => line.replace(/^sudo /, ""))
    .filter((line) => !line.startsWith("systemctl "))
    .map((line) => line.replace(/bairelay-[\d.]+-linux-x86_64\.tar\.gz/, tarballName));
  assert.ok(lines.some((line) => line.includes(tarballName)), "the install unpacks the tarball");
  return ["set -eu", "cd /tmp", ...lines].join("\n") + "\n";
}

/** The overlay (cached root below, the test's changes above) and where it is mounted. */
interface Overlay {
  lower: string;
  upper: string;
  work: string;
  merged: string;
}

/**
 * The command line that runs `script` (sh) in a private mount namespace with the overlay
 * mounted, /proc, /dev and a tmpfs /tmp in it: "$merged" is the overlay's path, "$1"... `args`.
 */
function inOverlay(overlay: Overlay, script: string, ...args: string[]): string[] {
  const mount = [
    "lower=$0 upper=$1 work=$2 merged=$3; shift 3",
    'mount -t overlay overlay -o "lowerdir=$lower,upperdir=$upper,workdir=$work" "$merged"',
    'mount -t proc proc "$merged/proc" && mount --rbind /dev "$merged/dev"',
    'mount -t tmpfs -o mode=1777 tmpfs "$merged/tmp"',
    script,
  ].join("\n");
  return [
    ...["unshare", "--mount", "--propagation", "private", "sh", "-c", mount],
    ...[overlay.lower, overlay.upper, overlay.work, overlay.merged, ...args],
  ];
}

/** Runs a command: whether it exited 0, and its stderr and stdout. */
async function runTo(command: string[]): Promise<{ ok: boolean; text: string }> {
  const result = await runCommand(command);
  return { ok: result.code === 0, text: result.stderr + result.stdout };
}

let installing: Promise<Overlay> | undefined;

/** The documented install, done once per test process in an overlay of the clean root. */
function installedRoot(): Promise<Overlay> {
  installing ??= (async () => {
    const release = await sharedRelease();
    const name = `${portableName(release.version, "x86_64")}.tar.gz`;
    const dir = await Deno.makeTempDir({ prefix: "bairelay-systemd-root-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const overlay = {
      lower: await ensureDebianRoot("amd64"),
      upper: join(dir, "upper"),
      work: join(dir, "work"),
      merged: join(dir, "merged"),
    };
    for (const path of [overlay.upper, overlay.work, overlay.merged]) await Deno.mkdir(path);
    const script = join(dir, "install.sh");
    await Deno.writeTextFile(script, documentedInstall(name));
    const install = await runTo(inOverlay(
      overlay,
      'cp "$1" "$2" "$merged/tmp/" && exec chroot "$merged" sh /tmp/install.sh',
      join(release.dir, name),
      script,
    ));
    assert.ok(install.ok, `the documented install failed:\n${install.text}`);
    assert.match(install.text, /configuration is valid/, "its --check-config step ran");
    return overlay;
  })();
  return installing;
}

Deno.test("systemd unit: the settings docs/deployment.md promises", () => {
  assert.equal(one("DynamicUser"), "yes");
  assert.equal(one("StateDirectory"), "bairelay");
  assert.equal(one("AmbientCapabilities"), "CAP_NET_BIND_SERVICE");
  assert.equal(one("CapabilityBoundingSet"), "CAP_NET_BIND_SERVICE");
  for (const key of ["NoNewPrivileges", "ProtectHome", "PrivateTmp"]) assert.equal(one(key), "yes");
  assert.equal(one("ProtectSystem"), "strict");
  assert.equal(one("Restart"), "on-failure");
  assert.equal(one("KillSignal"), "SIGTERM");
  assert.equal(
    one("ExecStart"),
    "/opt/bairelay/bin/bairelay serve --config /etc/bairelay/config.toml",
  );
  const families = one("RestrictAddressFamilies").split(/\s+/);
  for (const family of ["AF_INET", "AF_INET6", "AF_NETLINK", "AF_UNIX"]) {
    assert.ok(families.includes(family), `RestrictAddressFamilies has ${family}`);
  }
  // The unit's environment makes the non-root default state directory the StateDirectory.
  const vars = Object.fromEntries((UNIT.get("Environment") ?? []).map((v) => v.split("=")));
  assert.equal(defaultStateDir({ uid: 61184, vars }), "/var/lib/bairelay");
});

Deno.test({
  name: "systemd unit: installed as documented, systemd-analyze verify passes with the tree at " +
    "/opt/bairelay and fails without it" +
    ((VERIFY_SKIP ?? INSTALL_SKIP) ? ` [skipped: ${VERIFY_SKIP ?? INSTALL_SKIP}]` : ""),
  ignore: (VERIFY_SKIP ?? INSTALL_SKIP) !== undefined,
  sanitizeResources: false,
  fn: async () => {
    const overlay = await installedRoot();
    const unit = join(overlay.merged, INSTALLED_UNIT);
    // This machine's /opt hidden by an empty tmpfs; then the installed tree put at /opt/bairelay.
    const hideOpt = "mount -t tmpfs tmpfs /opt";
    const missing = await runTo(inOverlay(
      overlay,
      `${hideOpt} && exec systemd-analyze verify "$1"`,
      unit,
    ));
    assert.equal(missing.ok, false, "verify must check the executable, or it proves nothing");
    assert.match(missing.text, /\/opt\/bairelay\/bin\/bairelay is not executable/);
    const present = await runTo(inOverlay(
      overlay,
      `${hideOpt} && mkdir /opt/bairelay && mount --bind "$merged/opt/bairelay" /opt/bairelay ` +
        '&& exec systemd-analyze verify "$1"',
      unit,
    ));
    assert.equal(present.ok, true, present.text);
    assert.equal(present.text.trim(), "", "no warning (an unknown key is only a warning)");
  },
});

Deno.test({
  name: "systemd unit: installed as documented, ExecStart as a DynamicUser-range uid with only " +
    "the ambient CAP_NET_BIND_SERVICE binds 443, answers a camera, stops on SIGTERM" +
    (INSTALL_SKIP ? ` [skipped: ${INSTALL_SKIP}]` : ""),
  ignore: INSTALL_SKIP !== undefined,
  sanitizeResources: false,
  fn: async () => {
    const overlay = await installedRoot();
    const uid = 61184 + Math.floor(Math.random() * 4000); // systemd's DynamicUser range
    const ip = randomLoopback();
    const ports = await freeServePorts(ip);
    // The operator's edit of /etc/bairelay/config.toml: loopback addresses of the test's.
    const config = await Deno.makeTempFile({ prefix: "bairelay-unit-config-" });
    await Deno.writeTextFile(
      config,
      [
        `bind = "${ip}"`,
        `[wake_server]\nmiddleman_port = ${ports.middleman}\nregister_port = ${ports.register}`,
        `[api]\nlisten = "${ip}:${ports.api}"`,
        `[push_listener]\nenable = true\nport = 443`,
      ].join("\n") + "\n",
    );
    const unit = serviceSettings(await Deno.readTextFile(join(overlay.upper, INSTALLED_UNIT)));
    const execStart = unit.get("ExecStart")![0].split(" ");
    assert.deepEqual(
      execStart,
      one("ExecStart").split(" "),
      "the installed unit is the shipped one",
    );
    const caps = one("AmbientCapabilities").split(/\s+/)
      .map((cap) => cap.replace(/^CAP_/, "").toLowerCase()).map((cap) => `+${cap}`).join(",");
    // %C is the system cache directory (/var/cache) for a system unit.
    const env = (UNIT.get("Environment") ?? []).filter((v) => v.includes("="))
      .map((v) => v.replaceAll("%C", "/var/cache"));
    const cacheDir = `/var/cache/${one("CacheDirectory")}`;
    assert.ok(env.includes(`DENO_DIR=${cacheDir}`), "Deno's cache is the CacheDirectory");
    // StateDirectory=bairelay with StateDirectoryMode=0700 and CacheDirectory=bairelay: made by
    // systemd, owned by the user.
    const script = [
      'cp "$1" "$merged/etc/bairelay/config.toml" && shift',
      'chmod 0644 "$merged/etc/bairelay/config.toml"',
      `mkdir -m ${one("StateDirectoryMode")} "$merged/var/lib/${one("StateDirectory")}"`,
      `chown ${uid}:${uid} "$merged/var/lib/${one("StateDirectory")}"`,
      `mkdir -p "$merged${cacheDir}" && chown ${uid}:${uid} "$merged${cacheDir}"`,
      'exec chroot "$merged" "$@"',
    ].join(" && ");
    const serve = ServeProcess.spawn(inOverlay(
      overlay,
      script,
      config,
      "setpriv",
      ...[`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--no-new-privs"],
      ...[`--inh-caps=-all,${caps}`, `--ambient-caps=-all,${caps}`, `--bounding-set=-all,${caps}`],
      "--",
      ...["env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...env],
      ...execStart,
    ));
    let camera: CameraSim | undefined;
    try {
      await serve.ready();
      assert.match(serve.stderr, new RegExp(`push tcp ${ip.replaceAll(".", "\\.")}:443`));
      assert.match(serve.stderr, /state in \/var\/lib\/bairelay/);
      camera = await CameraSim.start({
        uid: "95270000UNITAAAA0123",
        ip: randomLoopback(),
        middleman: { ip, port: ports.middleman },
      });
      await camera.boot();
      const push = await Deno.connect({ hostname: ip, port: 443 });
      push.close();
      const stopLimitMs = Number(one("TimeoutStopSec")) * 1000;
      const stopped = await serve.stop("SIGTERM", stopLimitMs);
      assert.equal(stopped.code, 0, serve.stderr);
      assert.ok(stopped.ms < stopLimitMs, `stopped within TimeoutStopSec (${stopLimitMs} ms)`);
      const cached = [...Deno.readDirSync(join(overlay.upper, cacheDir))].map((e) => e.name);
      assert.ok(cached.some((name) => name.startsWith("dep_analysis_cache")), cached.join(", "));
    } finally {
      await camera?.close();
      await serve.stop("SIGKILL");
      await Deno.remove(config);
    }
  },
});
