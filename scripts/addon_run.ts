/**
 * The Home Assistant add-on's start: reads /data/options.json, asks the Supervisor for the MQTT
 * service (the Mosquitto add-on's broker and login) and for the ports the user set in the add-on's
 * Network section (the watchdog asks the API on the one set for 9899/tcp), writes
 * /data/config.toml, and runs
 * `bairelay serve --config /data/config.toml` in this process (so the Supervisor's SIGTERM
 * reaches it). The translation itself is lib/addon/options.ts.
 *
 * Environment: SUPERVISOR_TOKEN (set by the Supervisor); BAIRELAY_ADDON_DATA overrides /data and
 * BAIRELAY_SUPERVISOR_URL the Supervisor's address (tests).
 */

import { join } from "node:path";
import { runCli } from "../cli/root.ts";
import {
  addonConfig,
  type AddonNetwork,
  AddonOptionsError,
  type MqttService,
} from "../lib/addon/options.ts";

/** How long the Supervisor may take to answer the MQTT service request. */
const SUPERVISOR_TIMEOUT_MS = 10_000;

const data = Deno.env.get("BAIRELAY_ADDON_DATA") || "/data";
const supervisor = Deno.env.get("BAIRELAY_SUPERVISOR_URL") || "http://supervisor";

/**
 * The `data` of the Supervisor's answer to GET `path`, or null (with `missing` logged) when it
 * has none or cannot be asked: outside Home Assistant (no SUPERVISOR_TOKEN) nothing is asked.
 */
async function supervisorData(path: string, missing: string): Promise<unknown> {
  const token = Deno.env.get("SUPERVISOR_TOKEN");
  if (!token) return null;
  try {
    const response = await fetch(`${supervisor}${path}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(SUPERVISOR_TIMEOUT_MS),
    });
    if (!response.ok) {
      await response.body?.cancel();
      console.error(`bairelay add-on: ${missing} (the Supervisor answered ${response.status})`);
      return null;
    }
    return (await response.json()).data;
  } catch (error) {
    console.error(`bairelay add-on: ${missing}: could not ask the Supervisor: ${error}`);
    return null;
  }
}

/** The MQTT service, or null when the Supervisor has none (no Mosquitto add-on) or is away. */
async function mqttService(): Promise<MqttService | null> {
  const data = await supervisorData(
    "/services/mqtt",
    "no MQTT service (install the Mosquitto broker add-on for MQTT)",
  );
  return data as MqttService | null;
}

/** The ports of the Network section; none (the defaults) when the Supervisor cannot say. */
async function addonNetwork(): Promise<AddonNetwork> {
  const data = await supervisorData(
    "/addons/self/info",
    "the Network section's ports are unknown, the defaults are used",
  ) as { network?: AddonNetwork } | null;
  return data?.network ?? {};
}

/** The API token: the option when set, else one generated once and kept in /data. */
function apiToken(option: unknown): string {
  if (typeof option === "string" && option !== "") return option;
  const file = join(data, "api_token");
  try {
    return Deno.readTextFileSync(file).trim();
  } catch {
    const token = Array.from(crypto.getRandomValues(new Uint8Array(24)))
      .map((byte) => byte.toString(16).padStart(2, "0")).join("");
    Deno.writeTextFileSync(file, token + "\n", { mode: 0o600 });
    return token;
  }
}

/** The options document; `AddonOptionsError` when it is missing or not JSON. */
function readOptions(path: string): Record<string, unknown> {
  try {
    return JSON.parse(Deno.readTextFileSync(path));
  } catch (error) {
    throw new AddonOptionsError(`cannot read ${path}: ${error}`);
  }
}

if (import.meta.main) {
  let config;
  try {
    const options = readOptions(join(data, "options.json"));
    const token = apiToken(options.api_token);
    config = addonConfig(options, await mqttService(), token, await addonNetwork());
  } catch (error) {
    if (!(error instanceof AddonOptionsError)) throw error;
    console.error(`bairelay add-on: ${error.message}`);
    Deno.exit(2);
  }
  const path = join(data, "config.toml");
  Deno.writeTextFileSync(path, config.toml, { mode: 0o600 });
  for (const [name, value] of Object.entries(config.env)) Deno.env.set(name, value);
  Deno.exit(await runCli(["serve", "--config", path, ...Deno.args]));
}
