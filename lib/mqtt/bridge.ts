/**
 * The MQTT bridge: publishes each camera's motion, registration, last heartbeat, last motion,
 * recent wakes and last wake as retained QoS 1 topics, announces the bridge and the cameras to
 * Home Assistant (device-based MQTT discovery, migrating what earlier versions published per
 * entity), and turns `{prefix}/{camera}/control/wakeup` into wakes. It is optional and never
 * in the way: while the broker is unreachable the rest of `serve` keeps working, the bridge
 * reconnects with backoff, and on every (re)connect it publishes the current state, so nothing
 * that happened during an outage is lost.
 */

import { getLogger } from "@logtape/logtape";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import {
  bridgeDiscovery,
  cameraDiscovery,
  deviceDiscoveryTopic,
  deviceId,
  type DiscoveryContext,
  isOwnLegacyPayload,
  legacyFilters,
  legacyTopic,
  MIGRATE_PAYLOAD,
} from "./discovery.ts";
import { type Clock, systemClock } from "../clock.ts";
import { MqttConfigError } from "./errors.ts";
import {
  AVAILABILITY,
  CAMERA_STATE_TOPICS,
  type CameraStateTopic,
  OFF,
  ON,
  Topics,
  topicSegment,
} from "./topics.ts";

const log = getLogger(["bairelay", "mqtt"]);

/** Default first reconnect delay; it doubles after every failed attempt. */
export const DEFAULT_RECONNECT_INITIAL_MS = 1000;
/** Default longest reconnect delay. */
export const DEFAULT_RECONNECT_MAX_MS = 30_000;
/** Longest wait for the broker's CONNACK before an attempt counts as failed. */
const CONNECT_TIMEOUT_MS = 5000;
/** Longest wait, on close, for each step (publish "offline", disconnect): serve stops in 1 s. */
const CLOSE_TIMEOUT_MS = 300;
/**
 * Most cameras the bridge remembers. Beyond it, the least recently seen unconfigured camera
 * that is not registered is forgotten (and its discovery removed), so UIDs invented by a
 * hostile peer cannot grow memory without end.
 */
export const DEFAULT_MAX_MQTT_CAMERAS = 2048;
/** UIDs remembered per named camera whose earlier, UID-named topics are cleared. */
export const MAX_UIDS_PER_NAMED_CAMERA = 4;
/** Default window of the "Wakes" count: bursts started in the last hour. */
export const DEFAULT_WAKE_WINDOW_MS = 3_600_000;
/** Default most wakes counted per camera and window (the count shows at most this). */
export const DEFAULT_MAX_COUNTED_WAKES = 1000;
/** MQTT CONNACK return codes (3.1.1) that mean the credentials were refused. */
const AUTH_REFUSED_CODES = new Set([4, 5]);

/** Broker and topics, as in the `[mqtt]` config section. */
export interface MqttBridgeOptions {
  brokerAddr: string;
  port: number;
  credentials?: { username: string; password: string } | null;
  /** CA certificate file (PEM): connect with TLS and verify the broker against it. */
  ca?: string | null;
  /** Client certificate and key files (PEM) for TLS client authentication. */
  clientAuth?: { cert: string; key: string } | null;
  topicPrefix: string;
  /** Home Assistant discovery prefix ("homeassistant"). */
  discoveryTopic: string;
  /**
   * Where bairelay's status page can be reached (`http://host:port/`), or null: the bridge
   * device's configuration URL in Home Assistant.
   */
  statusUrl?: string | null;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  maxCameras?: number;
  /** Window of the per-camera wake count (default one hour). */
  wakeWindowMs?: number;
  /** Most wakes counted per camera within the window. */
  maxCountedWakes?: number;
}

/** What the bridge calls back into. */
export interface MqttBridgeDeps {
  /** Wakes a camera by UID or configured name (the wake server's wake(target, "mqtt")). */
  wake(target: string): { result: string };
  /** Time and timers of the wake count and the last-motion time (default: the real ones). */
  clock?: Clock;
}

/** A camera as the bridge knows it. */
export interface CameraRef {
  /** The UID (the configured one for configured cameras, else the one the camera reported). */
  uid: string;
  /** The configured name, when there is one: it names the topics. */
  name?: string;
}

/** The published state of one camera. */
export interface CameraMqttState extends CameraRef {
  segment: string;
  motion: boolean;
  registered: boolean;
  lastHeartbeat?: number;
  lastMotion?: number;
  lastWake?: number;
  /** Wakes started within the wake window (an hour unless configured). */
  wakes: number;
}

