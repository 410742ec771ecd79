/**
 * `bairelay serve` configuration: embedded defaults, an optional TOML file and command-line flags,
 * validated into one plain-data `Config`. Each room owns its section's spec (keys, types,
 * defaults, bounds, help) and its reading; this module assembles them into `CONFIG_SCHEMA`
 * (the single list of every key the file may hold: sample_config.toml documents each of them, a
 * test checks it) and checks the sections against each other.
 */

import { dirname, resolve } from "./paths.ts";
import { parse as parseToml, TomlError } from "smol-toml";
import { type ConfigEnv, ConfigError, ConfigReader, isTable, type Table } from "./config/reader.ts";
import type { KeySpec, Schema } from "./config/spec.ts";
import { LOG_SPEC, type LogFormat, type LogLevel, readLog } from "./log.ts";
import {
  type CameraConfig,
  CAMERAS_SPEC,
  readCameras,
  readRoot,
  ROOT_SPEC,
  WAKE_SERVER_SPEC,
  type WakeServerConfig,
} from "./wake/config.ts";
import type { WakeServerOptions } from "./wake/server.ts";
import { API_SPEC, type ApiConfig, readApi } from "./api/config.ts";
import { PUSH_LISTENER_SPEC, type PushListenerConfig, readPushListener } from "./push/config.ts";
import {
  MQTT_DISCOVERY_SPEC,
  MQTT_PASSWORD_ENV,
  MQTT_SPEC,
  MQTT_USERNAME_ENV,
  type MqttConfig,
  readMqtt,
} from "./mqtt/config.ts";
import { CLIENTS_SPEC, HISTORY_SPEC, type HistoryConfig, readClients } from "./history/config.ts";
import type { NamedClient } from "./history/requesters.ts";
import { DNS_SPEC, type DnsConfig, type DnsServerOptions, readDns } from "./dns/config.ts";

export { type ConfigEnv, ConfigError, type ConfigProblem } from "./config/reader.ts";

// ---------------------------------------------------------------------------------------------
// The typed result

/** Everything `serve` needs, after defaults, file and flags were merged and validated. */
export interface Config {
  /** The config file it came from (null: defaults and flags only). */
  source: string | null;
  /** Address the UDP wake-server listeners bind (and the push listener's default). */
  bind: string;
  /** Directory for persistent state (the camera registry). */
  stateDir: string;
  log: { level: LogLevel; format: LogFormat };
  wakeServer: WakeServerConfig;
  cameras: CameraConfig[];
  /** The HTTP control API; `listen` null = off. */
  api: ApiConfig;
  pushListener: PushListenerConfig;
  /** The built-in DNS responder (`[dns]`); see lib/dns/server.ts. */
  dns: DnsConfig;
  /** The MQTT bridge; `brokerAddr` null = bridge off. */
  mqtt: MqttConfig;
  /** Each camera's history: what is kept, gaps, the drain threshold. */
  history: HistoryConfig;
  /** Requesters named by address (`[[clients]]`). */
  clients: NamedClient[];
}

/**
 * Every table and key the config file may hold, from the rooms' specs. Table names: "" is the
 * top level, "a.b" the sub-table `b` of `a`, "cameras[]" each entry of `[[cameras]]`.
 */
export const CONFIG_SCHEMA = {
  "": ROOT_SPEC,
  log: LOG_SPEC,
  wake_server: WAKE_SERVER_SPEC,
  "cameras[]": CAMERAS_SPEC,
  api: API_SPEC,
  push_listener: PUSH_LISTENER_SPEC,
  mqtt: MQTT_SPEC,
  dns: DNS_SPEC,
  "mqtt.discovery": MQTT_DISCOVERY_SPEC,
  history: HISTORY_SPEC,
  "clients[]": CLIENTS_SPEC,
} as const satisfies Schema;

