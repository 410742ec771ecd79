/**
 * MQTT secrets from the environment (`BAIRELAY_MQTT_USERNAME`, `BAIRELAY_MQTT_PASSWORD`), for
 * containers and service units: environment over file, each half on its own, empty counts as
 * unset, and half a login is an error naming the missing variable. (serve logging in to a real
 * broker with them: tests/metrics_serve_test.ts.)
 */

import assert from "node:assert/strict";
import { type ConfigEnv, ConfigError, loadConfig } from "../lib/config.ts";
import { MQTT_PASSWORD_ENV, MQTT_USERNAME_ENV } from "../lib/mqtt/config.ts";

const FILE = "/etc/bairelay/test.toml";
const BROKER = '[mqtt]\nbroker_addr = "127.0.0.1"\n';

function credentials(text: string, vars: Record<string, string>) {
  const env: ConfigEnv = { uid: 1000, vars: { HOME: "/home/ann", ...vars } };
  return loadConfig({ path: FILE, text, env }).mqtt.credentials;
}

Deno.test("config env: BAIRELAY_MQTT_* give the login, over the file's", () => {
  const both = { [MQTT_USERNAME_ENV]: "env-user", [MQTT_PASSWORD_ENV]: "env-pw" };
  assert.deepEqual(credentials(BROKER, both), { username: "env-user", password: "env-pw" });
  const file = BROKER + 'credentials = ["file-user", "file-pw"]\n';
  assert.deepEqual(credentials(file, both), { username: "env-user", password: "env-pw" });
  assert.deepEqual(
    credentials(file, { [MQTT_PASSWORD_ENV]: "env-pw" }),
    { username: "file-user", password: "env-pw" },
  );
  assert.deepEqual(
    credentials(file, { [MQTT_USERNAME_ENV]: "", [MQTT_PASSWORD_ENV]: "" }),
    { username: "file-user", password: "file-pw" },
  );
  assert.equal(credentials(BROKER, {}), null);
});

Deno.test("config env: half a login from the environment names the missing variable", () => {
  assert.throws(
    () => credentials(BROKER, { [MQTT_USERNAME_ENV]: "env-user" }),
    (error) =>
      error instanceof ConfigError && error.problems.length === 1 &&
      error.problems[0].key === "mqtt.credentials" &&
      /BAIRELAY_MQTT_PASSWORD is missing/.test(error.problems[0].rule),
  );
});
