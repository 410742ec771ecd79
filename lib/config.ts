/**
 * `bairelay serve` configuration: embedded defaults, an optional TOML file and command-line flags,
 * validated into one plain-data `Config`. The key table `CONFIG_SCHEMA` is the single list of
 * every key the file may hold (sample_config.toml documents each of them; a test checks it).
 */

// ./paths.ts and ipVersion rather than node:path and node:net: no Node layer in serve.
import { dirname, isAbsolute, join, resolve } from "./paths.ts";
import { parse as parseToml, TomlError } from "smol-toml";
import { ipVersion } from "./ip_address.ts";
import { isLoopback } from "./local_address.ts";
import { DEFAULT_RECEIVE_BUFFER_BYTES, MAX_RECEIVE_BUFFER_BYTES } from "./wake/receive_buffer.ts";
import type { WakeServerOptions } from "./wake/server.ts";
import { DEFAULT_ALLOW_FROM, rangeProblem } from "./dns/ranges.ts";
import { DEFAULT_NAMES, namePatternProblem } from "./dns/names.ts";
import type { DnsServerOptions } from "./dns/options.ts";
import { DNS_PORT } from "./dns/upstreams.ts";

// ---------------------------------------------------------------------------------------------
// The typed result

/** Log severities accepted by `--log-level` / `[log] level` (LogTape's names; "warn" is an alias). */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"] as const;
/** A LogTape log level. */
export type LogLevel = typeof LOG_LEVELS[number];
/** How log lines are written on stderr. */
export type LogFormat = "pretty" | "json";

/** A host and TCP port to listen on. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** A camera the operator named in `[[cameras]]`. */
export interface CameraConfig {
  name: string;
  uid: string;
}

/** Everything `serve` needs, after defaults, file and flags were merged and validated. */
export interface Config {
  /** The config file it came from (null: defaults and flags only). */
  source: string | null;
  /** Address the UDP wake-server listeners bind (and the push listener's default). */
  bind: string;
  /** Directory for persistent state (the camera registry). */
  stateDir: string;
  log: { level: LogLevel; format: LogFormat };
  wakeServer: {
    enable: boolean;
    middlemanPort: number;
    registerPort: number;
    heartbeatMs: number;
    staleAfterMs: number;
    maxWakesPerHour: number;
    burstCount: number;
    burstIntervalMs: number;
    anchorTtlMs: number;
    maxCameras: number;
    maxAnchors: number;
    receiveBufferBytes: number;
  };
  cameras: CameraConfig[];
  /** The HTTP control API; `listen` null = off. */
  api: { listen: ListenAddress | null; token: string | null; limits: ApiLimits };
  pushListener: {
    enable: boolean;
    /**
     * The user asked for the push listener (`--push-port`, or `port`/`enable` in
     * `[push_listener]`): then a bind failure is fatal. Otherwise the default port 443 without
     * the privilege to bind it turns the listener off with a warning.
     */
    explicit: boolean;
    bind: string;
    port: number;
    motionHoldSecs: number;
    wakeOnMotion: boolean;
    sniTimeoutMs: number;
    /** Push connections held open at once for the SNI read (a flood cannot exhaust fds). */
    maxConnections: number;
  };
  /** The built-in DNS responder (`[dns]`); see lib/dns/server.ts. */
  dns: {
    enable: boolean;
    bind: string;
    port: number;
    names: string[];
    /** Fixed A answer; null = the address this box uses to reach the asking client. */
    answer: string | null;
    ttl: number;
    forward: boolean;
    /** null = the nameservers of /etc/resolv.conf. */
    upstreams: ListenAddress[] | null;
    upstreamTimeoutMs: number;
    maxInflight: number;
    allowFrom: string[];
    tcpMaxConnections: number;
    tcpIdleMs: number;
  };
  /** The MQTT bridge; `brokerAddr` null = bridge off. */
  mqtt: {
    brokerAddr: string | null;
    port: number;
    credentials: { username: string; password: string } | null;
    ca: string | null;
    clientAuth: { cert: string; key: string } | null;
    topicPrefix: string;
    discoveryTopic: string;
  };
}

// ---------------------------------------------------------------------------------------------
// The key table

/**
 * The TOML type a key must have. `pair` is an array of exactly two strings; `strings` an array
 * of strings (at most `max` of them).
 */
export type KeyType = "string" | "integer" | "boolean" | "pair" | "strings";

/** One key of the config file: its type, its default (absent = optional or computed), bounds. */
export interface KeySpec {
  type: KeyType;
  default?: string | number | boolean | readonly string[];
  min?: number;
  max?: number;
  /** Allowed string values. */
  oneOf?: readonly string[];
}