/** The spec of a dotted key ("bind", "wake_server.middleman_port"). */
export function keySpec(key: string): KeySpec {
  const dot = key.lastIndexOf(".");
  const schema: Schema = CONFIG_SCHEMA;
  return schema[dot < 0 ? "" : key.slice(0, dot)][key.slice(dot + 1)];
}

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
// Loading

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
  let raw: Table = {};
  if (source !== null) {
    let text = input.text;
    if (text === undefined) {
      try {
        text = Deno.readTextFileSync(source);
      } catch (error) {
        throw new ConfigError([{
          source,
          key: "(file)",
          // The absolute path too: a relative one is read from the current directory, which is
          // not always the one the user thinks of (a service, a script that changes into a
          // checkout).
          rule: `cannot read it (${resolve(Deno.cwd(), source)}): ${reason(error)}`,
        }]);
      }
    }
    try {
      raw = parseToml(text) as Table;
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
    setKey(raw, key, coerceFlag(value, keySpec(key)));
    origins.set(key, flag);
  }
  const baseDir = source === null ? Deno.cwd() : dirname(resolve(Deno.cwd(), source));
  const env = input.env ?? processEnv();
  const reader = new ConfigReader(CONFIG_SCHEMA, source ?? "defaults", origins, baseDir, env);
  const config = read(reader, raw);
  crossCheck(reader, config);
  if (reader.problems.length > 0) throw new ConfigError(reader.problems);
  return config;
}

/** The options for `startWakeServer` that a `Config` describes. */
export function wakeServerOptions(config: Config): WakeServerOptions {
  const { enable: _, ...wakeServer } = config.wakeServer;
  return {
    ...wakeServer,
    bind: config.bind,
    cameras: config.cameras.map((camera) => ({ ...camera })),
    stateDir: config.stateDir,
  };
}

/** The options for `startDnsServer` that a `Config` describes. */
export function dnsServerOptions(config: Config): DnsServerOptions {
  const { enable: _, ...dns } = config.dns;
  return {
    ...dns,
    names: [...dns.names],
    advertiseBind: config.bind,
    upstreams: dns.upstreams?.map(({ host, port }) => ({ host, port })) ?? null,
    allowFrom: [...dns.allowFrom],
  };
}

// ---------------------------------------------------------------------------------------------
// Internals

/** Reads every section of the raw TOML tree (problems are collected in `reader`). */
function read(reader: ConfigReader, raw: Table): Config {
  const root = reader.table(raw, "");
  const log = reader.table(root.log, "log");
  const wake = reader.table(root.wake_server, "wake_server");
  const api = reader.table(root.api, "api");
  const push = reader.table(root.push_listener, "push_listener");
  const mqtt = reader.table(root.mqtt, "mqtt");
  const discovery = reader.table(mqtt.discovery, "mqtt.discovery");
  const dns = reader.table(root.dns, "dns");
  const history = reader.table(root.history, "history");
  const { bind, stateDir } = readRoot(reader, root);
  return {
    source: reader.file === "defaults" ? null : reader.file,
    bind,
    stateDir,
    log: readLog(reader, log),
    wakeServer: reader.values(wake, WAKE_SERVER_SPEC, "wake_server"),
    cameras: readCameras(reader, root.cameras),
    api: readApi(reader, api),
    pushListener: readPushListener(reader, push, bind),
    dns: readDns(reader, dns, bind),
    mqtt: readMqtt(reader, mqtt, discovery),
    history: reader.values(history, HISTORY_SPEC, "history"),
    clients: readClients(reader, root.clients),
  };
}

/** The rules that span sections: ports that must differ, timers that must fit together. */
function crossCheck(reader: ConfigReader, config: Config): void {
  const w = config.wakeServer;
  if (w.middlemanPort === w.registerPort) {
    reader.fail(
      "wake_server.register_port",
      `must differ from wake_server.middleman_port (both are ${w.registerPort})`,
    );
  }
  if (w.staleAfterMs < w.heartbeatMs) {
    reader.fail(
      "wake_server.stale_after_ms",
      `must be at least wake_server.heartbeat_ms (${w.heartbeatMs}), or every camera goes stale ` +
        `between two heartbeats (got ${w.staleAfterMs})`,
    );
  }
  const api = config.api.listen;
  if (api && config.pushListener.enable && api.port === config.pushListener.port) {
    reader.fail(
      "push_listener.port",
      `must differ from the api.listen port (both are ${api.port}; both are TCP listeners)`,
    );
  }
  dnsPortCheck(reader, config);
}

/** The DNS responder's port (UDP and TCP) must not be any other listener's. */
function dnsPortCheck(reader: ConfigReader, config: Config): void {
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
    reader.fail("dns.port", `must differ from ${key} (both are ${port})`);
  }
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

function reason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
