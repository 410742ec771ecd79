/**
 * scripts/release, built here for real (it needs the npm registry): the portable tarballs of both
 * architectures, SHA256SUMS and the Home Assistant add-on folder are there; `deno compile` builds
 * where its runtime base downloads and says why not in one line where it cannot (these machines
 * cannot reach dl.deno.land); a tarball's entries have one time (the commit's), owner 0, the
 * launcher, the bundled application (no TypeScript, source maps without the sources' text), the
 * licences of the runtime and of every npm package bundled (as the source maps name them), and
 * no test-only package; a second build of the same tree gives the same bytes; and the parts of
 * the bundle serve loads only when configured (the MQTT bridge, the DNS responder, with Node's
 * modules loaded on first use) work from the tarball. Running the tarballs is
 * deploy_portable_test.ts.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCommand } from "./support/command.ts";
import { startMosquitto, Subscriber } from "./support/mosquitto.ts";
import { portableName, runRelease, sharedRelease, unpack } from "./support/release.ts";
import { freeUdpPort, ServeProcess, serveSetup } from "./support/serve_process.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const ARCHES = ["x86_64", "aarch64"];
/** deno.json imports only the tests use: they must not travel. */
const TEST_ONLY = ["fast-check", "puppeteer-core"];

/** The stdout of `command` (times in UTC); throws with its stderr when it fails. */
async function output(command: string[], cwd?: string): Promise<string> {
  const result = await runCommand(command, { cwd, env: { TZ: "UTC" } });
  if (result.code !== 0) throw new Error(`${command.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

Deno.test({
  name: "release: portable tarballs, SHA256SUMS and the add-on folder; deno compile where its " +
    "runtime base downloads, one line saying why not where it cannot",
  sanitizeResources: false,
  fn: async () => {
    const release = await sharedRelease();
    const sums = await Deno.readTextFile(join(release.dir, "SHA256SUMS"));
    await output(["sha256sum", "--check", "--strict", "SHA256SUMS"], release.dir);
    for (const arch of ARCHES) {
      assert.match(sums, new RegExp(` ${portableName(release.version, arch)}\\.tar\\.gz\n`));
      const target = `${arch}-unknown-linux-gnu`;
      const compiled = `bairelay-${release.version}-${target}.tar.gz`;
      if (!sums.includes(compiled)) {
        assert.match(
          release.log,
          new RegExp(
            `skipped ${compiled.replaceAll(".", "\\.")}: deno compile could not download Deno's ` +
              `runtime\n {2}base \\(https://dl\\.deno\\.land/release/v[\\d.]+/denort-${target}` +
              `\\.zip\\): .+`,
          ),
        );
      }
    }
    const addon = join(release.dir, "homeassistant/bairelay");
    await output(["sha256sum", "--check", "--strict", "SHA256SUMS"], addon);
    for (const file of ["config.yaml", "Dockerfile", "DOCS.md", "README.md", "icon.png"]) {
      assert.ok((await Deno.stat(join(addon, file))).isFile, file);
    }
    assert.ok((await Deno.stat(join(release.dir, "homeassistant/repository.yaml"))).isFile);
  },
});