const PORT = { type: "integer", min: 1, max: 65535 } as const;
const MS_MAX = 86_400_000; // one day: no timer in bairelay needs longer

/**
 * Every table and key the config file may hold. Table names: "" is the top level, "a.b" is
 * the sub-table `b` of `a`, "cameras[]" is each entry of the `[[cameras]]` array.
 */
export const CONFIG_SCHEMA: Record<string, Record<string, KeySpec>> = {
  "": {
    bind: { type: "string", default: "0.0.0.0" },
    state_dir: { type: "string" },
  },
  log: {
    level: { type: "string", default: "info", oneOf: [...LOG_LEVELS, "warn"] },
    format: { type: "string", default: "pretty", oneOf: ["pretty", "json"] },
  },
  wake_server: {
    enable: { type: "boolean", default: true },
    middleman_port: { ...PORT, default: 9999 },
    register_port: { ...PORT, default: 58200 },
    heartbeat_ms: { type: "integer", default: 20_000, min: 1000, max: MS_MAX },
    stale_after_ms: { type: "integer", default: 80_000, min: 1000, max: MS_MAX },
    max_wakes_per_hour: { type: "integer", default: 60, min: 0, max: 3600 },
    burst_count: { type: "integer", default: 10, min: 1, max: 100 },
    burst_interval_ms: { type: "integer", default: 100, min: 1, max: 10_000 },
    anchor_ttl_ms: { type: "integer", default: 300_000, min: 1000, max: MS_MAX },
    max_cameras: { type: "integer", default: 1024, min: 1, max: 65_536 },
    max_anchors: { type: "integer", default: 1024, min: 1, max: 65_536 },
    receive_buffer_bytes: {
      type: "integer",
      default: DEFAULT_RECEIVE_BUFFER_BYTES,
      min: 0,
      max: MAX_RECEIVE_BUFFER_BYTES,
    },
  },
  "cameras[]": {
    name: { type: "string" },
    uid: { type: "string" },
  },
  api: {
    listen: { type: "string", default: "127.0.0.1:9899" },
    token: { type: "string" },
    header_timeout_ms: { type: "integer", default: 10_000, min: 100, max: 300_000 },
    max_connections: { type: "integer", default: 128, min: 1, max: 65_536 },
    max_connections_per_address: { type: "integer", default: 32, min: 1, max: 65_536 },
    max_event_streams: { type: "integer", default: 16, min: 1, max: 1024 },
  },
  push_listener: {
    enable: { type: "boolean", default: true },
    bind: { type: "string" },
    port: { ...PORT, default: 443 },
    motion_hold_secs: { type: "integer", default: 30, min: 1, max: 3600 },
    wake_on_motion: { type: "boolean", default: true },
    sni_timeout_ms: { type: "integer", default: 200, min: 0, max: 5000 },
    max_connections: { type: "integer", default: 256, min: 1, max: 65_536 },
  },
  mqtt: {
    broker_addr: { type: "string" },
    port: { ...PORT, default: 1883 },
    credentials: { type: "pair" },
    ca: { type: "string" },
    client_auth: { type: "pair" },
    topic_prefix: { type: "string", default: "bairelay" },
  },
  dns: {
    enable: { type: "boolean", default: false },
    bind: { type: "string" },
    port: { ...PORT, default: DNS_PORT },
    names: { type: "strings", default: DEFAULT_NAMES, max: 256 },
    answer: { type: "string" },
    ttl: { type: "integer", default: 60, min: 0, max: 86_400 },
    forward: { type: "boolean", default: true },
    upstreams: { type: "strings", max: 16 },
    upstream_timeout_ms: { type: "integer", default: 2000, min: 100, max: 30_000 },
    max_inflight: { type: "integer", default: 512, min: 1, max: 65_536 },
    allow_from: { type: "strings", default: DEFAULT_ALLOW_FROM, max: 256 },
    tcp_max_connections: { type: "integer", default: 64, min: 1, max: 65_536 },
    tcp_idle_ms: { type: "integer", default: 10_000, min: 100, max: 300_000 },
  },
  "mqtt.discovery": {
    topic: { type: "string", default: "homeassistant" },
  },
};

/** Longest UID accepted (bytes), as in the wake server. */
export const MAX_UID_BYTES = 64;

/**
 * The control API's bounds: `[api]` header_timeout_ms, max_connections,
 * max_connections_per_address, max_event_streams.
 */
