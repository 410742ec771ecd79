/**
 * Keeps Home Assistant's discovery on the broker current: the bridge's device and each
 * camera's device, an empty message for a camera the table forgot, the leftovers a named
 * camera has under the UID it was published with before, and the migration of the
 * per-entity messages an earlier bairelay left retained. The messages themselves are built
 * by discovery.ts.
 */

import { getLogger } from "@logtape/logtape";
import type { CameraRecord } from "./camera_states.ts";
import {
  bridgeDiscovery,
  cameraDiscovery,
  deviceDiscoveryTopic,
  deviceId,
  type DiscoveryContext,
  isOwnLegacyPayload,
  legacyTopic,
  MIGRATE_PAYLOAD,
} from "./discovery.ts";
import type { Publisher } from "./session.ts";
import { CAMERA_STATE_TOPICS, topicSegment } from "./topics.ts";

const log = getLogger(["bairelay", "mqtt"]);

/** A retained per-entity discovery message of an earlier version: its topic and camera node. */
interface LegacyMessage {
  topic: string;
  node: string;
}

/** Publishes discovery for one bridge and migrates what earlier versions left. */
export class DiscoveryPublisher {
  readonly #context: DiscoveryContext;
  readonly #publisher: Publisher;
  readonly #cameras: ReadonlyMap<string, CameraRecord>;
  /** Per-entity messages of earlier versions found on this connection before it was ready. */
  #found: LegacyMessage[] = [];

  constructor(
    context: DiscoveryContext,
    publisher: Publisher,
    cameras: ReadonlyMap<string, CameraRecord>,
  ) {
    this.#context = context;
    this.#publisher = publisher;
    this.#cameras = cameras;
  }

  /** A new connection: nothing found on it yet, no leftovers cleared on it yet. */
  connected(): void {
    this.#found = [];
    for (const record of this.#cameras.values()) record.clearedUids.clear();
  }

  /**
   * The connection is ready: migrates what was found before (`publishDevices` publishes
   * every device in between, as the migration needs).
   */
  ready(publishDevices: () => void): void {
    const found = this.#found;
    this.#found = [];
    this.#migrateLegacy(found, publishDevices);
  }

  /**
   * Handles a message on a per-entity discovery topic of an earlier build; false when
   * `topic` is not one. Before the connection is ready such messages are collected (see
   * `ready`), afterwards they migrate at once.
   */
  legacyMessage(topic: string, payload: Uint8Array, retained: boolean): boolean {
    const node = legacyTopic(topic, this.#context.discoveryPrefix);
    if (node === undefined) return false;
    // Only what the broker kept from an earlier run; the empty payloads we send come back live.
    const text = new TextDecoder().decode(payload);
    if (!retained || !isOwnLegacyPayload(text, this.#context.topics)) return true;
    if (!this.#publisher.ready) this.#found.push({ topic, node });
    else {
      this.#migrateLegacy([{ topic, node }], (cameras) => {
        for (const record of cameras) this.publishDevice(record);
      });
    }
    return true;
  }

  /** The bridge's own device (before the cameras, which name it as their `via_device`). */
  publishBridge(): void {
    const { topic, payload } = bridgeDiscovery(this.#context);
    this.#publisher.publish(topic, payload);
  }

  /** The camera's device message. */
  publishDevice(record: CameraRecord): void {
    const { topic, payload } = cameraDiscovery(record, this.#context);
    this.#publisher.publish(topic, payload);
  }

  /** Removes a forgotten camera's device. */
  remove(record: CameraRecord): void {
    this.#publisher.publish(this.#deviceTopic(record.uid), "");
  }

  /** Clears what the camera left under each of its earlier UIDs (once per connection). */
  clearLeftovers(record: CameraRecord): void {
    for (const uid of record.uids) this.clearUidTopics(record, uid);
  }

  /**
   * Clears, once per connection, what a named camera left behind when it was published under
   * `uid`: that identity's device (unless it is this camera's own) and its state topics.
   */
  clearUidTopics(record: CameraRecord, uid: string): void {
    const segment = topicSegment(uid);
    if (segment === record.segment || record.clearedUids.has(uid) || !this.#publisher.ready) {
      return;
    }
    record.clearedUids.add(uid);
    if (deviceId(uid) !== deviceId(record.uid)) this.#publisher.publish(this.#deviceTopic(uid), "");
    for (const what of CAMERA_STATE_TOPICS) {
      this.#publisher.publish(this.#context.topics.state(segment, what), "");
    }
  }

  #deviceTopic(uid: string): string {
    return deviceDiscoveryTopic(this.#context.discoveryPrefix, deviceId(uid));
  }

  /**
   * Home Assistant's documented migration of per-entity discovery messages that an earlier
   * bairelay left retained (`found`: each topic and the camera node it names):
   * `{"migrate_discovery": true}` on every old topic (Home Assistant unloads the entity but
   * keeps its settings), then `publishDevices` (the device messages hold the same entities,
   * which Home Assistant takes over), then an empty retained payload on every old topic,
   * which removes it from the broker. A camera this run does not know (neither configured
   * nor registered) is not carried over: its old messages are removed, so Home Assistant
   * keeps no orphan.
   */
  #migrateLegacy(
    found: readonly LegacyMessage[],
    publishDevices: (cameras: Set<CameraRecord>) => void,
  ): void {
    const migrating = new Set<CameraRecord>();
    const old: string[] = [];
    for (const { topic, node } of found) {
      const record = [...this.#cameras.values()].find((r) => deviceId(r.uid) === node);
      if (record) {
        log.info("Moving Home Assistant discovery of {camera} from {topic} to its device", {
          camera: record.name ?? record.uid,
          topic,
        });
        this.#publisher.publish(topic, MIGRATE_PAYLOAD, false);
        migrating.add(record);
      } else {
        log.info("Removing Home Assistant discovery {topic} of a camera not known to this run", {
          topic,
        });
      }
      old.push(topic);
    }
    publishDevices(migrating);
    for (const topic of old) this.#publisher.publish(topic, "");
  }
}
