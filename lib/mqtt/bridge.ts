/**
 * The MQTT bridge: publishes each camera's motion, registration, last heartbeat, last motion,
 * recent wakes, last wake and its day from the history (wakes and motion today, last woken
 * by) as retained QoS 1 topics, announces the bridge and the cameras to
 * Home Assistant (device-based MQTT discovery, migrating what earlier versions published per
 * entity), and turns `{prefix}/{camera}/control/wakeup` into wakes. It is optional and never
 * in the way: while the broker is unreachable the rest of `serve` keeps working, the bridge
 * reconnects with backoff, and on every (re)connect it publishes the current state, so nothing
 * that happened during an outage is lost.
 *
 * This file wires the roles together: the session (session.ts), the camera states
 * (camera_states.ts), discovery and its migration (discovery_publisher.ts) and the wakeup
 * command (wakeup.ts).
 */

import { getLogger } from "@logtape/logtape";
import { type Clock, systemClock } from "../clock.ts";
import type { CameraDaySummary } from "../history/store.ts";
import {
  type CameraHistory,
  type CameraMqttState,
  type CameraRecord,
  type CameraRef,
  CameraStates,
  type CameraStatesOptions,
} from "./camera_states.ts";
import { legacyFilters } from "./discovery.ts";
import { DiscoveryPublisher } from "./discovery_publisher.ts";
import { type BridgeStatus, MqttSession, type SessionOptions } from "./session.ts";
import { Topics } from "./topics.ts";
import { runWakeup, type Wake } from "./wakeup.ts";

export type { CameraHistory, CameraMqttState, CameraRef } from "./camera_states.ts";
export type { BridgeConnection, BridgeStatus } from "./session.ts";

const log = getLogger(["bairelay", "mqtt"]);

/** Broker and topics, as in the `[mqtt]` config section, and the bounds of the state table. */
export interface MqttBridgeOptions extends SessionOptions, CameraStatesOptions {
  topicPrefix: string;
  /** Home Assistant discovery prefix ("homeassistant"). */
  discoveryTopic: string;
  /**
   * Where bairelay's status page can be reached (`http://host:port/`), or null: the bridge
   * device's configuration URL in Home Assistant.
   */
  statusUrl?: string | null;
}

/** What the bridge calls back into. */
export interface MqttBridgeDeps {
  /** Wakes a camera by UID or configured name (the wake server's wake(target, "mqtt")). */
  wake: Wake;
  /** Time and timers of the wake count and the last-motion time (default: the real ones). */
  clock?: Clock;
}

/**
 * A running bridge. Create it with `MqttBridge.start`; feed it with `declare`, `setMotion`,
 * `setRegistered`, `setHeartbeat`, `recordWake`, `setHistory` and `setDaySummary`; stop it
 * with `close`.
 */
export class MqttBridge {
  readonly #deps: MqttBridgeDeps;
  readonly #topics: Topics;
  readonly #homeAssistantStatus: string;
  readonly #session: MqttSession;
  readonly #states: CameraStates;
  readonly #discovery: DiscoveryPublisher;

