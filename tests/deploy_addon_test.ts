/**
 * The Home Assistant add-on: realistic options documents (and bad ones) go through the real
 * translation (lib/addon/options.ts) and the real config loader (`serve --check-config` as a
 * subprocess), the start script does the whole start on a /data directory of the test's (with a
 * stand-in for the Supervisor's MQTT service and add-on info on loopback), the options schema's
 * camera rules accept exactly what the config loader accepts, and the add-on folder carries what
 * the Supervisor requires (config.yaml, the Dockerfile with its own base, the store page).
 *
 * Not tested here: the Supervisor itself (installing the add-on, its options validation against
 * the schema, the watchdog); the build and run of the add-on's Dockerfile are in
 * deploy_container_test.ts.
 */

import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { parse as parseToml } from "smol-toml";
import fc from "fast-check";
import { addonConfig, AddonOptionsError, type MqttService } from "../lib/addon/options.ts";
import { ConfigError, loadConfig, processEnv } from "../lib/config.ts";
import { MQTT_PASSWORD_ENV, MQTT_USERNAME_ENV } from "../lib/mqtt/config.ts";
import { API_PORT } from "../lib/api/config.ts";
import { runCli } from "./support/run_cli.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const ADDON_DIR = join(ROOT, "deploy/homeassistant/bairelay");
const ADDON = parseYaml(Deno.readTextFileSync(join(ADDON_DIR, "config.yaml")));
const MOSQUITTO: MqttService = {
  host: "core-mosquitto",
  port: 1883,
  ssl: false,
  username: "addons",
  password: "s3cret",
};

/** `serve --check-config` on the translated options: exit code and output. */
async function checkConfig(options: unknown, mqtt: MqttService | null = MOSQUITTO) {
  const config = addonConfig(options, mqtt, "token-from-data");
  const dir = await Deno.makeTempDir({ prefix: "bairelay-addon-" });
  try {
    const path = join(dir, "config.toml");
    await Deno.writeTextFile(path, config.toml);
    const run = await runCli(["serve", "--check-config", "--config", path], { env: config.env });
    return { ...run, config };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("add-on: the default options are a valid configuration (MQTT from the service)", async () => {
  const run = await checkConfig(ADDON.options);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /push listener: tcp 0\.0\.0\.0:443 \(required/);
  assert.match(run.stdout, /api: http:\/\/0\.0\.0\.0:9899 \(token set\)/);
  assert.match(run.stdout, /mqtt: mqtt:\/\/core-mosquitto:1883 as "addons"/);
  assert.match(run.stdout, /state directory: \/data\/state/);
  // The login travels in the environment, not in the file.
  assert.doesNotMatch(run.config.toml, /s3cret/);
  assert.deepEqual(run.config.env, {
    [MQTT_USERNAME_ENV]: "addons",
    [MQTT_PASSWORD_ENV]: "s3cret",
  });
});

Deno.test("add-on: cameras, no push listener, a budget, debug, DNS and raw TOML", async () => {
  const run = await checkConfig({
    cameras: [
      { name: "garden", uid: "95270000ABCDEFGH" },
      { name: "door", uid: "95270000IJKLMNOP0123" },
    ],
    push_listener: false,
    max_wakes_per_hour: 12,
    log_level: "debug",
    mqtt: true,
    dns: true,
    mqtt_topic_prefix: "reolink",
    extra_toml: "[wake_server]\nheartbeat_ms = 30000\n[dns]\nport = 5353\n",
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /cameras: garden \(95270000ABCDEFGH\), door \(95270000IJKLMNOP0123\)/);
  assert.match(run.stdout, /push listener: off/);
  assert.match(run.stdout, /max_wakes_per_hour 12/);
  assert.match(run.stdout, /log: debug/);
  assert.match(run.stdout, /dns responder: udp\+tcp 0\.0\.0\.0:5353/);
  assert.match(run.stdout, /topics reolink\//);
  // The raw TOML merged into the generated tables, not beside them.
  const toml = parseToml(run.config.toml) as { wake_server: Record<string, unknown> };
  assert.deepEqual({ ...toml.wake_server }, { max_wakes_per_hour: 12, heartbeat_ms: 30000 });
});

Deno.test("add-on: without the Mosquitto add-on, or with mqtt off, the bridge is off", async () => {
  for (
    const [options, mqtt] of [[ADDON.options, null], [{ ...ADDON.options, mqtt: false }, MOSQUITTO]]
  ) {
    const run = await checkConfig(options, mqtt as MqttService | null);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /mqtt: off/);
    assert.deepEqual(run.config.env, {});
  }
});

Deno.test("add-on: bad values reach the config loader, which names the key: exit 2", async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ log_level: "loud" }, /log\.level: must be one of/],
    [{ max_wakes_per_hour: -1 }, /wake_server\.max_wakes_per_hour: must be an integer from 0/],
    [{ max_wakes_per_hour: "many" }, /wake_server\.max_wakes_per_hour: must be an integer/],
    [{ cameras: [{ name: "garden" }] }, /cameras\[0\]\.uid/],
    [{ cameras: [{ name: "a b", uid: "95270000ABCDEFGH" }] }, /cameras\[0\]\.name/],
    [{ push_listener: "yes" }, /push_listener\.enable: must be true or false/],
    [{ extra_toml: "[wake_server]\nheartbeat = 1\n" }, /wake_server\.heartbeat: unknown key/],
    [{ extra_toml: '[api]\nlisten = "0.0.0.0:9899"\ntoken = ""\n' }, /api\.token/],
  ];
  for (const [bad, message] of cases) {
    const run = await checkConfig({ ...ADDON.options, ...bad });
    assert.equal(run.code, 2, `${JSON.stringify(bad)}: ${run.stdout}${run.stderr}`);
    assert.match(run.stderr, message, JSON.stringify(bad));
  }
});