export interface ApiLimits {
  /** A request header must be complete this long after it starts, or 408 and the close. */
  headerTimeoutMs: number;
  /** Open HTTP connections at most (event streams included). */
  maxConnections: number;
  /** Open HTTP connections from one source address at most, so one host cannot take them all. */
  maxConnectionsPerAddress: number;
  /** `GET /api/events/stream` clients at most. */
  maxEventStreams: number;
}

/** The `[api]` limits when the config file sets none. */
export const DEFAULT_API_LIMITS: ApiLimits = {
  headerTimeoutMs: CONFIG_SCHEMA.api.header_timeout_ms.default as number,
  maxConnections: CONFIG_SCHEMA.api.max_connections.default as number,
  maxConnectionsPerAddress: CONFIG_SCHEMA.api.max_connections_per_address.default as number,
  maxEventStreams: CONFIG_SCHEMA.api.max_event_streams.default as number,
};

// ---------------------------------------------------------------------------------------------
// Flags

/** Command-line overrides, as typed by the user (strings; booleans for switches). */
export type ConfigFlags = Partial<Record<keyof typeof FLAG_KEYS, string | boolean>>;

/** Which key each command-line flag overrides (the flag's name is shown in errors). */
export const FLAG_KEYS = {
  bind: { flag: "--bind", key: "bind" },
  stateDir: { flag: "--state-dir", key: "state_dir" },
  middlemanPort: { flag: "--middleman-port", key: "wake_server.middleman_port" },
  registerPort: { flag: "--register-port", key: "wake_server.register_port" },
  api: { flag: "--api", key: "api.listen" },
  logLevel: { flag: "--log-level", key: "log.level" },
  logFormat: { flag: "--log-format", key: "log.format" },
  pushPort: { flag: "--push-port", key: "push_listener.port" },
  pushEnable: { flag: "--no-push", key: "push_listener.enable" },
  dnsEnable: { flag: "--dns", key: "dns.enable" },
  dnsPort: { flag: "--dns-port", key: "dns.port" },
} as const;

// ---------------------------------------------------------------------------------------------
// Errors

/** One thing wrong with the configuration: where it came from, which key, which rule. */
export interface ConfigProblem {
  /** The file path, or the flag (e.g. "--middleman-port"), or "defaults". */
  source: string;
  /** Dotted key, e.g. "wake_server.heartbeat_ms" or "cameras[1].uid". */
  key: string;
  /** What the key must satisfy (and, for unknown keys, the closest valid one). */
  rule: string;
}

/** The configuration is unusable; `problems` lists every issue found, `message` one per line. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((p) => `${p.source}: ${p.key}: ${p.rule}`).join("\n"));
    this.name = "ConfigError";
  }
}

// ---------------------------------------------------------------------------------------------
// Loading

/** Environment facts the defaults depend on (passed in so tests control them). */
export interface ConfigEnv {
  /** Effective user id (0 = root); null when unknown (e.g. Windows). */
  uid: number | null;
  /** Environment variables (HOME, XDG_STATE_HOME, the BAIRELAY_MQTT_* secrets). */
  vars: Record<string, string | undefined>;
}

/** Environment variable holding the MQTT user name (overrides `[mqtt] credentials`). */
export const MQTT_USERNAME_ENV = "BAIRELAY_MQTT_USERNAME";
/** Environment variable holding the MQTT password (overrides `[mqtt] credentials`). */
export const MQTT_PASSWORD_ENV = "BAIRELAY_MQTT_PASSWORD";

/** Reads the real process environment (needs --allow-env and --allow-sys for the uid). */
export function processEnv(): ConfigEnv {
  let uid: number | null = null;
  try {
    uid = Deno.uid();
  } catch { /* not permitted or not POSIX: fall back to HOME-based defaults */ }
  const vars: Record<string, string | undefined> = {};
  for (const name of ["HOME", "XDG_STATE_HOME", MQTT_USERNAME_ENV, MQTT_PASSWORD_ENV]) {
    try {
      vars[name] = Deno.env.get(name);
    } catch { /* no --allow-env */ }
  }
  return { uid, vars };
}

/**
 * The default state directory: /var/lib/bairelay for root (a system service), else
 * $XDG_STATE_HOME/bairelay, else ~/.local/state/bairelay, else ./bairelay-state.
 */
export function defaultStateDir(env: ConfigEnv): string {
  if (env.uid === 0) return "/var/lib/bairelay";
  if (env.vars.XDG_STATE_HOME) return join(env.vars.XDG_STATE_HOME, "bairelay");
  if (env.vars.HOME) return join(env.vars.HOME, ".local", "state", "bairelay");
  return resolve(Deno.cwd(), "bairelay-state");
}

