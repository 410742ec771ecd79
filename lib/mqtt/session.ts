/**
 * The bridge's connection to the broker: the MQTT.js client, the last will, TLS files,
 * reconnects with backoff, errors a user can act on (refused credentials, an unreachable
 * broker), and the moment the session is ready to publish. It knows no camera: what to
 * subscribe to and what to do once ready come from its handlers.
 */

import { getLogger } from "@logtape/logtape";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { MqttConfigError } from "./errors.ts";
import { AVAILABILITY } from "./topics.ts";

const log = getLogger(["bairelay", "mqtt"]);

/** Default first reconnect delay; it doubles after every failed attempt. */
export const DEFAULT_RECONNECT_INITIAL_MS = 1000;
/** Default longest reconnect delay. */
export const DEFAULT_RECONNECT_MAX_MS = 30_000;
/** Longest wait for the broker's CONNACK before an attempt counts as failed. */
const CONNECT_TIMEOUT_MS = 5000;
/** Longest wait, on close, for each step (publish "offline", disconnect): serve stops in 1 s. */
const CLOSE_TIMEOUT_MS = 300;
/** MQTT CONNACK return codes (3.1.1) that mean the credentials were refused. */
const AUTH_REFUSED_CODES = new Set([4, 5]);

/** The broker and how to reach it, as in the `[mqtt]` config section. */
export interface SessionOptions {
  brokerAddr: string;
  port: number;
  credentials?: { username: string; password: string } | null;
  /** CA certificate file (PEM): connect with TLS and verify the broker against it. */
  ca?: string | null;
  /** Client certificate and key files (PEM) for TLS client authentication. */
  clientAuth?: { cert: string; key: string } | null;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
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

/** Topic filters subscribed together at one QoS. */
export interface Subscription {
  filters: string[];
  qos: 0 | 1;
}

/** What the session calls back into. */
export interface SessionHandlers {
  /** Subscribed on every connect, in this order. */
  subscriptions: readonly Subscription[];
  /** A connection was made (`reconnect`: not the first one); nothing is published yet. */
  connected(reconnect: boolean): void;
  /** The broker acknowledged "online" on this connection: publishing works from now on. */
  ready(): void;
  message(topic: string, payload: Uint8Array, retained: boolean): void;
}

/** Publishing for the other roles of the bridge. */
export interface Publisher {
  /** Connected and ready: what is published before is published again once ready. */
  readonly ready: boolean;
  /** Publishes at QoS 1 (retained unless `retain` is false); nothing while not ready. */
  publish(topic: string, payload: string, retain?: boolean): void;
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
 * One broker connection that keeps itself up. On every connect it subscribes (each
 * subscription in order), then publishes "online" on the availability topic after the last
 * SUBACK, and is ready once the broker acknowledged that "online": the retained messages the
 * subscriptions brought arrive before it is ready.
 */
export class MqttSession implements Publisher {
  readonly #options: SessionOptions;
  readonly #availability: string;
  readonly #handlers: SessionHandlers;
  readonly #broker: string;
  readonly #client: MqttClient;
  #connection: BridgeConnection = "connecting";
  #lastError: string | undefined;
  #everConnected = false;
  #failuresLogged = false;
  #delayMs: number;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** Counts connections, so an acknowledgement of an older one is ignored. */
  #generation = 0;
  /** The broker acknowledged "online" on the current connection. */
  #online = false;
  #closing = false;

  /**
   * Prepares the client (connecting starts with `connect`). Throws MqttConfigError when a
   * TLS file cannot be read.
   */
  constructor(options: SessionOptions, availability: string, handlers: SessionHandlers) {
    this.#options = options;
    this.#availability = availability;
    this.#handlers = handlers;
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
      will: { topic: availability, payload: AVAILABILITY.offline, qos: 1, retain: true },
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
      this.#handlers.message(topic, payload, packet.retain);
    });
  }

  /** Starts connecting in the background; a broker that is down is retried with backoff. */
  connect(): void {
    log.info("MQTT bridge connecting to {broker}", { broker: this.#broker });
    this.#client.connect();
  }

  /** Where the session connects, e.g. `mqtt://127.0.0.1:1883`. */
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

  get ready(): boolean {
    return this.#client.connected && this.#online;
  }

  publish(topic: string, payload: string, retain = true): void {
    if (!this.ready) return; // published again from the state table once ready
    this.#client.publish(topic, payload, { qos: 1, retain }, (error) => {
      if (error) log.debug("MQTT publish to {topic} failed: {error}", { topic, error });
    });
  }

  /** Publishes "offline", disconnects and stops reconnecting; resolves within about a second. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    if (this.#client.connected) {
      await this.#withTimeout(
        this.#client.publishAsync(this.#availability, AVAILABILITY.offline, {
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

  #onConnect(): void {
    const generation = ++this.#generation;
    this.#online = false;
    // Motion must reach the broker at once: without TCP_NODELAY a publish can wait for the
    // broker's delayed ACK of the previous one (40 ms on Linux).
    (this.#client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
    this.#delayMs = this.#options.reconnectInitialMs ?? DEFAULT_RECONNECT_INITIAL_MS;
    this.#lastError = undefined;
    this.#failuresLogged = false;
    this.#handlers.connected(this.#everConnected);
    this.#everConnected = true;
    const subscriptions = this.#handlers.subscriptions;
    subscriptions.forEach(({ filters, qos }, index) => {
      this.#client.subscribe(filters, { qos }, (error) => {
        if (error) log.warn("MQTT subscribe failed: {error}", { error: describeError(error) });
        if (index === subscriptions.length - 1) this.#announceOnline(generation);
      });
    });
    this.#connection = "connected";
  }

  /** Publishes "online"; its acknowledgement makes the session ready. */
  #announceOnline(generation: number): void {
    this.#client.publish(
      this.#availability,
      AVAILABILITY.online,
      { qos: 1, retain: true },
      () => {
        if (generation !== this.#generation) return; // a newer connection took over
        this.#online = true;
        this.#handlers.ready();
      },
    );
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
}