/** Times a camera keeps across restarts (the registry's), for `setHistory`. */
export interface CameraHistory {
  lastMotion?: number;
  lastWake?: number;
}

/** Connection state of the bridge. */
export type BridgeConnection = "connecting" | "connected" | "disconnected";

/** The bridge's status for health checks and tests. */
export interface BridgeStatus {
  connection: BridgeConnection;
  broker: string;
  /** The last connection error, cleared on connect. */
  lastError?: string;
}

interface CameraRecord extends Omit<CameraMqttState, "wakes"> {
  configured: boolean;
  /** Start times of the wakes within the window, oldest first. */
  wakeTimes: number[];
  touched: number;
  /** Motion came on while the broker was away (published on reconnect even if over by then). */
  missedMotion: boolean;
  /**
   * A named camera's UIDs (configured and reported): before it was named it was published
   * under its UID, so the retained topics of that identity are cleared, or Home Assistant
   * would keep a second, dead device.
   */
  uids: string[];
  /** Those of `uids` whose leftovers were cleared on the broker in this connection. */
  clearedUids: Set<string>;
}

/** A retained per-entity discovery message of an earlier version: its topic and camera node. */
interface LegacyMessage {
  topic: string;
  node: string;
}

function readPem(path: string, key: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new MqttConfigError(`[mqtt] ${key}: cannot read ${path}: ${cause}`);
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && !error.message.includes(code)
      ? `${code}: ${error.message}`
      : error.message;
  }
  return String(error);
}

/**
 * A running bridge. Create it with `MqttBridge.start`; feed it with `declare`, `setMotion`,
 * `setRegistered`, `setHeartbeat`, `recordWake` and `setHistory`; stop it with `close`.
 */
export class MqttBridge {
  readonly #options: MqttBridgeOptions;
  readonly #deps: MqttBridgeDeps;
  readonly #topics: Topics;
  readonly #context: DiscoveryContext;
  readonly #clock: Clock;
  readonly #broker: string;
  readonly #client: MqttClient;
  readonly #cameras = new Map<string, CameraRecord>();
  #connection: BridgeConnection = "connecting";
  #lastError: string | undefined;
  #everConnected = false;
  #failuresLogged = false;
  #delayMs: number;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Per-entity messages of earlier versions found since the last connect, until the broker
   * acknowledged the "online" that follows them (then undefined: found ones migrate at once).
   */
  #legacyFound: LegacyMessage[] | undefined;
  /** Fires when the oldest counted wake of some camera leaves the window. */
  #wakeWindowTimer: unknown;
  #closing = false;
  #touch = 0;

