/**
 * Home Assistant MQTT discovery payloads: per camera one device (identified by its UID,
 * manufacturer Reolink) with a motion sensor, a connectivity sensor (registered with this
 * server), a wake button and a last-heartbeat timestamp, all available while the bridge's
 * `{prefix}/status` says online.
 */

import denoJson from "../../deno.json" with { type: "json" };
import { AVAILABILITY, OFF, ON, type Topics, topicSegment } from "./topics.ts";

/** The payload the wake button sends (any payload wakes; this one reads well in logs). */
export const WAKE_PAYLOAD = "wake";

/** A retained message to publish. */
export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

/** Which camera the payloads describe. */
export interface DiscoveryCamera {
  /** Topic level of the camera: the configured name, or the UID. */
  segment: string;
  uid: string;
  name?: string;
}

/** The Home Assistant device id of a camera: stable across restarts, derived from the UID. */
export function deviceId(uid: string): string {
  return `bairelay_${topicSegment(uid)}`;
}

/**
 * The four discovery messages of `camera` (topics under `discoveryPrefix`, e.g.
 * "homeassistant"); each payload is a JSON document Home Assistant turns into an entity.
 */
export function discoveryMessages(
  camera: DiscoveryCamera,
  topics: Topics,
  discoveryPrefix: string,
): DiscoveryMessage[] {
  const node = deviceId(camera.uid);
  const common = {
    availability_topic: topics.availability,
    payload_available: AVAILABILITY.online,
    payload_not_available: AVAILABILITY.offline,
    device: {
      identifiers: [node],
      name: camera.name ?? camera.uid,
      manufacturer: "Reolink",
      model: "Battery camera",
      serial_number: camera.uid,
    },
    origin: { name: "bairelay", sw_version: denoJson.version },
  };
  const entities: { component: string; object: string; config: Record<string, unknown> }[] = [
    {
      component: "binary_sensor",
      object: "motion",
      config: {
        name: "Motion",
        device_class: "motion",
        state_topic: topics.state(camera.segment, "motion"),
        payload_on: ON,
        payload_off: OFF,
      },
    },
    {
      component: "binary_sensor",
      object: "registered",
      config: {
        name: "Registered",
        device_class: "connectivity",
        entity_category: "diagnostic",
        state_topic: topics.state(camera.segment, "registered"),
        payload_on: ON,
        payload_off: OFF,
      },
    },
    {
      component: "button",
      object: "wake",
      config: {
        name: "Wake",
        command_topic: topics.wakeup(camera.segment),
        payload_press: WAKE_PAYLOAD,
      },
    },
    {
      component: "sensor",
      object: "last_heartbeat",
      config: {
        name: "Last heartbeat",
        device_class: "timestamp",
        entity_category: "diagnostic",
        state_topic: topics.state(camera.segment, "last_heartbeat"),
      },
    },
  ];
  return entities.map(({ component, object, config }) => ({
    topic: `${discoveryPrefix}/${component}/${node}/${object}/config`,
    payload: JSON.stringify({ ...config, unique_id: `${node}_${object}`, ...common }),
  }));
}