/** Where the configuration comes from: a file (path, or text for tests) and flags. */
export interface LoadConfigInput {
  /** Path of the TOML file; absent = embedded defaults. */
  path?: string;
  /** The file's text, when already read (tests); `path` still names it in errors. */
  text?: string;
  flags?: ConfigFlags;
  env?: ConfigEnv;
}

/**
 * Builds the validated `Config` from defaults, the TOML file and the flags (flags win).
 * Throws `ConfigError` listing every problem (file, key and rule for each).
 */
export function loadConfig(input: LoadConfigInput = {}): Config {
  const source = input.path ?? null;
  let raw: Record<string, unknown> = {};
  if (source !== null) {
    let text = input.text;
    if (text === undefined) {
      try {
        text = Deno.readTextFileSync(source);
      } catch (error) {
        throw new ConfigError([{
          source,
          key: "(file)",
          rule: `cannot read it: ${reason(error)}`,
        }]);
      }
    }
    try {
      raw = parseToml(text) as Record<string, unknown>;
    } catch (error) {
      const where = error instanceof TomlError ? `line ${error.line}, column ${error.column}` : "";
      const rule = `must be valid TOML: ${
        error instanceof Error ? error.message.split("\n")[0] : String(error)
      }`;
      throw new ConfigError([{ source, key: where || "(file)", rule }]);
    }
  }
  const origins = new Map<string, string>();
  for (const [name, value] of Object.entries(input.flags ?? {})) {
    if (value === undefined) continue;
    const { flag, key } = FLAG_KEYS[name as keyof typeof FLAG_KEYS];
    setKey(raw, key, coerceFlag(value, specOf(key)));
    origins.set(key, flag);
  }
  const baseDir = source === null ? Deno.cwd() : dirname(resolve(Deno.cwd(), source));
  return new Reader(source ?? "defaults", origins, baseDir, input.env ?? processEnv()).read(raw);
}

/** The options for `startWakeServer` that a `Config` describes. */
export function wakeServerOptions(config: Config): WakeServerOptions {
  const w = config.wakeServer;
  return {
    bind: config.bind,
    middlemanPort: w.middlemanPort,
    registerPort: w.registerPort,
    heartbeatMs: w.heartbeatMs,
    staleAfterMs: w.staleAfterMs,
    maxCameras: w.maxCameras,
    maxAnchors: w.maxAnchors,
    anchorTtlMs: w.anchorTtlMs,
    burstCount: w.burstCount,
    burstIntervalMs: w.burstIntervalMs,
    maxWakesPerHour: w.maxWakesPerHour,
    cameras: config.cameras.map((camera) => ({ ...camera })),
    receiveBufferBytes: w.receiveBufferBytes,
    stateDir: config.stateDir,
  };
}

/** The options for `startDnsServer` that a `Config` describes. */
export function dnsServerOptions(config: Config): DnsServerOptions {
  const d = config.dns;
  return {
    bind: d.bind,
    port: d.port,
    names: [...d.names],
    answer: d.answer,
    advertiseBind: config.bind,
    ttl: d.ttl,
    forward: d.forward,
    upstreams: d.upstreams?.map(({ host, port }) => ({ host, port })) ?? null,
    upstreamTimeoutMs: d.upstreamTimeoutMs,
    maxInflight: d.maxInflight,
    allowFrom: [...d.allowFrom],
    tcpMaxConnections: d.tcpMaxConnections,
    tcpIdleMs: d.tcpIdleMs,
  };
}

/** Parses "host:port" / "[v6]:port" (the API listen syntax); null when malformed. */
export function parseListen(text: string): ListenAddress | null {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  if (!match) return null;
  const host = match[1] ?? match[2];
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  if (host !== "localhost" && ipVersion(host) === 0) return null;
  if (match[1] !== undefined && ipVersion(host) !== 6) return null;
  return { host, port };
}

/** Formats a listen address back to "host:port" ("[v6]:port"). */
export function formatListen(address: ListenAddress): string {
  return ipVersion(address.host) === 6
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}

// ---------------------------------------------------------------------------------------------
// Internals

type Table = Record<string, unknown>;

/** Walks the raw TOML tree, recording every problem, and builds the `Config`. */
class Reader {
  readonly problems: ConfigProblem[] = [];

  constructor(
    readonly file: string,
    readonly origins: Map<string, string>,
    readonly baseDir: string,
    readonly env: ConfigEnv,
  ) {}