  private constructor(options: MqttBridgeOptions, deps: MqttBridgeDeps) {
    this.#options = options;
    this.#deps = deps;
    this.#topics = new Topics(options.topicPrefix);
    this.#context = {
      topics: this.#topics,
      discoveryPrefix: options.discoveryTopic,
      statusUrl: options.statusUrl ?? null,
    };
    this.#clock = deps.clock ?? systemClock;
    this.#delayMs = options.reconnectInitialMs ?? DEFAULT_RECONNECT_INITIAL_MS;
    const secure = Boolean(options.ca || options.clientAuth);
    const host = options.brokerAddr.includes(":") ? `[${options.brokerAddr}]` : options.brokerAddr;
    this.#broker = `${secure ? "mqtts" : "mqtt"}://${host}:${options.port}`;
    const clientOptions: IClientOptions = {
      host: options.brokerAddr,
      port: options.port,
      protocol: secure ? "mqtts" : "mqtt",
      clientId: `bairelay_${crypto.randomUUID().slice(0, 8)}`,
      clean: true,
      reconnectPeriod: 0, // reconnects are ours, with backoff
      resubscribe: false, // subscriptions are made again on every connect
      connectTimeout: CONNECT_TIMEOUT_MS,
      queueQoSZero: false,
      // mqtt-packet's cache of every 16-bit number as a ready Buffer (65,536 of them, ~7 MB of
      // heap made at the first packet sent) saves nothing at a few messages a second.
      writeCache: false,
      manualConnect: true,
      will: {
        topic: this.#topics.availability,
        payload: AVAILABILITY.offline,
        qos: 1,
        retain: true,
      },
    };
    if (options.credentials) {
      clientOptions.username = options.credentials.username;
      clientOptions.password = options.credentials.password;
    }
    if (options.ca) clientOptions.ca = readPem(options.ca, "ca");
    if (options.clientAuth) {
      clientOptions.cert = readPem(options.clientAuth.cert, "client_auth cert");
      clientOptions.key = readPem(options.clientAuth.key, "client_auth key");
    }
    this.#client = mqtt.connect(clientOptions);
    this.#client.on("connect", () => this.#onConnect());
    this.#client.on("close", () => this.#onClose());
    this.#client.on("error", (error) => this.#onError(error));
    this.#client.on("message", (topic, payload, packet) => {
      this.#onMessage(topic, payload, packet.retain);
    });
  }

  /**
   * Starts connecting to the broker in the background and returns at once. Throws
   * MqttConfigError when a TLS file cannot be read; a broker that is down is not an error.
   */
  static start(options: MqttBridgeOptions, deps: MqttBridgeDeps): MqttBridge {
    const bridge = new MqttBridge(options, deps);
    log.info("MQTT bridge connecting to {broker}", { broker: bridge.#broker });
    bridge.#client.connect();
    return bridge;
  }

  /** Where the bridge connects, e.g. `mqtt://127.0.0.1:1883`. */
  get broker(): string {
    return this.#broker;
  }

  /** Connection state and last error. */
  status(): BridgeStatus {
    return {
      connection: this.#connection,
      broker: this.#broker,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
    };
  }

  /** The state of every camera the bridge publishes (plain data). */
  cameras(): CameraMqttState[] {
    return [...this.#cameras.values()].map((record) => ({
      uid: record.uid,
      ...(record.name === undefined ? {} : { name: record.name }),
      segment: record.segment,
      motion: record.motion,
      registered: record.registered,
      ...(record.lastHeartbeat === undefined ? {} : { lastHeartbeat: record.lastHeartbeat }),
      ...(record.lastMotion === undefined ? {} : { lastMotion: record.lastMotion }),
      ...(record.lastWake === undefined ? {} : { lastWake: record.lastWake }),
      wakes: this.#countWakes(record),
    }));
  }

  /** Announces a configured camera (so Home Assistant shows it before it registers). */
  declare(camera: CameraRef): void {
    this.#record(camera, true);
  }

  /** Publishes the camera's motion state; motion starting at `at` is its last motion. */
  setMotion(camera: CameraRef, motion: boolean, at = this.#clock.now()): void {
    const record = this.#record(camera, false);
    record.motion = motion;
    if (motion && !this.#ready) record.missedMotion = true;
    this.#publishState(record, "motion");
    if (motion) {
      record.lastMotion = at;
      this.#publishState(record, "last_motion");
    }
  }

  /** Publishes whether the camera is registered (fresh heartbeat) or not. */
  setRegistered(camera: CameraRef, registered: boolean): void {
    const record = this.#record(camera, false);
    if (record.registered !== registered) {
      record.registered = registered;
      this.#publishRegisteredCount();
    }
    this.#publishState(record, "registered");
  }

  /** Publishes the camera's last heartbeat time (and that it is registered). */
  setHeartbeat(camera: CameraRef, at: number): void {
    const record = this.#record(camera, false);
    record.lastHeartbeat = at;
    this.#publishState(record, "last_heartbeat");
    if (!record.registered) this.setRegistered(camera, true);
  }

  /** Counts a wake burst started for the camera at `at`: its wake count and last wake. */
  recordWake(camera: CameraRef, at = this.#clock.now()): void {
    const record = this.#record(camera, false);
    record.wakeTimes.push(at);
    const max = this.#options.maxCountedWakes ?? DEFAULT_MAX_COUNTED_WAKES;
    if (record.wakeTimes.length > max) record.wakeTimes.shift();
    record.lastWake = at;
    this.#publishState(record, "wakes");
    this.#publishState(record, "last_wake");
    this.#scheduleWakeWindow();
  }

  /**
   * Restores the last motion and last wake a camera had before this run (from the registry),
   * keeping whichever is newer.
   */
  setHistory(camera: CameraRef, history: CameraHistory): void {
    const record = this.#record(camera, false);
    if (history.lastMotion !== undefined && (record.lastMotion ?? -Infinity) < history.lastMotion) {
      record.lastMotion = history.lastMotion;
      this.#publishState(record, "last_motion");
    }
    if (history.lastWake !== undefined && (record.lastWake ?? -Infinity) < history.lastWake) {
      record.lastWake = history.lastWake;
      this.#publishState(record, "last_wake");
    }
  }

  /** Publishes "offline", disconnects and stops reconnecting; resolves within about a second. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    if (this.#wakeWindowTimer !== undefined) this.#clock.clearTimeout(this.#wakeWindowTimer);
    if (this.#client.connected) {
      await this.#withTimeout(
        this.#client.publishAsync(this.#topics.availability, AVAILABILITY.offline, {
          qos: 1,
          retain: true,
        }),
      );
    }
    await this.#withTimeout(this.#client.endAsync(!this.#client.connected));
    if (!this.#client.disconnected) await this.#withTimeout(this.#client.endAsync(true));
    this.#connection = "disconnected";
  }

  async #withTimeout(work: Promise<unknown>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      work.catch(() => {}),
      new Promise<void>((resolve) => timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)),
    ]);
    clearTimeout(timer);
  }

  #record(camera: CameraRef, configured: boolean): CameraRecord {
    const segment = topicSegment(camera.name ?? camera.uid);
    let record = this.#cameras.get(segment);
    if (record) {
      record.touched = ++this.#touch;
      record.configured ||= configured;
      if (
        record.name !== undefined && !record.uids.includes(camera.uid) &&
        record.uids.length < MAX_UIDS_PER_NAMED_CAMERA
      ) {
        record.uids.push(camera.uid);
        this.#clearUidTopics(record, camera.uid);
      }
      return record;
    }
    this.#evictIfFull();
    record = {
      uid: camera.uid,
      ...(camera.name === undefined ? {} : { name: camera.name }),
      segment,
      motion: false,
      registered: false,
      wakeTimes: [],
      missedMotion: false,
      configured,
      touched: ++this.#touch,
      uids: camera.name === undefined ? [] : [camera.uid],
      clearedUids: new Set(),
    };
    this.#cameras.set(segment, record);
    this.#publishCamera(record);
    return record;
  }

  #evictIfFull(): void {
    const max = this.#options.maxCameras ?? DEFAULT_MAX_MQTT_CAMERAS;
    if (this.#cameras.size < max) return;
    let oldest: CameraRecord | undefined;
    for (const record of this.#cameras.values()) {
      if (record.configured || record.registered || record.motion) continue;
      if (!oldest || record.touched < oldest.touched) oldest = record;
    }
    if (!oldest) return; // everything is live: exceed the cap rather than lose live state
    this.#cameras.delete(oldest.segment);
    log.warn("MQTT bridge forgets camera {uid}: more than {max} cameras", {
      uid: oldest.uid,
      max,
    });
    this.#publish(deviceDiscoveryTopic(this.#options.discoveryTopic, deviceId(oldest.uid)), "");
  }

  /**
   * Connected, and past the first moments of the connection (see #onConnect): what happens
   * before is published from the state table once ready.
   */
  get #ready(): boolean {
    return this.#client.connected && this.#legacyFound === undefined;
  }

  #publish(topic: string, payload: string, retain = true): void {
    if (!this.#ready) return; // published again from the state table once ready
    this.#client.publish(topic, payload, { qos: 1, retain }, (error) => {
      if (error) log.debug("MQTT publish to {topic} failed: {error}", { topic, error });
    });
  }

  /** ISO 8601 text of a time, or undefined (nothing published) when there is none yet. */
  #time(at: number | undefined): string | undefined {
    return at === undefined ? undefined : new Date(at).toISOString();
  }

  #publishState(record: CameraRecord, what: CameraStateTopic): void {
    const payload = this.#statePayload(record, what);
    if (payload !== undefined) this.#publish(this.#topics.state(record.segment, what), payload);
  }

  /** The payload of one state topic, or undefined when there is nothing to say yet. */
  #statePayload(record: CameraRecord, what: CameraStateTopic): string | undefined {
    switch (what) {
      case "motion":
        return record.motion ? ON : OFF;
      case "registered":
        return record.registered ? ON : OFF;
      case "last_heartbeat":
        return this.#time(record.lastHeartbeat);
      case "last_motion":
        return this.#time(record.lastMotion);
      case "wakes":
        return String(this.#countWakes(record));
      case "last_wake":
        return this.#time(record.lastWake);
    }
  }

  #publishRegisteredCount(): void {
    let count = 0;
    for (const record of this.#cameras.values()) if (record.registered) count++;
    this.#publish(this.#topics.camerasRegistered, String(count));
  }

  /** Wakes of `record` within the window (dropping the older ones). */
  #countWakes(record: CameraRecord): number {
    const window = this.#options.wakeWindowMs ?? DEFAULT_WAKE_WINDOW_MS;
    const now = this.#clock.now();
    while (record.wakeTimes.length > 0 && now - record.wakeTimes[0] >= window) {
      record.wakeTimes.shift();
    }
    return record.wakeTimes.length;
  }

  /**
   * Arms one timer for the moment the oldest counted wake of any camera leaves the window;
   * it publishes the lower counts and arms itself again.
   */
  #scheduleWakeWindow(): void {
    if (this.#wakeWindowTimer !== undefined) this.#clock.clearTimeout(this.#wakeWindowTimer);
    this.#wakeWindowTimer = undefined;
    if (this.#closing) return;
    let oldest = Infinity;
    for (const record of this.#cameras.values()) {
      if (record.wakeTimes.length > 0) oldest = Math.min(oldest, record.wakeTimes[0]);
    }
    if (oldest === Infinity) return;
    const window = this.#options.wakeWindowMs ?? DEFAULT_WAKE_WINDOW_MS;
    const delay = Math.max(0, oldest + window - this.#clock.now());
    this.#wakeWindowTimer = this.#clock.setTimeout(() => {
      this.#wakeWindowTimer = undefined;
      for (const record of this.#cameras.values()) {
        const before = record.wakeTimes.length;
        if (before > 0 && this.#countWakes(record) !== before) {
          this.#publishState(record, "wakes");
        }
      }
      this.#scheduleWakeWindow();
    }, delay);
  }

  /** The bridge's own device (before the cameras, which name it as their `via_device`). */
  #publishBridge(): void {
    const { topic, payload } = bridgeDiscovery(this.#context);
    this.#publish(topic, payload);
    this.#publishRegisteredCount();
  }

  #publishDiscovery(record: CameraRecord): void {
    const { topic, payload } = cameraDiscovery(record, this.#context);
    this.#publish(topic, payload);
  }

  /**
   * Clears, once per connection, what a named camera left behind when it was published under
   * `uid`: that identity's device (unless it is this camera's own) and its state topics.
   */
  #clearUidTopics(record: CameraRecord, uid: string): void {
    const segment = topicSegment(uid);
    if (segment === record.segment || record.clearedUids.has(uid) || !this.#ready) return;
    record.clearedUids.add(uid);
    if (deviceId(uid) !== deviceId(record.uid)) {
      this.#publish(deviceDiscoveryTopic(this.#options.discoveryTopic, deviceId(uid)), "");
    }
    for (const what of CAMERA_STATE_TOPICS) {
      this.#publish(this.#topics.state(segment, what), "");
    }
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
        this.#publish(topic, MIGRATE_PAYLOAD, false);
        migrating.add(record);
      } else {
        log.info("Removing Home Assistant discovery {topic} of a camera not known to this run", {
          topic,
        });
      }
      old.push(topic);
    }
    publishDevices(migrating);
    for (const topic of old) this.#publish(topic, "");
  }

  #publishCamera(record: CameraRecord): void {
    for (const uid of record.uids) this.#clearUidTopics(record, uid);
    this.#publishDiscovery(record);
    if (record.missedMotion && !record.motion) {
      // A whole motion (on, then off) happened during the outage: replay it, so subscribers
      // and Home Assistant's history see that it happened.
      this.#publish(this.#topics.state(record.segment, "motion"), ON);
    }
    record.missedMotion = false;
    this.#publishState(record, "motion");
    for (const what of CAMERA_STATE_TOPICS) if (what !== "motion") this.#publishState(record, what);
  }

  #onConnect(): void {
    // Motion must reach the broker at once: without TCP_NODELAY a publish can wait for the
    // broker's delayed ACK of the previous one (40 ms on Linux).
    (this.#client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
    this.#delayMs = this.#options.reconnectInitialMs ?? DEFAULT_RECONNECT_INITIAL_MS;
    this.#lastError = undefined;
    this.#failuresLogged = false;
    log.info(
      this.#everConnected
        ? "MQTT reconnected to {broker}; publishing the current state of {count} cameras"
        : "MQTT connected to {broker}",
      { broker: this.#broker, count: this.#cameras.size },
    );
    this.#everConnected = true;
    const subscribed = (error?: Error | null) => {
      if (error) log.warn("MQTT subscribe failed: {error}", { error: describeError(error) });
    };
    this.#client.subscribe(
      [this.#topics.wakeupFilter, `${this.#options.discoveryTopic}/status`],
      { qos: 1 },
      subscribed,
    );
    // The per-entity messages an earlier version left retained come right after this SUBACK
    // (QoS 0: not held back by the in-flight window), and the broker acknowledges the
    // "online" published next only after them: so the devices go out after any migration
    // has begun, in the order Home Assistant documents. (Any that come later still migrate.)
    const found: LegacyMessage[] = this.#legacyFound = [];
    this.#client.subscribe(legacyFilters(this.#options.discoveryTopic), { qos: 0 }, (error) => {
      subscribed(error);
      this.#client.publish(
        this.#topics.availability,
        AVAILABILITY.online,
        { qos: 1, retain: true },
        () => {
          if (this.#legacyFound !== found) return; // a newer connection took over
          this.#legacyFound = undefined;
          this.#migrateLegacy(found, () => {
            this.#publishBridge();
            for (const record of this.#cameras.values()) {
              record.clearedUids.clear();
              this.#publishCamera(record);
            }
          });
        },
      );
    });
    this.#connection = "connected";
  }

  #onError(error: Error & { code?: unknown }): void {
    const code = error.code;
    let message: string;
    if (typeof code === "number" && AUTH_REFUSED_CODES.has(code)) {
      const user = this.#options.credentials?.username;
      message = `MQTT broker ${this.#broker} refused the login ` +
        `(${user === undefined ? "no credentials given" : `user "${user}"`}): ${error.message}. ` +
        `Check [mqtt] credentials and the broker's password file`;
      if (message !== this.#lastError) log.error(message);
    } else {
      message = `MQTT broker ${this.#broker} unreachable: ${describeError(error)}`;
      if (!this.#failuresLogged) {
        log.warn(
          "{message}; retrying with backoff (the wake server and push listener keep working)",
          { message },
        );
      } else log.debug("{message}", { message });
    }
    this.#failuresLogged = true;
    this.#lastError = message;
  }

  #onClose(): void {
    if (this.#closing) return;
    if (this.#connection === "connected") {
      log.warn("MQTT connection to {broker} lost; reconnecting with backoff", {
        broker: this.#broker,
      });
      this.#failuresLogged = true;
    }
    this.#connection = "disconnected";
    if (this.#reconnectTimer !== undefined) return;
    const delay = this.#delayMs;
    this.#delayMs = Math.min(
      this.#delayMs * 2,
      this.#options.reconnectMaxMs ?? DEFAULT_RECONNECT_MAX_MS,
    );
    log.debug("MQTT reconnect to {broker} in {delay} ms", { broker: this.#broker, delay });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#closing) return;
      this.#connection = "connecting";
      this.#client.reconnect();
    }, delay);
  }

  #onMessage(topic: string, payload: Uint8Array, retained: boolean): void {
    if (topic === `${this.#options.discoveryTopic}/status`) {
      const text = new TextDecoder().decode(payload).trim();
      if (text === "online" && !retained) {
        log.info("Home Assistant is online: publishing discovery for {count} cameras", {
          count: this.#cameras.size,
        });
        this.#publishBridge();
        for (const record of this.#cameras.values()) this.#publishDiscovery(record);
      }
      return;
    }
    const node = legacyTopic(topic, this.#options.discoveryTopic);
    if (node !== undefined) {
      // Only what the broker kept from an earlier run; the empty payloads we send come back live.
      const text = new TextDecoder().decode(payload);
      if (!retained || !isOwnLegacyPayload(text, this.#topics)) return;
      if (this.#legacyFound) this.#legacyFound.push({ topic, node });
      else {
        this.#migrateLegacy([{ topic, node }], (cameras) => {
          for (const record of cameras) this.#publishDiscovery(record);
        });
      }
      return;
    }
    const target = this.#topics.wakeupTarget(topic);
    if (target === undefined) return;
    if (retained) {
      // A retained wakeup would wake the camera on every reconnect: refuse it.
      log.warn("Ignoring a retained MQTT wakeup on {topic}; publish wakeups without retain", {
        topic,
      });
      return;
    }
    const known = this.#cameras.get(target);
    try {
      const outcome = this.#deps.wake(known ? (known.name ?? known.uid) : target);
      if (outcome.result === "started" || outcome.result === "in_flight") {
        log.info("MQTT wakeup for {camera}: {result}", { camera: target, result: outcome.result });
      } else {
        log.warn("MQTT wakeup for {camera} not sent: {result}", {
          camera: target,
          result: outcome.result,
        });
      }
    } catch (error) {
      log.error("MQTT wakeup for {camera} failed: {error}", { camera: target, error });
    }
  }
}