Deno.test({
  name: "release: a tarball's entries have the commit's time and owner 0, and carry the " +
    "launcher, the bundled application, the licences of the runtime and of every npm package " +
    "bundled, no test-only package",
  sanitizeResources: false,
  fn: async () => {
    const release = await sharedRelease();
    const name = portableName(release.version, "x86_64");
    const listing = await output([
      ...["tar", "--full-time", "--numeric-owner", "-tvzf"],
      join(release.dir, `${name}.tar.gz`),
    ]);
    const entries = listing.trim().split("\n").map((line) => {
      const [mode, owner, , date, time, path] = line.split(/\s+/);
      return { mode, owner, when: `${date} ${time}`, path };
    });
    const epoch = Number((await output(["git", "log", "-1", "--format=%ct"], ROOT)).trim());
    const commitTime = new Date(epoch * 1000).toISOString().slice(0, 19).replace("T", " ");
    for (const entry of entries) {
      assert.equal(entry.owner, "0/0", entry.path);
      assert.equal(entry.when, commitTime, entry.path);
      assert.ok(entry.path.startsWith(`${name}/`), entry.path);
    }
    const paths = new Set(entries.map((entry) => entry.path.slice(name.length + 1)));
    for (
      const path of [
        "bin/bairelay",
        "runtime/deno",
        "app/main.js",
        "app/main.js.map",
        "app/scripts/addon_run.js",
        "app/deploy/container/healthcheck.js",
        "README.md",
        "docs/configuration.md",
        "docs/screenshots/status-page-light.png",
        "sample_config.toml",
        "bairelay.service",
        "LICENSES/deno/LICENSE",
      ]
    ) {
      assert.ok(paths.has(path), path);
    }
    assert.ok(![...paths].some((path) => path.endsWith(".ts")), "the application is bundled");
    assert.match(entries.find((e) => e.path.endsWith("/bin/bairelay"))!.mode, /^-rwxr-xr-x$/);
    // The npm packages bundled into app/, as its source maps name them.
    const maps = await Deno.makeTempDir({ prefix: "bairelay-maps-" });
    try {
      await output([
        ...["tar", "-xzf", join(release.dir, `${name}.tar.gz`), "-C", maps],
        ...["--wildcards", "*.js.map"],
      ]);
      const packages = new Set<string>();
      for await (const entry of Deno.readDir(join(maps, name, "app"))) {
        if (!entry.name.endsWith(".js.map")) continue;
        const map = JSON.parse(await Deno.readTextFile(join(maps, name, "app", entry.name)));
        assert.equal(map.sourcesContent, undefined, `${entry.name} carries no sources`);
        for (const source of map.sources as string[]) {
          const match = source.match(
            /\/npm\/registry\.npmjs\.org\/((?:@[^/]+\/)?[^/@]+)\/([^/]+)\//,
          );
          if (match) packages.add(`${match[1]}@${match[2]}`);
        }
      }
      assert.ok([...packages].some((id) => id.startsWith("mqtt@")), "npm packages are bundled");
      for (const id of packages) {
        const dir = `LICENSES/npm/${id.replace("/", "__")}/`;
        assert.ok(
          [...paths].some((path) => path.startsWith(dir) && path !== dir),
          `licence of ${id}`,
        );
      }
      for (const name of TEST_ONLY) {
        assert.ok(![...packages].some((id) => id.startsWith(`${name}@`)), `${name} is test-only`);
        assert.ok(![...paths].some((path) => path.startsWith(`LICENSES/npm/${name}@`)), name);
      }
    } finally {
      await Deno.remove(maps, { recursive: true });
    }
  },
});

Deno.test({
  name: "release: two builds of the same tree give the same bytes",
  sanitizeResources: false,
  fn: async () => {
    const first = await sharedRelease();
    const second = await runRelease(["x86_64"]);
    try {
      const file = `${portableName(first.version, "x86_64")}.tar.gz`;
      const [a, b] = [join(first.dir, file), join(second.dir, file)];
      const [bytesA, bytesB] = [await Deno.readFile(a), await Deno.readFile(b)];
      if (bytesA.length === bytesB.length && bytesA.every((byte, i) => byte === bytesB[i])) return;
      // Say which entries differ (content sizes, modes, times), not only that they do.
      const list = (path: string) => output(["tar", "--full-time", "-tvzf", path]);
      const [listA, listB] = [(await list(a)).split("\n"), (await list(b)).split("\n")];
      const differing = listA.filter((line) => !listB.includes(line)).slice(0, 20);
      assert.fail(
        `${file} differs between two builds; entries of the first not in the second:\n` +
          (differing.join("\n") || "(same listing: the contents of a file differ)"),
      );
    } finally {
      await Deno.remove(dirname(second.dir), { recursive: true });
    }
  },
});

Deno.test({
  name: "release: the bundle's parts loaded only when configured work: the MQTT bridge to a real " +
    "Mosquitto, the DNS responder answering",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const release = await sharedRelease();
    const arch = Deno.build.arch;
    const name = portableName(release.version, arch);
    const tree = await unpack(join(release.dir, `${name}.tar.gz`), name);
    const broker = await startMosquitto();
    const subscriber = await Subscriber.connect(broker, "#");
    const setup = await serveSetup({
      toml: `[mqtt]\nbroker_addr = "${broker.host}"\nport = ${broker.port}\n` +
        "[dns]\nforward = false\n",
      prefix: "bairelay-bundle-parts-",
    });
    const dnsPort = await freeUdpPort(setup.ip);
    const serve = ServeProcess.spawn([
      join(tree, "bin/bairelay"),
      ...["serve", ...setup.args, "--no-push", "--dns-port", String(dnsPort)],
    ], { NO_COLOR: "1" });
    try {
      await serve.ready();
      await subscriber.waitForPayload("bairelay/status", "online", { timeoutMs: 15_000 });
      await subscriber.waitFor(
        (message) => message.topic.startsWith("homeassistant/") && message.payload.includes("{"),
        "a discovery message",
        { timeoutMs: 15_000 },
      );
      const answered = await Deno.resolveDns("p2p.reolink.com", "A", {
        nameServer: { ipAddr: setup.ip, port: dnsPort },
      });
      assert.deepEqual(answered, [setup.ip]);
      const stopped = await serve.stop("SIGTERM");
      assert.equal(stopped.code, 0, serve.stderr);
    } finally {
      await serve.stop("SIGKILL");
      await subscriber.close();
      await broker.stop();
      await setup.remove();
      await Deno.remove(dirname(tree), { recursive: true });
    }
  },
});