Deno.test("add-on: options the translation itself cannot use are AddonOptionsError", () => {
  assert.throws(() => addonConfig([], null, "t"), AddonOptionsError);
  assert.throws(() => addonConfig("{}", null, "t"), AddonOptionsError);
  assert.throws(
    () => addonConfig({ extra_toml: "[wake_server\n" }, null, "t"),
    (error: Error) =>
      error instanceof AddonOptionsError && /extra_toml .*line 1/.test(error.message),
  );
  assert.throws(() => addonConfig({ cameras: [null] }, null, "t"), AddonOptionsError);
});

Deno.test("add-on: the start script writes /data/config.toml and a kept API token, takes MQTT from the Supervisor, runs serve", async () => {
  const data = await Deno.makeTempDir({ prefix: "bairelay-addon-data-" });
  const script = join(ROOT, "scripts/addon_run.ts");
  try {
    const run = async (env: Record<string, string> = {}) => {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--allow-all", "--quiet", script, "--check-config"],
        env: { BAIRELAY_ADDON_DATA: data, NO_COLOR: "1", ...env },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = (b: Uint8Array) => new TextDecoder().decode(b);
      return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
    };
    const missing = await run();
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /bairelay add-on: cannot read .*options\.json/);

    await Deno.writeTextFile(join(data, "options.json"), JSON.stringify(ADDON.options));
    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, new RegExp(`config: ${join(data, "config.toml")}`));
    const token = (await Deno.readTextFile(join(data, "api_token"))).trim();
    assert.match(token, /^[0-9a-f]{48}$/);
    assert.equal((await Deno.stat(join(data, "api_token"))).mode! & 0o777, 0o600);
    const second = await run();
    assert.equal(second.code, 0, second.stderr);
    assert.equal((await Deno.readTextFile(join(data, "api_token"))).trim(), token, "kept");

    // The Supervisor (a stand-in on loopback): the MQTT service's broker and login are used,
    // and the ports of the add-on's Network section (its info) move the listeners.
    const seen: string[] = [];
    let answer: { status: number; body: unknown } = {
      status: 200,
      body: { result: "ok", data: { ...MOSQUITTO, host: "127.0.0.1" } },
    };
    let network: Record<string, number | null> = {
      "9999/udp": 9999,
      "58200/udp": 58200,
      "443/tcp": 443,
      "9899/tcp": 9899,
    };
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const path = new URL(request.url).pathname;
      seen.push(`${path} ${request.headers.get("authorization")}`);
      if (path === "/addons/self/info") return Response.json({ result: "ok", data: { network } });
      return Response.json(answer.body, { status: answer.status });
    });
    try {
      const env = {
        SUPERVISOR_TOKEN: "supervisor-token",
        BAIRELAY_SUPERVISOR_URL: `http://127.0.0.1:${server.addr.port}`,
      };
      const withMqtt = await run(env);
      assert.equal(withMqtt.code, 0, withMqtt.stderr);
      assert.match(withMqtt.stdout, /mqtt: mqtt:\/\/127\.0\.0\.1:1883 as "addons"/);
      assert.match(withMqtt.stdout, /api: http:\/\/0\.0\.0\.0:9899 /);
      assert.deepEqual(seen.sort(), [
        "/addons/self/info Bearer supervisor-token",
        "/services/mqtt Bearer supervisor-token",
      ]);
      // The user moved the API and the register port in the Network section: serve follows, so
      // the watchdog ([PORT:9899] = the port set for 9899/tcp) finds /healthz.
      network = { ...network, "9899/tcp": 9911, "58200/udp": 58201 };
      const moved = await run(env);
      assert.equal(moved.code, 0, moved.stderr);
      assert.match(moved.stdout, /api: http:\/\/0\.0\.0\.0:9911 /);
      assert.match(moved.stdout, /middleman udp 0\.0\.0\.0:9999, register udp 0\.0\.0\.0:58201/);
      // A port the user cleared (null) is the default, as it is for the watchdog.
      network = { ...network, "9899/tcp": null };
      const cleared = await run(env);
      assert.match(cleared.stdout, /api: http:\/\/0\.0\.0\.0:9899 /);
      assert.doesNotMatch(await Deno.readTextFile(join(data, "config.toml")), /s3cret/);
      answer = { status: 400, body: { result: "error", message: "No service" } };
      const without = await run(env);
      assert.equal(without.code, 0, without.stderr);
      assert.match(without.stdout, /mqtt: off/);
      assert.match(without.stderr, /no MQTT service \(install the Mosquitto broker add-on/);
    } finally {
      await server.shutdown();
    }

    await Deno.writeTextFile(join(data, "options.json"), JSON.stringify({ log_level: "loud" }));
    const bad = await run();
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /config\.toml: log\.level: must be one of/);
  } finally {
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("add-on: config.yaml has the keys the Supervisor requires and the ones bairelay needs", () => {
  // Required by Home Assistant's add-on configuration reference.
  for (const key of ["name", "version", "slug", "description", "arch"]) {
    assert.ok(ADDON[key], `config.yaml: ${key}`);
  }
  assert.match(ADDON.slug, /^[a-z0-9_]+$/);
  assert.equal(ADDON.version, JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).version);
  assert.deepEqual([...ADDON.arch].sort(), ["aarch64", "amd64"], "64-bit glibc builds only");
  assert.equal(ADDON.host_network, true);
  assert.ok(ADDON.services.includes("mqtt:want"));
  const apiPort = API_PORT;
  assert.equal(ADDON.watchdog, `http://[HOST]:[PORT:${apiPort}]/healthz`);
  for (const port of ["9999/udp", "58200/udp", "443/tcp", `${apiPort}/tcp`]) {
    assert.ok(port in ADDON.ports, `ports: ${port}`);
  }
  // Every option has a schema entry; the schema covers the common keys and the escape hatch.
  for (const key of Object.keys(ADDON.options)) assert.ok(key in ADDON.schema, `schema: ${key}`);
  for (const key of ["cameras", "push_listener", "max_wakes_per_hour", "log_level", "extra_toml"]) {
    assert.ok(key in ADDON.schema, `schema: ${key}`);
  }
  const repository = parseYaml(Deno.readTextFileSync(join(ROOT, "repository.yaml")));
  assert.ok(repository.name, "repository.yaml: name");
});

