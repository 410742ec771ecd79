/**
 * Serve's listener table: every listener, bound or not, with its address or the reason it is
 * off, as the startup log and `/api/status` show them.
 */

import { formatListen } from "../net/listen_address.ts";
import type { ListenerStatus } from "../api/status.ts";

export type { ListenerStatus };

/** One address the service listens on, for the startup log and tests. */
export interface Listening {
  /** "middleman", "register", "api", ... */
  name: string;
  protocol: "udp" | "tcp" | "http" | "udp+tcp";
  host: string;
  port: number;
}

/** A bound listener's status. */
export function up(listening: Listening): ListenerStatus {
  return {
    name: listening.name,
    protocol: listening.protocol,
    state: "up",
    address: formatListen({ host: listening.host, port: listening.port }),
    reason: null,
  };
}

/** A listener the configuration turned off, and why. */
export function off(
  name: string,
  protocol: ListenerStatus["protocol"],
  reason: string,
): ListenerStatus {
  return { name, protocol, state: "off", address: null, reason };
}

/** One line per listener, e.g. "register udp 0.0.0.0:58200", for the startup log. */
export function describeListening(listening: readonly Listening[]): string[] {
  return listening.map((l) =>
    `${l.name} ${l.protocol === "http" ? "http://" : `${l.protocol} `}${
      formatListen({ host: l.host, port: l.port })
    }`
  );
}
