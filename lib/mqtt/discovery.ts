/**
 * Home Assistant MQTT discovery in the device-based format (Home Assistant 2024.11 and later):
 * one retained message per device on `{discovery}/device/{node}/config`, carrying the device
 * (`dev`), the origin (`o`) and every entity (`cmps`). Two kinds of device:
 *
 * - the bridge (bairelay itself: version, a link to its status page, a "Cameras registered"
 *   sensor and a Status connectivity sensor reading `{prefix}/status`), which every camera
 *   names as its `via_device`;
 * - one per camera (node `bairelay_{UID}`): Motion, Registered, Wake, Last heartbeat,
 *   Last motion, Wakes (bursts started in the last hour), Last wake, and from the camera's
 *   history Wakes today, Motion today and Last woken by (its kind and time as attributes).
 *
 * No component has a `value_template`: a requester's label (a configured name or an address
 * from the network) is shown as the plain text it is, never evaluated as a template.
 *
 * Every entity is available while the bridge's `{prefix}/status` is "online" (except Status,
 * which shows that topic as connected or disconnected); Motion and Wake also need the
 * camera's `registered` topic to be "on" (`availability_mode: all`), so a camera that never
 * registered shows "unavailable", not a false "Clear".
 *
 * Home Assistant before 2026.5 ignores the device-level `qos` (it subscribed and sent wakes at
 * QoS 0), so every component carries it too. Entity ids are suggested twice, as
 * `default_entity_id` (honoured from 2025.10) and `object_id` (before it; ignored from
 * 2026.4), both from the camera's configured name (else its UID), so old and new Home
 * Assistant create the same readable ids (`binary_sensor.garden_motion`). They apply only to
 * entities Home Assistant has not seen: it keys entities on `unique_id`, which never changes.
 *
 * Earlier builds gave each entity a message of its own
 * (`{discovery}/{platform}/{node}/{key}/config`, the legacy topics). The device message keeps
 * each such entity's `unique_id`, uses the old node as its node and the old object id as the
 * entity's key under `cmps`, so Home Assistant sees the same discovery id and takes the entity
 * over with its history and settings.
 */

import { isWildcard } from "../net/ip.ts";
import { VERSION } from "../version.ts";
import { AVAILABILITY, type CameraStateTopic, OFF, ON, type Topics } from "./topics.ts";

/** The payload the wake button sends (any payload wakes; this one reads well in logs). */
export const WAKE_PAYLOAD = "wake";

/** Step one of Home Assistant's documented migration, sent to each per-entity topic. */
export const MIGRATE_PAYLOAD = JSON.stringify({ migrate_discovery: true });

/** The QoS Home Assistant uses for the state topics it reads and the wakeups it sends. */
const QOS = 1;

/** A message to publish (retained unless it says otherwise). */
export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

/** Which camera the payload describes. */
export interface DiscoveryCamera {
  /** Topic level of the camera: the configured name, or the UID. */
  segment: string;
  uid: string;
  name?: string;
}

/** What every discovery message of one bridge shares. */
export interface DiscoveryContext {
  topics: Topics;
  /** Home Assistant's discovery prefix, e.g. "homeassistant". */
  discoveryPrefix: string;
  /**
   * Where bairelay's status page (`GET /` of its HTTP API) can be reached from the network,
   * or null when the API is off: the bridge device's configuration URL and the origin's
   * support URL.
   */
  statusUrl: string | null;
}

/** The characters Home Assistant allows in a discovery topic's node and object ids. */
function nodeSafe(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, "_");
}

/** The Home Assistant device id (and discovery node) of a camera: derived from the UID. */
export function deviceId(uid: string): string {
  return `bairelay_${nodeSafe(uid)}`;
}

/** The Home Assistant device id of the bridge, derived from its topic prefix. */
export function bridgeDeviceId(topicPrefix: string): string {
  return `bairelay_bridge_${nodeSafe(topicPrefix)}`;
}

/** `{discovery}/device/{node}/config`. */
export function deviceDiscoveryTopic(discoveryPrefix: string, node: string): string {
  return `${discoveryPrefix}/device/${node}/config`;
}

/** One entity of a camera device, as a row of the table below. */
interface CameraEntity {
  /** Its key under `cmps` (for the legacy four: the object id of its old topic). */
  key: string;
  platform: "binary_sensor" | "button" | "sensor";
  /** Published by earlier builds as a per-entity discovery message. */
  legacy: boolean;
  /** Also needs the camera registered to be available. */
  needsRegistered: boolean;
  /** Its state topic, if it has one. */
  state?: CameraStateTopic;
  /** Its JSON attributes topic, if it has one. */
  attributes?: CameraStateTopic;
  config: Record<string, unknown>;
}