  read(raw: Table): Config {
    const root = this.table(raw, "", "");
    const log = this.table(root.log, "log", "log");
    const wake = this.table(root.wake_server, "wake_server", "wake_server");
    const api = this.table(root.api, "api", "api");
    const push = this.table(root.push_listener, "push_listener", "push_listener");
    const mqtt = this.table(root.mqtt, "mqtt", "mqtt");
    const discovery = this.table(mqtt.discovery, "mqtt.discovery", "mqtt.discovery");
    const dns = this.table(root.dns, "dns", "dns");

    const bind = this.address(root, "", "bind");
    const config: Config = {
      source: this.file === "defaults" ? null : this.file,
      bind,
      stateDir: this.stateDir(root),
      log: {
        level: normalizeLevel(this.value(log, "log", "level") as string),
        format: this.value(log, "log", "format") as LogFormat,
      },
      wakeServer: {
        enable: this.value(wake, "wake_server", "enable") as boolean,
        middlemanPort: this.value(wake, "wake_server", "middleman_port") as number,
        registerPort: this.value(wake, "wake_server", "register_port") as number,
        heartbeatMs: this.value(wake, "wake_server", "heartbeat_ms") as number,
        staleAfterMs: this.value(wake, "wake_server", "stale_after_ms") as number,
        maxWakesPerHour: this.value(wake, "wake_server", "max_wakes_per_hour") as number,
        burstCount: this.value(wake, "wake_server", "burst_count") as number,
        burstIntervalMs: this.value(wake, "wake_server", "burst_interval_ms") as number,
        anchorTtlMs: this.value(wake, "wake_server", "anchor_ttl_ms") as number,
        maxCameras: this.value(wake, "wake_server", "max_cameras") as number,
        maxAnchors: this.value(wake, "wake_server", "max_anchors") as number,
        receiveBufferBytes: this.value(wake, "wake_server", "receive_buffer_bytes") as number,
      },
      cameras: this.cameras(root.cameras),
      api: { ...this.api(api), limits: this.apiLimits(api) },
      pushListener: {
        enable: this.value(push, "push_listener", "enable") as boolean,
        explicit: push.port !== undefined || push.enable !== undefined,
        bind: push.bind === undefined ? bind : this.address(push, "push_listener", "bind"),
        port: this.value(push, "push_listener", "port") as number,
        motionHoldSecs: this.value(push, "push_listener", "motion_hold_secs") as number,
        wakeOnMotion: this.value(push, "push_listener", "wake_on_motion") as boolean,
        sniTimeoutMs: this.value(push, "push_listener", "sni_timeout_ms") as number,
        maxConnections: this.value(push, "push_listener", "max_connections") as number,
      },
      dns: this.dns(dns, bind),
      mqtt: {
        brokerAddr: this.nonEmpty(mqtt, "mqtt", "broker_addr"),
        port: this.value(mqtt, "mqtt", "port") as number,
        credentials: this.mqttCredentials(mqtt),
        ca: this.fileInConfig(this.nonEmpty(mqtt, "mqtt", "ca")),
        clientAuth: this.fileInConfigPair(this.pairOf(mqtt, "client_auth", "cert", "key")),
        topicPrefix: this.topic(mqtt, "mqtt", "topic_prefix"),
        discoveryTopic: this.topic(discovery, "mqtt.discovery", "topic"),
      },
    };
    this.crossChecks(config);
    if (this.problems.length > 0) throw new ConfigError(this.problems);
    return config;
  }

  /** Records a problem for `key`, attributed to the flag that set it or to the file. */
  fail(key: string, rule: string): void {
    this.problems.push({ source: this.origins.get(key) ?? this.file, key, rule });
  }

  /** Checks `raw` is a table and holds only known keys; returns it ({} when absent or bad). */
  table(raw: unknown, section: string, path: string): Table {
    if (raw === undefined) return {};
    if (!isTable(raw)) {
      this.fail(path, `must be a table ([${path}])`);
      return {};
    }
    const known = knownKeys(section);
    for (const key of Object.keys(raw)) {
      if (known.includes(key)) continue;
      const full = path ? `${path}.${key}` : key;
      const suggestion = closest(key, known);
      const where = path ? `in [${path}]` : "at the top level";
      this.fail(
        full,
        `unknown key ${where}` +
          (suggestion ? ` (did you mean "${suggestion}"?)` : ` (valid: ${known.join(", ")})`),
      );
    }
    return raw;
  }

  /** The key's value checked against its spec, or its default when absent or invalid. */
  value(table: Table, section: string, key: string, path = dotted(section, key)): unknown {
    const spec = CONFIG_SCHEMA[section][key];
    const value = table[key];
    if (value === undefined) return spec.default;
    const rule = violation(value, spec);
    if (rule) {
      this.fail(path, `${rule} (got ${show(value)})`);
      return spec.default;
    }
    return value;
  }