Deno.test("add-on: the folder installs as shipped: no build.yaml, no image to pull, the Dockerfile names Home Assistant's Debian base, the store page has README, icon and logo", () => {
  assert.equal(ADDON.image, undefined, "no image: the Supervisor builds the folder");
  assert.throws(() => Deno.statSync(join(ADDON_DIR, "build.yaml")), Deno.errors.NotFound);
  const dockerfile = Deno.readTextFileSync(join(ADDON_DIR, "Dockerfile"));
  const base = dockerfile.match(/^ARG BUILD_FROM=(\S+)$/m)?.[1];
  assert.match(
    base ?? "",
    /^ghcr\.io\/home-assistant\/base-debian:[a-z]+$/,
    "a Debian base (glibc)",
  );
  assert.match(dockerfile, /^FROM \$\{BUILD_FROM\}$/m);
  for (const file of ["DOCS.md", "README.md", "Dockerfile", "config.yaml"]) {
    assert.ok(Deno.statSync(join(ADDON_DIR, file)).isFile, file);
  }
  for (const [file, width, height] of [["icon.png", 128, 128], ["logo.png", 250, 100]] as const) {
    const png = Deno.readFileSync(join(ADDON_DIR, file));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const header = new DataView(png.buffer, png.byteOffset + 16, 8);
    assert.deepEqual([header.getUint32(0), header.getUint32(4)], [width, height], file);
  }
});