const CAMERA_ENTITIES: readonly CameraEntity[] = [
  {
    key: "motion",
    platform: "binary_sensor",
    legacy: true,
    needsRegistered: true,
    state: "motion",
    config: { name: "Motion", device_class: "motion", payload_on: ON, payload_off: OFF },
  },
  {
    key: "registered",
    platform: "binary_sensor",
    legacy: true,
    needsRegistered: false,
    state: "registered",
    config: {
      name: "Registered",
      device_class: "connectivity",
      entity_category: "diagnostic",
      payload_on: ON,
      payload_off: OFF,
    },
  },
  {
    key: "wake",
    platform: "button",
    legacy: true,
    needsRegistered: true,
    config: { name: "Wake", payload_press: WAKE_PAYLOAD },
  },
  {
    key: "last_heartbeat",
    platform: "sensor",
    legacy: true,
    needsRegistered: false,
    state: "last_heartbeat",
    config: { name: "Last heartbeat", device_class: "timestamp", entity_category: "diagnostic" },
  },
  {
    key: "last_motion",
    platform: "sensor",
    legacy: false,
    needsRegistered: false,
    state: "last_motion",
    config: { name: "Last motion", device_class: "timestamp" },
  },
  {
    key: "wakes",
    platform: "sensor",
    legacy: false,
    needsRegistered: false,
    state: "wakes",
    config: {
      name: "Wakes in the last hour",
      icon: "mdi:alarm",
      state_class: "measurement",
      unit_of_measurement: "wakes",
    },
  },
  {
    key: "last_wake",
    platform: "sensor",
    legacy: false,
    needsRegistered: false,
    state: "last_wake",
    config: { name: "Last wake", device_class: "timestamp" },
  },
  {
    key: "wakes_today",
    platform: "sensor",
    legacy: false,
    needsRegistered: false,
    state: "wakes_today",
    config: {
      name: "Wakes today",
      icon: "mdi:alarm",
      // Falls to 0 at midnight, which total_increasing reads as a new cycle.
      state_class: "total_increasing",
      unit_of_measurement: "wakes",
    },
  },
  {
    key: "motion_today",
    platform: "sensor",
    legacy: false,
    needsRegistered: false,
    state: "motion_today",
    config: {
      name: "Motion today",
      icon: "mdi:motion-sensor",
      state_class: "total_increasing",
      unit_of_measurement: "events",
    },
  },
  {
    key: "last_woken_by",
    platform: "sensor",
    legacy: false,
    needsRegistered: false,
    state: "last_woken_by",
    attributes: "last_woken_by_attributes",
    config: { name: "Last woken by", icon: "mdi:account-arrow-right" },
  },
];

function availability(topic: string, online: string, offline: string) {
  return { topic, payload_available: online, payload_not_available: offline };
}

/** The origin block every message carries. */
function origin(context: DiscoveryContext): Record<string, unknown> {
  return {
    name: "bairelay",
    sw_version: VERSION,
    ...(context.statusUrl === null ? {} : { support_url: context.statusUrl }),
  };
}

/**
 * The object id part of an entity id, as Home Assistant slugs names: lower case, every run of
 * other characters one `_`, none at either end.
 */
function objectId(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
}

/**
 * An entity's ids: its `unique_id` (what Home Assistant keys on; as earlier builds had it),
 * and the entity id to start with, `{platform}.{base}_{key}` (see the top of this file).
 */
function ids(
  platform: string,
  uniqueId: string,
  base: string,
  key: string,
): Record<string, string> {
  const object = objectId(`${base}_${key}`);
  return { unique_id: uniqueId, default_entity_id: `${platform}.${object}`, object_id: object };
}

/** The retained discovery message of one camera's device and its entities. */
export function cameraDiscovery(
  camera: DiscoveryCamera,
  context: DiscoveryContext,
): DiscoveryMessage {
  const node = deviceId(camera.uid);
  const { topics } = context;
  const bridgeOnline = availability(topics.availability, AVAILABILITY.online, AVAILABILITY.offline);
  const registered = availability(topics.state(camera.segment, "registered"), ON, OFF);
  const cmps: Record<string, Record<string, unknown>> = {};
  for (const entity of CAMERA_ENTITIES) {
    cmps[entity.key] = {
      p: entity.platform,
      ...ids(entity.platform, `${node}_${entity.key}`, camera.name ?? camera.uid, entity.key),
      qos: QOS,
      ...entity.config,
      ...(entity.state === undefined
        ? { command_topic: topics.wakeup(camera.segment) }
        : { state_topic: topics.state(camera.segment, entity.state) }),
      ...(entity.attributes === undefined
        ? {}
        : { json_attributes_topic: topics.state(camera.segment, entity.attributes) }),
      ...(entity.needsRegistered
        ? { availability: [bridgeOnline, registered], availability_mode: "all" }
        : {}),
    };
  }
  const payload = {
    dev: {
      identifiers: [node],
      name: camera.name ?? camera.uid,
      manufacturer: "Reolink",
      model: "Battery camera",
      serial_number: camera.uid,
      via_device: bridgeDeviceId(topics.prefix),
    },
    o: origin(context),
    availability: [bridgeOnline],
    qos: QOS,
    cmps,
  };
  return {
    topic: deviceDiscoveryTopic(context.discoveryPrefix, node),
    payload: JSON.stringify(payload),
  };
}