  /** An optional string key that, when present, must not be empty; null when absent. */
  nonEmpty(table: Table, section: string, key: string, path = dotted(section, key)) {
    const value = this.value(table, section, key, path) as string | undefined;
    if (value === undefined) return null;
    if (value.trim() === "") {
      this.fail(path, "must not be empty (leave the key out instead)");
      return null;
    }
    return value;
  }

  /** An IP address literal key (bind addresses). */
  address(table: Table, section: string, key: string): string {
    const path = dotted(section, key);
    const value = this.value(table, section, key) as string | undefined;
    const fallback = CONFIG_SCHEMA[""].bind.default as string;
    if (value === undefined) return fallback;
    if (ipVersion(value) === 0) {
      this.fail(
        path,
        `must be an IP address such as 0.0.0.0, 192.168.1.10 or :: (got ${show(value)})`,
      );
      return fallback;
    }
    return value;
  }

  /** A file named in the config (TLS files): a relative path is relative to the file. */
  fileInConfig(path: string | null): string | null {
    return path === null || isAbsolute(path) ? path : resolve(this.baseDir, path);
  }

  fileInConfigPair(
    pair: { cert: string; key: string } | null,
  ): { cert: string; key: string } | null {
    return pair && { cert: this.fileInConfig(pair.cert)!, key: this.fileInConfig(pair.key)! };
  }

  stateDir(root: Table): string {
    const value = this.nonEmpty(root, "", "state_dir");
    if (value === null) return defaultStateDir(this.env);
    const home = this.env.vars.HOME;
    if (value.startsWith("~/") && home) return join(home, value.slice(2));
    if (isAbsolute(value)) return value;
    // A relative path in the file is relative to the file; from --state-dir, to the cwd.
    return this.origins.has("state_dir")
      ? resolve(Deno.cwd(), value)
      : resolve(this.baseDir, value);
  }

  pairOf<A extends string, B extends string>(
    table: Table,
    key: string,
    first: A,
    second: B,
  ): Record<A | B, string> | null {
    const value = this.value(table, "mqtt", key) as [string, string] | undefined;
    if (value === undefined) return null;
    return { [first]: value[0], [second]: value[1] } as Record<A | B, string>;
  }

  /**
   * The broker login: `BAIRELAY_MQTT_USERNAME` / `BAIRELAY_MQTT_PASSWORD` override the file's
   * `credentials` one by one (environment > file; empty variables count as unset), so a
   * container or unit file can keep the secret out of the config.
   */
  mqttCredentials(table: Table): { username: string; password: string } | null {
    const file = this.pairOf(table, "credentials", "username", "password");
    const username = this.env.vars[MQTT_USERNAME_ENV] || file?.username;
    const password = this.env.vars[MQTT_PASSWORD_ENV] || file?.password;
    if (username === undefined && password === undefined) return null;
    if (username === undefined || password === undefined) {
      this.fail(
        "mqtt.credentials",
        `${username === undefined ? MQTT_USERNAME_ENV : MQTT_PASSWORD_ENV} is missing: ` +
          `${MQTT_USERNAME_ENV} and ${MQTT_PASSWORD_ENV} go together (or set [mqtt] credentials)`,
      );
      return null;
    }
    return { username, password };
  }

