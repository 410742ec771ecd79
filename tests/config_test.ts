import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";
import {
  CONFIG_SCHEMA,
  type ConfigEnv,
  ConfigError,
  loadConfig,
  type LoadConfigInput,
  wakeServerOptions,
} from "../lib/config.ts";
import { DEFAULT_API_LIMITS } from "../lib/api/config.ts";
import { violation } from "../lib/config/spec.ts";
import { defaultStateDir } from "../lib/wake/config.ts";
import { parseListen } from "../lib/net/listen_address.ts";
import { DEFAULT_WAKE_SERVER_OPTIONS } from "../lib/wake/server.ts";

const ENV: ConfigEnv = { uid: 1000, vars: { HOME: "/home/ann" } };
const FILE = "/etc/bairelay/test.toml";

function load(text: string, extra: Omit<LoadConfigInput, "text"> = {}) {
  return loadConfig({ path: FILE, text, env: ENV, ...extra });
}

/** Loads `text` expecting failure; returns the ConfigError. */
function failing(text: string, extra: Omit<LoadConfigInput, "text"> = {}): ConfigError {
  try {
    load(text, extra);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error;
  }
  assert.fail(`config was accepted:\n${text}`);
}

/** Asserts exactly one problem, naming `key`, with a rule matching `rule` and the source. */
function assertProblem(error: ConfigError, key: string, rule: RegExp, source = FILE) {
  assert.equal(error.problems.length, 1, error.message);
  assert.equal(error.problems[0].key, key);
  assert.equal(error.problems[0].source, source);
  assert.match(error.problems[0].rule, rule);
  assert.ok(error.message.includes(source) && error.message.includes(key), error.message);
}

Deno.test("no file: the embedded defaults", () => {
  const config = loadConfig({ env: ENV });
  assert.equal(config.source, null);
  assert.equal(config.bind, "0.0.0.0");
  assert.equal(config.stateDir, "/home/ann/.local/state/bairelay");
  assert.deepEqual(config.log, { level: "info", format: "pretty" });
  assert.deepEqual(config.wakeServer, {
    enable: true,
    middlemanPort: 9999,
    registerPort: 58200,
    heartbeatMs: 20_000,
    staleAfterMs: 80_000,
    maxWakesPerHour: 60,
    burstCount: 10,
    burstIntervalMs: 100,
    anchorTtlMs: 300_000,
    maxCameras: 1024,
    maxAnchors: 1024,
    receiveBufferBytes: 4 * 1024 * 1024,
  });
  assert.deepEqual(config.cameras, []);
  assert.deepEqual(config.api, {
    listen: { host: "127.0.0.1", port: 9899 },
    token: null,
    limits: DEFAULT_API_LIMITS,
  });
  assert.deepEqual(DEFAULT_API_LIMITS, {
    headerTimeoutMs: 10_000,
    maxConnections: 128,
    maxConnectionsPerAddress: 32,
    maxEventStreams: 16,
  });
  assert.deepEqual(config.pushListener, {
    enable: true,
    explicit: false,
    bind: "0.0.0.0",
    port: 443,
    motionHoldSecs: 30,
    wakeOnMotion: true,
    sniTimeoutMs: 200,
    maxConnections: 256,
  });
  assert.deepEqual(config.mqtt, {
    brokerAddr: null,
    port: 1883,
    credentials: null,
    ca: null,
    clientAuth: null,
    topicPrefix: "bairelay",
    discoveryTopic: "homeassistant",
  });
});

Deno.test("the defaults agree with the wake server's own defaults", () => {
  const { stateDir: _, ...options } = wakeServerOptions(loadConfig({ env: ENV }));
  assert.deepEqual(options, { ...DEFAULT_WAKE_SERVER_OPTIONS, bind: "0.0.0.0", cameras: [] });
});