/** The retained discovery message of the bridge device (bairelay itself). */
export function bridgeDiscovery(context: DiscoveryContext): DiscoveryMessage {
  const { topics } = context;
  const node = bridgeDeviceId(topics.prefix);
  const bridgeOnline = availability(topics.availability, AVAILABILITY.online, AVAILABILITY.offline);
  const payload = {
    dev: {
      identifiers: [node],
      name: "bairelay",
      manufacturer: "bairelay",
      model: "Local cloud for Reolink battery cameras",
      sw_version: VERSION,
      ...(context.statusUrl === null ? {} : { configuration_url: context.statusUrl }),
    },
    o: origin(context),
    qos: QOS,
    // Availability per component, not shared: Status must stay available to show "offline".
    cmps: {
      cameras_registered: {
        p: "sensor",
        ...ids("sensor", `${node}_cameras_registered`, topics.prefix, "cameras_registered"),
        qos: QOS,
        name: "Cameras registered",
        icon: "mdi:cctv",
        state_class: "measurement",
        state_topic: topics.camerasRegistered,
        availability: [bridgeOnline],
      },
      status: {
        p: "binary_sensor",
        ...ids("binary_sensor", `${node}_status`, topics.prefix, "status"),
        qos: QOS,
        name: "Status",
        device_class: "connectivity",
        entity_category: "diagnostic",
        state_topic: topics.availability,
        payload_on: AVAILABILITY.online,
        payload_off: AVAILABILITY.offline,
      },
    },
  };
  return {
    topic: deviceDiscoveryTopic(context.discoveryPrefix, node),
    payload: JSON.stringify(payload),
  };
}

/** The entities earlier builds announced with a discovery message each. */
const LEGACY_ENTITIES = CAMERA_ENTITIES.filter((entity) => entity.legacy);

/**
 * Subscriptions that find the per-entity discovery messages earlier versions left retained:
 * one per old entity, any node (filtered by `legacyTopic`).
 */
export function legacyFilters(discoveryPrefix: string): string[] {
  return LEGACY_ENTITIES.map((e) => `${discoveryPrefix}/${e.platform}/+/${e.key}/config`);
}

/**
 * The camera node of a per-entity discovery topic earlier builds published
 * (`{discovery}/{platform}/bairelay_{UID}/{key}/config`), or undefined for any other topic.
 */
export function legacyTopic(topic: string, discoveryPrefix: string): string | undefined {
  const head = `${discoveryPrefix}/`;
  if (!topic.startsWith(head)) return undefined;
  const levels = topic.slice(head.length).split("/");
  if (levels.length !== 4 || levels[3] !== "config") return undefined;
  const [platform, node, key] = levels;
  const known = LEGACY_ENTITIES.some((e) => e.platform === platform && e.key === key);
  return known && node.startsWith("bairelay_") ? node : undefined;
}

/**
 * True when a retained per-entity discovery payload is one this bridge published: its
 * availability topic is this bridge's `{prefix}/status` (another bairelay with another
 * prefix on the same broker keeps its own).
 */
export function isOwnLegacyPayload(payload: string, topics: Topics): boolean {
  try {
    const config = JSON.parse(payload);
    return typeof config === "object" && config !== null &&
      config.availability_topic === topics.availability;
  } catch {
    return false;
  }
}

/**
 * The URL of bairelay's status page (`GET /` of the HTTP API) for Home Assistant's "Visit"
 * link: the API's own address
 * when it is a specific one, under a wildcard bind the first advertised (non-loopback)
 * address, and a loopback address only when that is all there is. Null when the API is off
 * or its port is not known before it binds (port 0).
 */
export function statusUrl(
  api: { host: string; port: number } | null,
  advertised: readonly string[],
): string | null {
  if (api === null || api.port === 0) return null; // port 0: chosen at bind time, not known
  const host = isWildcard(api.host) ? advertised[0] ?? "127.0.0.1" : api.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${api.port}/`;
}