  /** An MQTT topic prefix: non-empty, no wildcards, no leading or trailing slash. */
  topic(table: Table, section: string, key: string): string {
    const path = dotted(section, key);
    const value = this.value(table, section, key) as string;
    if (value === "" || /[+#\s]/.test(value) || value.startsWith("/") || value.endsWith("/")) {
      this.fail(
        path,
        `must be a non-empty MQTT topic without +, #, spaces or a leading/trailing "/" (got ${
          show(value)
        })`,
      );
      return CONFIG_SCHEMA[section][key].default as string;
    }
    return value;
  }

  apiLimits(api: Table): ApiLimits {
    return {
      headerTimeoutMs: this.value(api, "api", "header_timeout_ms") as number,
      maxConnections: this.value(api, "api", "max_connections") as number,
      maxConnectionsPerAddress: this.value(api, "api", "max_connections_per_address") as number,
      maxEventStreams: this.value(api, "api", "max_event_streams") as number,
    };
  }

  api(api: Table): Omit<Config["api"], "limits"> {
    const listenText = this.value(api, "api", "listen") as string;
    const token = this.nonEmpty(api, "api", "token");
    if (listenText === "off") return { listen: null, token };
    const listen = parseListen(listenText);
    if (listen === null) {
      this.fail(
        "api.listen",
        `must be "host:port" with an IP address (or localhost) and a port 1-65535, or "off" (got ${
          show(listenText)
        })`,
      );
      return { listen: null, token };
    }
    if (!isLoopback(listen.host) && token === null) {
      this.fail(
        "api.listen",
        `a listen address other than loopback (${listenText}) needs api.token (set [api] token ` +
          "in the config file), or anyone on the network could wake your cameras",
      );
    }
    return { listen, token };
  }

  cameras(raw: unknown): CameraConfig[] {
    if (raw === undefined) return [];
    if (!Array.isArray(raw)) {
      this.fail("cameras", "must be an array of tables ([[cameras]] entries)");
      return [];
    }
    const cameras: CameraConfig[] = [];
    const names = new Map<string, number>();
    const uids = new Map<string, number>();
    raw.forEach((entry, index) => {
      const path = `cameras[${index}]`;
      const table = this.table(entry, "cameras[]", path);
      if (!isTable(entry)) return;
      const name = this.value(table, "cameras[]", "name", `${path}.name`) as string | undefined;
      const uid = this.value(table, "cameras[]", "uid", `${path}.uid`) as string | undefined;
      if (name === undefined) this.fail(`${path}.name`, "is required (a name for the camera)");
      else if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(name)) {
        this.fail(
          `${path}.name`,
          "must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit " +
            `(it appears in API URLs and MQTT topics) (got ${show(name)})`,
        );
      } else if (names.has(name)) {
        this.fail(`${path}.name`, `must be unique; cameras[${names.get(name)}] is also "${name}"`);
      } else names.set(name, index);
      if (uid === undefined) {
        this.fail(`${path}.uid`, "is required (the UID printed on the camera)");
      } else if (new TextEncoder().encode(uid).length > MAX_UID_BYTES) {
        const bytes = new TextEncoder().encode(uid).length;
        this.fail(`${path}.uid`, `must be at most ${MAX_UID_BYTES} bytes (got ${bytes})`);
      } else if (!/^[A-Za-z0-9_-]+$/.test(uid)) {
        this.fail(
          `${path}.uid`,
          `must be letters and digits, like 95270000ABCDEFGH (got ${show(uid)})`,
        );
      } else if (uids.has(uid.toUpperCase())) {
        this.fail(
          `${path}.uid`,
          `must be unique; cameras[${uids.get(uid.toUpperCase())}] has it too`,
        );
      } else uids.set(uid.toUpperCase(), index);
      if (name !== undefined && uid !== undefined) cameras.push({ name, uid });
    });
    return cameras;
  }

  dns(dns: Table, bind: string): Config["dns"] {
    const list = (key: string, problem: (item: string) => string | null) => {
      const items = [...(this.value(dns, "dns", key) as readonly string[] | undefined) ?? []];
      for (const item of items) {
        const rule = problem(item);
        if (rule) this.fail(`dns.${key}`, `${JSON.stringify(item)}: ${rule}`);
      }
      return items;
    };
    const answer = this.nonEmpty(dns, "dns", "answer");
    if (answer !== null && (ipVersion(answer) !== 4 || answer === "0.0.0.0")) {
      this.fail(
        "dns.answer",
        `must be an IPv4 address of this box such as 192.168.1.10, not a wildcard (got ${
          show(answer)
        }); leave it out to answer with the address each client reaches this box on`,
      );
    }
    const upstreamTexts = dns.upstreams === undefined ? null : list("upstreams", () => null);
    const upstreams = upstreamTexts?.map((text) => {
      const parsed = ipVersion(text) !== 0 ? { host: text, port: DNS_PORT } : parseListen(text);
      if (parsed === null || parsed.host === "localhost") {
        this.fail(
          "dns.upstreams",
          `${JSON.stringify(text)}: must be an IP address, "ip:port" or "[v6]:port"`,
        );
      }
      return parsed;
    }).filter((upstream) => upstream !== null) ?? null;
    return {
      enable: this.value(dns, "dns", "enable") as boolean,
      bind: dns.bind === undefined ? bind : this.address(dns, "dns", "bind"),
      port: this.value(dns, "dns", "port") as number,
      names: list("names", namePatternProblem),
      answer: answer !== null && ipVersion(answer) === 4 ? answer : null,
      ttl: this.value(dns, "dns", "ttl") as number,
      forward: this.value(dns, "dns", "forward") as boolean,
      upstreams,
      upstreamTimeoutMs: this.value(dns, "dns", "upstream_timeout_ms") as number,
      maxInflight: this.value(dns, "dns", "max_inflight") as number,
      allowFrom: list("allow_from", rangeProblem),
      tcpMaxConnections: this.value(dns, "dns", "tcp_max_connections") as number,
      tcpIdleMs: this.value(dns, "dns", "tcp_idle_ms") as number,
    };
  }