Deno.test("default state_dir: root, XDG_STATE_HOME, HOME, nothing", () => {
  assert.equal(defaultStateDir({ uid: 0, vars: { HOME: "/root" } }), "/var/lib/bairelay");
  assert.equal(
    defaultStateDir({ uid: 5, vars: { HOME: "/h", XDG_STATE_HOME: "/x/state" } }),
    "/x/state/bairelay",
  );
  assert.equal(defaultStateDir({ uid: 5, vars: { HOME: "/h" } }), "/h/.local/state/bairelay");
  assert.match(defaultStateDir({ uid: null, vars: {} }), /\/bairelay-state$/);
});

Deno.test("a full file is read into the typed config and the wake server options", () => {
  const config = load(`
bind = "192.168.1.5"
state_dir = "state"
[log]
level = "warn"
format = "json"
[wake_server]
middleman_port = 19999
register_port = 15820
heartbeat_ms = 5000
stale_after_ms = 15000
max_wakes_per_hour = 0
burst_count = 3
burst_interval_ms = 50
anchor_ttl_ms = 60000
max_cameras = 16
max_anchors = 32
receive_buffer_bytes = 0
[[cameras]]
name = "garden"
uid = "95270000ABCDEFGH"
[[cameras]]
name = "door"
uid = "95270000ZZZZZZZZ"
[api]
listen = "0.0.0.0:8080"
token = "s3cret"
header_timeout_ms = 2000
max_connections = 32
max_connections_per_address = 8
max_event_streams = 4
[push_listener]
port = 8443
motion_hold_secs = 10
wake_on_motion = false
[mqtt]
broker_addr = "mqtt.lan"
credentials = ["user", "pw"]
client_auth = ["c.pem", "k.pem"]
ca = "ca.pem"
topic_prefix = "home/cams"
[mqtt.discovery]
topic = "ha"
`);
  assert.equal(config.source, FILE);
  assert.equal(config.stateDir, "/etc/bairelay/state", "relative to the file's directory");
  assert.deepEqual(config.log, { level: "warning", format: "json" });
  assert.equal(config.pushListener.bind, "192.168.1.5", "push bind inherits the top-level bind");
  assert.deepEqual(config.api, {
    listen: { host: "0.0.0.0", port: 8080 },
    token: "s3cret",
    limits: {
      headerTimeoutMs: 2000,
      maxConnections: 32,
      maxConnectionsPerAddress: 8,
      maxEventStreams: 4,
    },
  });
  assert.deepEqual(config.mqtt.credentials, { username: "user", password: "pw" });
  assert.deepEqual(
    config.mqtt.clientAuth,
    { cert: "/etc/bairelay/c.pem", key: "/etc/bairelay/k.pem" },
    "TLS files are relative to the config file",
  );
  assert.equal(config.mqtt.ca, "/etc/bairelay/ca.pem");
  assert.equal(config.mqtt.discoveryTopic, "ha");
  assert.deepEqual(wakeServerOptions(config), {
    bind: "192.168.1.5",
    middlemanPort: 19999,
    registerPort: 15820,
    heartbeatMs: 5000,
    staleAfterMs: 15000,
    maxCameras: 16,
    maxAnchors: 32,
    anchorTtlMs: 60000,
    burstCount: 3,
    burstIntervalMs: 50,
    maxWakesPerHour: 0,
    cameras: [{ name: "garden", uid: "95270000ABCDEFGH" }, {
      name: "door",
      uid: "95270000ZZZZZZZZ",
    }],
    receiveBufferBytes: 0,
    stateDir: "/etc/bairelay/state",
  });
});