  private constructor(options: MqttBridgeOptions, deps: MqttBridgeDeps) {
    this.#deps = deps;
    this.#topics = new Topics(options.topicPrefix);
    this.#homeAssistantStatus = `${options.discoveryTopic}/status`;
    this.#session = new MqttSession(options, this.#topics.availability, {
      subscriptions: [
        { filters: [this.#topics.wakeupFilter, this.#homeAssistantStatus], qos: 1 },
        // The per-entity messages an earlier version left retained come right after this
        // SUBACK (QoS 0: not held back by the in-flight window), and the broker acknowledges
        // the "online" published next only after them: so the devices go out after any
        // migration has begun, in the order Home Assistant documents. (Any that come later
        // still migrate.)
        { filters: legacyFilters(options.discoveryTopic), qos: 0 },
      ],
      connected: (reconnect) => this.#onConnected(reconnect),
      ready: () => this.#discovery.ready(() => this.#publishAll()),
      message: (topic, payload, retained) => this.#onMessage(topic, payload, retained),
    });
    this.#states = new CameraStates(
      options,
      this.#topics,
      this.#session,
      deps.clock ?? systemClock,
      {
        added: (record) => this.#publishCamera(record),
        uidAdded: (record, uid) => this.#discovery.clearUidTopics(record, uid),
        forgotten: (record) => this.#discovery.remove(record),
      },
    );
    this.#discovery = new DiscoveryPublisher(
      {
        topics: this.#topics,
        discoveryPrefix: options.discoveryTopic,
        statusUrl: options.statusUrl ?? null,
      },
      this.#session,
      this.#states.records,
    );
  }

  /**
   * Starts connecting to the broker in the background and returns at once. Throws
   * MqttConfigError when a TLS file cannot be read; a broker that is down is not an error.
   */
  static start(options: MqttBridgeOptions, deps: MqttBridgeDeps): MqttBridge {
    const bridge = new MqttBridge(options, deps);
    bridge.#session.connect();
    return bridge;
  }

  /** Where the bridge connects, e.g. `mqtt://127.0.0.1:1883`. */
  get broker(): string {
    return this.#session.broker;
  }

  /** Connection state and last error. */
  status(): BridgeStatus {
    return this.#session.status();
  }

  /** The state of every camera the bridge publishes (plain data). */
  cameras(): CameraMqttState[] {
    return this.#states.snapshot();
  }

  /** Announces a configured camera (so Home Assistant shows it before it registers). */
  declare(camera: CameraRef): void {
    this.#states.declare(camera);
  }

  /** Publishes the camera's motion state; motion starting at `at` is its last motion. */
  setMotion(camera: CameraRef, motion: boolean, at?: number): void {
    this.#states.setMotion(camera, motion, at);
  }

  /** Publishes whether the camera is registered (fresh heartbeat) or not. */
  setRegistered(camera: CameraRef, registered: boolean): void {
    this.#states.setRegistered(camera, registered);
  }

  /** Publishes the camera's last heartbeat time (and that it is registered). */
  setHeartbeat(camera: CameraRef, at: number): void {
    this.#states.setHeartbeat(camera, at);
  }

  /** Counts a wake burst started for the camera at `at`: its wake count and last wake. */
  recordWake(camera: CameraRef, at?: number): void {
    this.#states.recordWake(camera, at);
  }

  /**
   * Restores the last motion and last wake a camera had before this run (from the registry),
   * keeping whichever is newer.
   */
  setHistory(camera: CameraRef, history: CameraHistory): void {
    this.#states.setHistory(camera, history);
  }

  /**
   * Publishes the camera's day from its history: Wakes today, Motion today, Last woken by
   * (the requester's label, its kind and time as attributes), and the history's wakes of the
   * last hour, which Wakes in the last hour shows when it is more than this run counted (so
   * a restart does not reset it to 0). Call it at start for each camera with a history, after
   * each wake or motion, and when the day turns.
   */
  setDaySummary(camera: CameraRef, summary: CameraDaySummary): void {
    this.#states.setDaySummary(camera, summary);
  }

  /** Publishes "offline", disconnects and stops reconnecting; resolves within about a second. */
  async close(): Promise<void> {
    this.#states.close();
    await this.#session.close();
  }

  #onConnected(reconnect: boolean): void {
    log.info(
      reconnect
        ? "MQTT reconnected to {broker}; publishing the current state of {count} cameras"
        : "MQTT connected to {broker}",
      { broker: this.#session.broker, count: this.#states.records.size },
    );
    this.#discovery.connected();
  }

  /** The bridge device and its count, then every camera: what a (re)connect publishes. */
  #publishAll(): void {
    this.#publishBridge();
    for (const record of this.#states.records.values()) this.#publishCamera(record);
  }

  #publishBridge(): void {
    this.#discovery.publishBridge();
    this.#states.publishRegisteredCount();
  }

  #publishCamera(record: CameraRecord): void {
    this.#discovery.clearLeftovers(record);
    this.#discovery.publishDevice(record);
    this.#states.publishStates(record);
  }

  #onMessage(topic: string, payload: Uint8Array, retained: boolean): void {
    if (topic === this.#homeAssistantStatus) {
      const text = new TextDecoder().decode(payload).trim();
      if (text === "online" && !retained) {
        log.info("Home Assistant is online: publishing discovery for {count} cameras", {
          count: this.#states.records.size,
        });
        this.#publishBridge();
        for (const record of this.#states.records.values()) this.#discovery.publishDevice(record);
      }
      return;
    }
    if (this.#discovery.legacyMessage(topic, payload, retained)) return;
    const camera = this.#topics.wakeupTarget(topic);
    if (camera === undefined) return;
    const known = this.#states.records.get(camera);
    const target = known ? (known.name ?? known.uid) : camera;
    runWakeup({ topic, camera, target, retained }, this.#deps.wake);
  }
}