  crossChecks(config: Config): void {
    const w = config.wakeServer;
    if (w.middlemanPort === w.registerPort) {
      this.fail(
        "wake_server.register_port",
        `must differ from wake_server.middleman_port (both are ${w.registerPort})`,
      );
    }
    if (w.staleAfterMs < w.heartbeatMs) {
      this.fail(
        "wake_server.stale_after_ms",
        `must be at least wake_server.heartbeat_ms (${w.heartbeatMs}), or every camera goes stale ` +
          `between two heartbeats (got ${w.staleAfterMs})`,
      );
    }
    const api = config.api.listen;
    if (api && config.pushListener.enable && api.port === config.pushListener.port) {
      this.fail(
        "push_listener.port",
        `must differ from the api.listen port (both are ${api.port}; both are TCP listeners)`,
      );
    }
    this.dnsPortCheck(config);
  }

  /** The DNS responder's port (UDP and TCP) must not be any other listener's. */
  dnsPortCheck(config: Config): void {
    if (!config.dns.enable) return;
    const wake = config.wakeServer;
    const others: [string, number | undefined][] = [
      ["wake_server.middleman_port", wake.enable ? wake.middlemanPort : undefined],
      ["wake_server.register_port", wake.enable ? wake.registerPort : undefined],
      ["api.listen", config.api.listen?.port],
      ["push_listener.port", config.pushListener.enable ? config.pushListener.port : undefined],
    ];
    for (const [key, port] of others) {
      if (port !== config.dns.port) continue;
      this.fail("dns.port", `must differ from ${key} (both are ${port})`);
    }
  }
}

/** Keys allowed in a table: its own keys plus the names of its sub-tables. */
function knownKeys(section: string): string[] {
  const keys = Object.keys(CONFIG_SCHEMA[section] ?? {});
  const prefix = section === "" ? "" : `${section}.`;
  for (const name of Object.keys(CONFIG_SCHEMA)) {
    if (name === section || !name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length).replace(/\[\]$/, "");
    if (rest && !rest.includes(".")) keys.push(rest);
  }
  return keys;
}

/** Why `value` breaks `spec`, or null when it fits. */
function violation(value: unknown, spec: KeySpec): string | null {
  switch (spec.type) {
    case "string":
      if (typeof value !== "string") return "must be a string";
      if (spec.oneOf && !spec.oneOf.includes(value)) {
        return `must be one of ${spec.oneOf.join(", ")}`;
      }
      return null;
    case "boolean":
      return typeof value === "boolean" ? null : "must be true or false";
    case "strings":
      if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
        return 'must be an array of strings, e.g. ["a", "b"]';
      }
      return value.length > spec.max! ? `must hold at most ${spec.max} entries` : null;
    case "pair":
      return Array.isArray(value) && value.length === 2 &&
          value.every((item) => typeof item === "string")
        ? null
        : 'must be an array of two strings, e.g. ["a", "b"]';
    case "integer": {
      const range = `an integer from ${spec.min} to ${spec.max}`;
      if (typeof value !== "number" || !Number.isInteger(value)) return `must be ${range}`;
      if (value < spec.min! || value > spec.max!) return `must be ${range}`;
      return null;
    }
  }
}

function specOf(key: string): KeySpec {
  const dot = key.lastIndexOf(".");
  return CONFIG_SCHEMA[dot < 0 ? "" : key.slice(0, dot)][key.slice(dot + 1)];
}

/** Flags arrive as text: turn "9999" into 9999 for integer keys (anything else stays text). */
function coerceFlag(value: string | boolean, spec: KeySpec): unknown {
  if (spec.type === "integer" && typeof value === "string" && /^\d+$/.test(value)) {
    return Number(value);
  }
  return value;
}

function setKey(raw: Table, key: string, value: unknown): void {
  const parts = key.split(".");
  let table = raw;
  for (const part of parts.slice(0, -1)) {
    if (!isTable(table[part])) table[part] = {};
    table = table[part] as Table;
  }
  table[parts[parts.length - 1]] = value;
}

function normalizeLevel(level: string): LogLevel {
  return (level === "warn" ? "warning" : level) as LogLevel;
}

function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) &&
    !(value instanceof Date);
}

function dotted(section: string, key: string): string {
  return section ? `${section}.${key}` : key;
}

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function reason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return error instanceof Error ? error.message : String(error);
}

/** The candidate nearest to `word` by edit distance, if it is plausibly a typo of it. */
function closest(word: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    previous = current;
  }
  return previous[b.length];
}
