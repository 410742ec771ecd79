/**
 * The MQTT bridge's part of the config file, `[mqtt]` and `[mqtt.discovery]`, and the
 * environment variables that carry the broker login.
 */

import { type ConfigReader, show, type Table } from "../config/reader.ts";
import { PORT_BOUNDS, type SectionSpec, type SectionValues } from "../config/spec.ts";

/** Environment variable holding the MQTT user name (overrides `[mqtt] credentials`). */
export const MQTT_USERNAME_ENV = "BAIRELAY_MQTT_USERNAME";
/** Environment variable holding the MQTT password (overrides `[mqtt] credentials`). */
export const MQTT_PASSWORD_ENV = "BAIRELAY_MQTT_PASSWORD";

/** `[mqtt]`. */
export const MQTT_SPEC = {
  broker_addr: { type: "string", help: "broker host name or IP (unset: no MQTT bridge)" },
  port: { ...PORT_BOUNDS, default: 1883, help: "broker port" },
  credentials: { type: "pair", help: "user name and password for the broker" },
  ca: { type: "string", help: "CA certificate file (PEM) of a TLS broker; turns TLS on" },
  client_auth: { type: "pair", help: "client certificate and key files (PEM)" },
  topic_prefix: { type: "string", default: "bairelay", help: "first level of every topic" },
} as const satisfies SectionSpec;

/** `[mqtt.discovery]`. */
export const MQTT_DISCOVERY_SPEC = {
  topic: { type: "string", default: "homeassistant", help: "Home Assistant's discovery prefix" },
} as const satisfies SectionSpec;

/** The MQTT bridge's settings; `brokerAddr` null = bridge off. */
export type MqttConfig = Pick<SectionValues<typeof MQTT_SPEC>, "port" | "topicPrefix"> & {
  brokerAddr: string | null;
  credentials: { username: string; password: string } | null;
  ca: string | null;
  clientAuth: { cert: string; key: string } | null;
  /** `[mqtt.discovery] topic`. */
  discoveryTopic: string;
};

/** `[mqtt]` and its `[mqtt.discovery]`; TLS file paths are made absolute. */
export function readMqtt(reader: ConfigReader, mqtt: Table, discovery: Table): MqttConfig {
  const values = reader.values(mqtt, MQTT_SPEC, "mqtt");
  const { topic } = reader.values(discovery, MQTT_DISCOVERY_SPEC, "mqtt.discovery");
  const ca = reader.nonEmpty("mqtt.ca", values.ca);
  const clientAuth = values.clientAuth;
  return {
    brokerAddr: reader.nonEmpty("mqtt.broker_addr", values.brokerAddr),
    port: values.port,
    credentials: credentials(reader, values.credentials),
    ca: ca === null ? null : reader.fileInConfig(ca),
    clientAuth: clientAuth === undefined ? null : {
      cert: reader.fileInConfig(clientAuth[0]),
      key: reader.fileInConfig(clientAuth[1]),
    },
    topicPrefix: topicPrefix(reader, "mqtt.topic_prefix", values.topicPrefix),
    discoveryTopic: topicPrefix(reader, "mqtt.discovery.topic", topic),
  };
}

/**
 * The broker login: `BAIRELAY_MQTT_USERNAME` / `BAIRELAY_MQTT_PASSWORD` override the file's
 * `credentials` one by one (environment > file; empty variables count as unset), so a
 * container or unit file can keep the secret out of the config.
 */
function credentials(
  reader: ConfigReader,
  file: readonly [string, string] | undefined,
): { username: string; password: string } | null {
  const username = reader.env.vars[MQTT_USERNAME_ENV] || file?.[0];
  const password = reader.env.vars[MQTT_PASSWORD_ENV] || file?.[1];
  if (username === undefined && password === undefined) return null;
  if (username === undefined || password === undefined) {
    reader.fail(
      "mqtt.credentials",
      `${username === undefined ? MQTT_USERNAME_ENV : MQTT_PASSWORD_ENV} is missing: ` +
        `${MQTT_USERNAME_ENV} and ${MQTT_PASSWORD_ENV} go together (or set [mqtt] credentials)`,
    );
    return null;
  }
  return { username, password };
}

/** An MQTT topic prefix: non-empty, no wildcards, no leading or trailing slash. */
function topicPrefix(reader: ConfigReader, key: string, value: string): string {
  if (value === "" || /[+#\s]/.test(value) || value.startsWith("/") || value.endsWith("/")) {
    reader.fail(
      key,
      `must be a non-empty MQTT topic without +, #, spaces or a leading/trailing "/" (got ${
        show(value)
      })`,
    );
  }
  return value;
}
