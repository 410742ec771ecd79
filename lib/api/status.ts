/**
 * `GET /api/status`: what a running `serve` is doing, in one document — version and uptime,
 * every listener with its address or the reason it is off, the receive buffers granted, the
 * MQTT connection, the cameras per state and when the last packet arrived. `doctor`, the
 * status page and health checks read it; it is built from plain data so tests can too.
 */

import { VERSION } from "../version.ts";
import type { Route } from "./http.ts";
import { jsonResponse } from "./json_response.ts";
import type { CameraState } from "./routes.ts";

/** One listener of `serve`, as /api/status, the ready log line and `doctor` show it. */
export interface ListenerStatus {
  /** "middleman", "register", "push", "api", "dns", ... */
  name: string;
  protocol: "udp" | "tcp" | "http" | "udp+tcp";
  /** up: bound; off: turned off in the configuration; disabled: wanted but could not start. */
  state: "up" | "off" | "disabled";
  /** "host:port" as bound; null unless up. */
  address: string | null;
  /** Why it is off or disabled (e.g. "no permission for port 443"); null when up. */
  reason: string | null;
}

/** A receive buffer as asked for and granted, per UDP listener. */
export interface ReceiveBufferStatus {
  listener: string;
  requested: number;
  granted: number | null;
  problem: string | null;
}

/** The MQTT bridge's connection. */
export interface MqttStatus {
  state: "off" | "connecting" | "connected" | "disconnected";
  /** "host:port"; null when the bridge is off. */
  broker: string | null;
  /** The last connection error, cleared on connect. */
  error: string | null;
}

/** The facts the status document is made of, gathered by the service at request time. */
export interface StatusFacts {
  /** When the service started, ms since the epoch. */
  startedAt: number;
  now: number;
  listeners: readonly ListenerStatus[];
  receiveBuffers: readonly ReceiveBufferStatus[];
  mqtt: MqttStatus;
  stateDir: string;
  cameras: Record<CameraState, number>;
  /** When the last datagram from any camera arrived, ms since the epoch; null when none. */
  lastPacketAt: number | null;
  /** The addresses cameras should be sent to (see `advertisedAddresses`). */
  advertisedAddresses: readonly string[];
}

/** The `GET /api/status` document. */
export interface StatusDocument {
  version: string;
  started_at: string;
  uptime_s: number;
  listeners: ListenerStatus[];
  receive_buffers: ReceiveBufferStatus[];
  mqtt: MqttStatus;
  state_dir: string;
  cameras: Record<CameraState, number>;
  last_packet: string | null;
  advertised_addresses: string[];
}

/** Renders the facts as the `GET /api/status` document. */
export function statusDocument(facts: StatusFacts): StatusDocument {
  return {
    version: VERSION,
    started_at: new Date(facts.startedAt).toISOString(),
    uptime_s: Math.max(0, Math.floor((facts.now - facts.startedAt) / 1000)),
    listeners: facts.listeners.map((listener) => ({ ...listener })),
    receive_buffers: facts.receiveBuffers.map((buffer) => ({ ...buffer })),
    mqtt: { ...facts.mqtt },
    state_dir: facts.stateDir,
    cameras: { ...facts.cameras },
    last_packet: facts.lastPacketAt === null ? null : new Date(facts.lastPacketAt).toISOString(),
    advertised_addresses: [...facts.advertisedAddresses],
  };
}

/** `GET /api/status`, answering from `facts()` at each request (token as other endpoints). */
export function statusRoute(facts: () => StatusFacts): Route {
  return {
    method: "GET",
    path: "/api/status",
    handle: () => jsonResponse(200, statusDocument(facts())),
  };
}
