/**
 * `bairelay serve --check-config`: what a validated configuration would run, as plain lines,
 * so a unit file, a container or the Home Assistant add-on can be checked before it starts.
 */

import type { Config } from "../lib/config.ts";
import { formatListen } from "../lib/net/listen_address.ts";

/**
 * The listeners, state directory, cameras and MQTT broker `serve` would use with `config`,
 * one fact per line (nothing is bound or read: a dry run of the configuration only).
 */
export function describeConfig(config: Config): string[] {
  const w = config.wakeServer;
  const push = config.pushListener;
  const dns = config.dns;
  const mqtt = config.mqtt;
  const onOff = (on: boolean, what: string) => on ? what : "off";
  const lines = [
    `config: ${config.source ?? "(built-in defaults)"}`,
    `wake server: ${
      onOff(
        w.enable,
        `middleman udp ${formatListen({ host: config.bind, port: w.middlemanPort })}, ` +
          `register udp ${formatListen({ host: config.bind, port: w.registerPort })}, ` +
          `max_wakes_per_hour ${w.maxWakesPerHour}`,
      )
    }`,
    `push listener: ${
      onOff(
        push.enable,
        `tcp ${formatListen({ host: push.bind, port: push.port })}` +
          (push.explicit ? " (required: a bind failure stops serve)" : " (off if it cannot bind)"),
      )
    }`,
    `dns responder: ${
      onOff(dns.enable, `udp+tcp ${formatListen({ host: dns.bind, port: dns.port })}`)
    }`,
    `api: ${
      config.api.listen
        ? `http://${formatListen(config.api.listen)}${config.api.token ? " (token set)" : ""}`
        : "off"
    }`,
    `mqtt: ${
      mqtt.brokerAddr
        ? `${mqtt.ca ? "mqtts" : "mqtt"}://${
          formatListen({ host: mqtt.brokerAddr, port: mqtt.port })
        }` +
          (mqtt.credentials ? ` as "${mqtt.credentials.username}"` : "") +
          `, topics ${mqtt.topicPrefix}/..., discovery ${mqtt.discoveryTopic}/...`
        : "off"
    }`,
    `state directory: ${config.stateDir}`,
    `log: ${config.log.level}, ${config.log.format}`,
    `cameras: ${
      config.cameras.length === 0
        ? "none named"
        : config.cameras.map((camera) => `${camera.name} (${camera.uid})`).join(", ")
    }`,
  ];
  return lines;
}