Deno.test("flags override the file, and their errors name the flag", () => {
  const text = `bind = "10.0.0.1"\n[wake_server]\nmiddleman_port = 1000\n[log]\nlevel = "debug"\n`;
  const config = load(text, {
    flags: {
      bind: "127.0.0.1",
      middlemanPort: "2000",
      registerPort: "2001",
      api: "off",
      stateDir: "/tmp/s",
      logLevel: "error",
      logFormat: "json",
    },
  });
  assert.equal(config.bind, "127.0.0.1");
  assert.equal(config.wakeServer.middlemanPort, 2000);
  assert.equal(config.wakeServer.registerPort, 2001);
  assert.equal(config.api.listen, null);
  assert.equal(config.stateDir, "/tmp/s");
  assert.deepEqual(config.log, { level: "error", format: "json" });
  assertProblem(
    failing(text, { flags: { middlemanPort: "abc" } }),
    "wake_server.middleman_port",
    /integer from 1 to 65535.*"abc"/,
    "--middleman-port",
  );
  assertProblem(
    failing("", { flags: { logFormat: "xml" } }),
    "log.format",
    /one of pretty, json/,
    "--log-format",
  );
});

Deno.test("unknown keys are errors naming the key and the closest valid one", () => {
  assertProblem(
    failing(`[wake_server]\nhearbeat_ms = 5000\n`),
    "wake_server.hearbeat_ms",
    /unknown key in \[wake_server\].*did you mean "heartbeat_ms"/,
  );
  assertProblem(failing(`bnd = "1.2.3.4"\n`), "bnd", /unknown key at the top level.*"bind"/);
  assertProblem(failing(`[wake_sever]\n`), "wake_sever", /did you mean "wake_server"/);
  assertProblem(
    failing(`[[cameras]]\nname = "a"\nuid = "X"\nuuid = "Y"\n`),
    "cameras[0].uuid",
    /did you mean "uid"/,
  );
  assertProblem(failing(`[mqtt.discovery]\ntopik = "x"\n`), "mqtt.discovery.topik", /"topic"/);
  assertProblem(
    failing(`zzzzzzzz = 1\n`),
    "zzzzzzzz",
    /unknown key .*valid: bind, state_dir, log, wake_server, cameras, api, push_listener, mqtt/,
  );
});

