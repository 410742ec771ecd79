/**
 * The Home Assistant add-on's configuration: its options document (/data/options.json, shaped
 * by deploy/homeassistant/bairelay/config.yaml) and the Mosquitto add-on's credentials (the
 * Supervisor's MQTT service) become the TOML text `serve --config` reads, plus the environment
 * that carries the secrets. Values are passed through unchanged, so the real config loader is
 * the one judge of them and its messages (file, key, rule) reach the add-on log.
 */

import { parse as parseToml, stringify as stringifyToml, TomlError } from "smol-toml";
import { API_PORT } from "../api/config.ts";
import { MQTT_PASSWORD_ENV, MQTT_USERNAME_ENV } from "../mqtt/config.ts";

/** Where the add-on keeps its state (the Supervisor's persistent /data volume). */
export const ADDON_STATE_DIR = "/data/state";
/**
 * The API listens on every address: the Supervisor's watchdog reaches /healthz from its own
 * network namespace, so loopback would not do (the API then needs a token, which the run script
 * provides). The port is the one the user gives "9899/tcp" (the API's default port, `API_PORT`)
 * in the add-on's Network section, because that is the port the watchdog (`[PORT:9899]`) asks.
 */
const ADDON_API_HOST = "0.0.0.0";

/**
 * The add-on's ports as the Supervisor reports them (`GET /addons/self/info`, `data.network`):
 * container port ("9899/tcp") -> the host port the user set, or null when the user cleared it.
 * With the host's network the container port is the host port, so a moved port moves the
 * listener.
 */
export type AddonNetwork = Record<string, number | null>;

/** config.yaml's ports -> where a port the user moves goes in config.toml (table, key). */
const PORT_KEYS: Record<string, [table: string, key: string]> = {
  "9999/udp": ["wake_server", "middleman_port"],
  "58200/udp": ["wake_server", "register_port"],
  "443/tcp": ["push_listener", "port"],
};

/** What the Supervisor's `GET /services/mqtt` reports (`data`), when the MQTT service exists. */
export interface MqttService {
  host: string;
  port: number;
  ssl?: boolean;
  username?: string;
  password?: string;
}

/** The translation: config.toml's text and the environment `serve` runs with. */
export interface AddonConfig {
  toml: string;
  env: Record<string, string>;
}

/** The options document cannot be turned into a configuration (not the loader's rules). */
export class AddonOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AddonOptionsError";
  }
}

type Table = Record<string, unknown>;

/** Option name -> where its value goes in config.toml (table, key). Plain values only. */
const OPTION_KEYS: Record<string, [table: string, key: string]> = {
  log_level: ["log", "level"],
  max_wakes_per_hour: ["wake_server", "max_wakes_per_hour"],
  dns: ["dns", "enable"],
  mqtt_topic_prefix: ["mqtt", "topic_prefix"],
};

/**
 * Builds config.toml from the add-on options, the MQTT service (null: none, or `mqtt: false`
 * in the options), the API token and the ports the user set in the Network section (`network`;
 * a cleared port keeps its default, as the watchdog does). `extra_toml` is merged last, key by
 * key, so it can set anything the options do not cover (and override what they do). Throws
 * `AddonOptionsError` when `options` is not an object or `extra_toml` is not valid TOML.
 */
export function addonConfig(
  options: unknown,
  mqtt: MqttService | null,
  apiToken: string,
  network: AddonNetwork = {},
): AddonConfig {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new AddonOptionsError("the add-on options must be a JSON object");
  }
  const o = options as Table;
  const apiPort = network[`${API_PORT}/tcp`] ?? API_PORT;
  const doc: Table = {
    state_dir: ADDON_STATE_DIR,
    log: { format: "pretty" },
    api: { listen: `${ADDON_API_HOST}:${apiPort}`, token: apiToken },
  };
  for (const [port, [table, key]] of Object.entries(PORT_KEYS)) {
    const moved = network[port];
    if (typeof moved === "number" && moved !== Number.parseInt(port)) {
      tableOf(doc, table)[key] = moved;
    }
  }
  for (const [name, [table, key]] of Object.entries(OPTION_KEYS)) {
    if (o[name] !== undefined && o[name] !== null) tableOf(doc, table)[key] = o[name];
  }
  // Off when unticked; when ticked, wanted: a failure to bind 443 is then an error in the log.
  if (o.push_listener !== undefined) tableOf(doc, "push_listener").enable = o.push_listener;
  // An empty list is no [[cameras]] at all (TOML has no empty array of tables).
  if (o.cameras !== undefined && !(Array.isArray(o.cameras) && o.cameras.length === 0)) {
    doc.cameras = o.cameras;
  }
  const env: Record<string, string> = {};
  if (mqtt !== null && o.mqtt !== false) {
    Object.assign(tableOf(doc, "mqtt"), { broker_addr: mqtt.host, port: mqtt.port });
    if (mqtt.username) env[MQTT_USERNAME_ENV] = mqtt.username;
    if (mqtt.password) env[MQTT_PASSWORD_ENV] = mqtt.password;
  }
  const extra = typeof o.extra_toml === "string" ? o.extra_toml.trim() : "";
  if (extra !== "") mergeInto(doc, parseExtra(extra));
  try {
    return { toml: stringifyToml(doc) + "\n", env };
  } catch (error) {
    // e.g. a null inside a camera entry: TOML cannot hold it.
    throw new AddonOptionsError(`the add-on options cannot be written as TOML: ${reason(error)}`);
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] : String(error);
}

/** The sub-table `name` of `doc`, created when absent. */
function tableOf(doc: Table, name: string): Table {
  const existing = doc[name];
  if (typeof existing === "object" && existing !== null && !Array.isArray(existing)) {
    return existing as Table;
  }
  return (doc[name] = {}) as Table;
}

/** Parses the `extra_toml` option, naming the option and the line when it is not TOML. */
function parseExtra(text: string): Table {
  try {
    return parseToml(text) as Table;
  } catch (error) {
    const where = error instanceof TomlError ? ` (line ${error.line}, column ${error.column})` : "";
    throw new AddonOptionsError(`option extra_toml is not valid TOML${where}: ${reason(error)}`);
  }
}

/** Copies `extra` into `doc`: tables are merged key by key, every other value replaces. */
function mergeInto(doc: Table, extra: Table): void {
  for (const [key, value] of Object.entries(extra)) {
    const isTable = typeof value === "object" && value !== null && !Array.isArray(value) &&
      !(value instanceof Date);
    if (isTable) mergeInto(tableOf(doc, key), value as Table);
    else doc[key] = value;
  }
}