/** A camera field's schema rule as the Supervisor applies it (`re.match`: from the start). */
function schemaRule(field: "name" | "uid"): RegExp {
  const rule = ADDON.schema.cameras[0][field].match(/^match\((.*)\)$/)?.[1];
  assert.ok(rule, `schema: cameras.${field} is match(...)`);
  return new RegExp(rule);
}

/** Whether serve's config loader takes `camera` as the one [[cameras]] entry (its `field`). */
function loaderAccepts(camera: { name: string; uid: string }, field: "name" | "uid"): boolean {
  const toml = addonConfig({ cameras: [camera] }, null, "token").toml;
  try {
    loadConfig({ path: "/data/config.toml", text: toml, env: processEnv() });
    return true;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return !error.message.includes(`cameras[0].${field}`);
  }
}

Deno.test("add-on: the schema's camera name and UID rules accept exactly what serve accepts", () => {
  const rules = { name: schemaRule("name"), uid: schemaRule("uid") };
  const valid = { name: "garden", uid: "95270000ABCDEFGH" };
  const check = (field: "name" | "uid", value: string) => {
    const camera = { ...valid, [field]: value };
    assert.equal(
      rules[field].test(value),
      loaderAccepts(camera, field),
      `${field} ${JSON.stringify(value)}: the schema and serve disagree`,
    );
  };
  const edges = [
    "",
    "a",
    "A",
    "0",
    "-x",
    "_x",
    ".x",
    "x-",
    "x_",
    "x.",
    "a b",
    "a/b",
    "garden\n",
    "\ngarden",
    "é",
    "a".repeat(63),
    "a".repeat(64),
    "a".repeat(65),
    "95270000ABCDEFGH0123",
    "x".repeat(200),
  ];
  for (const value of edges) {
    check("name", value);
    check("uid", value);
  }
  const unit = fc.constantFrom(..."aZ09-_. \n\t/é:");
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 70 }), fc.boolean(), (value, leading) => {
      const text = leading ? `a${value}` : value;
      check("name", text);
      check("uid", text);
    }),
    { numRuns: 300 },
  );
});