Deno.test("every validation rule names the file, the key and the rule", () => {
  const cases: [string, string, RegExp][] = [
    [`[wake_server]\nmiddleman_port = 0`, "wake_server.middleman_port", /from 1 to 65535/],
    [`[wake_server]\nregister_port = 70000`, "wake_server.register_port", /from 1 to 65535/],
    [`[wake_server]\nregister_port = 9999`, "wake_server.register_port", /differ from .*9999/],
    [`[wake_server]\nheartbeat_ms = 999`, "wake_server.heartbeat_ms", /from 1000/],
    [
      `[wake_server]\nheartbeat_ms = 30000\nstale_after_ms = 20000`,
      "wake_server.stale_after_ms",
      /at least wake_server.heartbeat_ms \(30000\)/,
    ],
    [`[wake_server]\nmax_wakes_per_hour = -1`, "wake_server.max_wakes_per_hour", /from 0/],
    [`[wake_server]\nburst_count = 0`, "wake_server.burst_count", /from 1 to 100/],
    [`[wake_server]\nburst_interval_ms = 1.5`, "wake_server.burst_interval_ms", /integer/],
    [`[wake_server]\nanchor_ttl_ms = 10`, "wake_server.anchor_ttl_ms", /from 1000/],
    [`[wake_server]\nmax_cameras = 0`, "wake_server.max_cameras", /from 1/],
    [`[wake_server]\nmax_anchors = 100000`, "wake_server.max_anchors", /to 65536/],
    [`[wake_server]\nreceive_buffer_bytes = -1`, "wake_server.receive_buffer_bytes", /from 0/],
    [`[wake_server]\nenable = "yes"`, "wake_server.enable", /true or false/],
    [`bind = "example.com"`, "bind", /IP address/],
    [`bind = 5`, "bind", /string/],
    [`state_dir = ""`, "state_dir", /not be empty/],
    [`[log]\nlevel = "loud"`, "log.level", /one of trace, debug/],
    [`wake_server = 3`, "wake_server", /must be a table/],
    [`cameras = 3`, "cameras", /array of tables/],
    [`[[cameras]]\nuid = "A1"`, "cameras[0].name", /required/],
    [`[[cameras]]\nname = "a"`, "cameras[0].uid", /required/],
    [`[[cameras]]\nname = "a/b"\nuid = "A1"`, "cameras[0].name", /letters, digits/],
    [
      `[[cameras]]\nname = "a"\nuid = "${"A".repeat(65)}"`,
      "cameras[0].uid",
      /at most 64 bytes/,
    ],
    [`[[cameras]]\nname = "a"\nuid = "A 1"`, "cameras[0].uid", /letters and digits/],
    [
      `[[cameras]]\nname = "a"\nuid = "A1"\n[[cameras]]\nname = "a"\nuid = "B1"`,
      "cameras[1].name",
      /unique; cameras\[0\]/,
    ],
    [
      `[[cameras]]\nname = "a"\nuid = "A1"\n[[cameras]]\nname = "b"\nuid = "a1"`,
      "cameras[1].uid",
      /unique; cameras\[0\]/,
    ],
    [`[api]\nlisten = "nowhere"`, "api.listen", /host:port/],
    [`[api]\nlisten = "127.0.0.1:0"`, "api.listen", /port 1-65535/],
    [`[api]\nlisten = "0.0.0.0:9899"`, "api.listen", /needs api.token/],
    [`[api]\ntoken = ""`, "api.token", /not be empty/],
    [`[api]\nheader_timeout_ms = 50`, "api.header_timeout_ms", /from 100/],
    [`[api]\nmax_connections = 0`, "api.max_connections", /from 1/],
    [`[api]\nmax_event_streams = 0`, "api.max_event_streams", /from 1/],
    [`[push_listener]\nport = 9899`, "push_listener.port", /differ from the api.listen port/],
    [`[push_listener]\nbind = "x"`, "push_listener.bind", /IP address/],
    [`[push_listener]\nmotion_hold_secs = 0`, "push_listener.motion_hold_secs", /from 1/],
    [`[push_listener]\nsni_timeout_ms = 6000`, "push_listener.sni_timeout_ms", /to 5000/],
    [`[push_listener]\nwake_on_motion = 1`, "push_listener.wake_on_motion", /true or false/],
    [`[mqtt]\nport = 0`, "mqtt.port", /from 1 to 65535/],
    [`[mqtt]\nbroker_addr = ""`, "mqtt.broker_addr", /not be empty/],
    [`[mqtt]\ncredentials = ["only-user"]`, "mqtt.credentials", /two strings/],
    [`[mqtt]\nclient_auth = "cert.pem"`, "mqtt.client_auth", /two strings/],
    [`[mqtt]\nca = ""`, "mqtt.ca", /not be empty/],
    [`[mqtt]\ntopic_prefix = "a/#"`, "mqtt.topic_prefix", /without \+, #/],
    [`[mqtt.discovery]\ntopic = "/ha"`, "mqtt.discovery.topic", /leading\/trailing/],
  ];
  for (const [text, key, rule] of cases) {
    assertProblem(failing(text), key, rule);
  }
});

Deno.test("several problems are all reported at once", () => {
  const error = failing(`[wake_server]\nheartbeat_ms = 5\nburst_count = 0\nfoo = 1\n`);
  assert.deepEqual(
    error.problems.map((p) => p.key).sort(),
    ["wake_server.burst_count", "wake_server.foo", "wake_server.heartbeat_ms"],
  );
  assert.equal(error.message.split("\n").length, 3);
});

Deno.test("a loopback API with a token, IPv6 forms and 'off' are accepted", () => {
  assert.deepEqual(load(`[api]\nlisten = "[::1]:9000"`).api.listen, { host: "::1", port: 9000 });
  assert.deepEqual(load(`[api]\nlisten = "off"`).api.listen, null);
  assert.deepEqual(load(`[api]\nlisten = "[::]:9000"\ntoken = "t"`).api, {
    listen: { host: "::", port: 9000 },
    token: "t",
    limits: DEFAULT_API_LIMITS,
  });
  assert.equal(parseListen("localhost:80")?.host, "localhost");
  assert.equal(parseListen("[127.0.0.1]:80"), null);
  assert.equal(parseListen("::1:80"), null);
});

Deno.test("unreadable and malformed files name the file and the problem", () => {
  const missing = "/nonexistent/bairelay.toml";
  let error = (() => {
    try {
      loadConfig({ path: missing, env: ENV });
    } catch (e) {
      return e as ConfigError;
    }
    assert.fail("accepted a missing file");
  })();
  assertProblem(error, "(file)", /cannot read it \(\/.*\): no such file/, missing);
  const relative = (() => {
    try {
      loadConfig({ path: "no-such-config.toml", env: ENV });
    } catch (e) {
      return e as ConfigError;
    }
    assert.fail("accepted a missing file");
  })();
  // A relative path names the absolute one it was read as.
  assert.equal(
    relative.problems[0].rule,
    `cannot read it (${Deno.cwd()}/no-such-config.toml): no such file`,
  );
  error = failing(`[wake_server\nx = 1\n`);
  assert.equal(error.problems[0].source, FILE);
  assert.match(error.problems[0].key, /^line 1, column \d+$/);
  assert.match(error.problems[0].rule, /must be valid TOML/);
});

const SAMPLE = new URL("../sample_config.toml", import.meta.url);

Deno.test("sample_config.toml parses, validates and holds exactly the defaults", () => {
  const text = Deno.readTextFileSync(SAMPLE);
  const fromSample = loadConfig({ path: SAMPLE.pathname, text, env: ENV });
  const defaults = loadConfig({ env: ENV });
  assert.deepEqual({ ...fromSample, source: null }, defaults);
});

Deno.test("sample_config.toml documents every key the schema knows", () => {
  const text = Deno.readTextFileSync(SAMPLE);
  const parsed = parseToml(text) as Record<string, unknown>;
  const missing: string[] = [];
  for (const [section, keys] of Object.entries(CONFIG_SCHEMA)) {
    const header = section === ""
      ? null
      : section.endsWith("[]")
      ? `[[${section.slice(0, -2)}]]`
      : `[${section}]`;
    const sectionText = header === null ? text.split(/^#?\s*\[/m)[0] : sectionOf(text, header);
    if (sectionText === null) {
      missing.push(`${header} (section)`);
      continue;
    }
    for (const key of Object.keys(keys)) {
      // Set (uncommented) or shown commented out ("# key = ...") in its section, with a comment.
      if (!new RegExp(`^#? ?${key} = `, "m").test(sectionText)) missing.push(`${section}.${key}`);
    }
  }
  assert.deepEqual(missing, [], "keys missing from sample_config.toml");
  assert.ok(!("cameras" in parsed) || Array.isArray(parsed.cameras));
  assert.ok(!("clients" in parsed) || Array.isArray(parsed.clients));
  assert.match(text, /p2p\*\.reolink\.com/);
  assert.match(text, /pushx\.reolink\.com/);
});

Deno.test("every key's spec has help text and a default that its own rules accept", () => {
  for (const [section, keys] of Object.entries(CONFIG_SCHEMA)) {
    for (const [key, spec] of Object.entries(keys)) {
      const name = section ? `${section}.${key}` : key;
      assert.ok(spec.help.length > 0, `${name} has no help text`);
      if ("default" in spec && spec.default !== undefined) {
        assert.equal(violation(spec.default, spec), null, `${name}'s default breaks its spec`);
      }
    }
  }
});

/** The text of a section, from its header (possibly commented) to the next header. */
function sectionOf(text: string, header: string): string | null {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.replace(/^# ?/, "").trim() === header);
  if (start < 0) return null;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => /^(# ?)?\[/.test(line));
  return rest.slice(0, end < 0 ? undefined : end).join("\n");
}
