/** The control API's part of the config file, `[api]`. */

import { type ConfigReader, show, type Table } from "../config/reader.ts";
import { defaultsOf, type SectionSpec, type SectionValues } from "../config/spec.ts";
import { isLoopback } from "../net/ip.ts";
import { type ListenAddress, parseListen } from "../net/listen_address.ts";

/** The control API's TCP port unless `[api] listen` names another. */
export const API_PORT = 9899;

/** `[api]` listen and token. */
const API_ACCESS_SPEC = {
  listen: {
    type: "string",
    default: `127.0.0.1:${API_PORT}`,
    help: 'control API "host:port", or "off"',
  },
  token: { type: "string", help: "bearer token clients must send (needed off loopback)" },
} as const satisfies SectionSpec;

/** `[api]` bounds on requests and connections. */
export const API_LIMITS_SPEC = {
  header_timeout_ms: {
    type: "integer",
    default: 10_000,
    min: 100,
    max: 300_000,
    help: "a request header must be complete this long after it starts, or 408 and the close (ms)",
  },
  max_connections: {
    type: "integer",
    default: 128,
    min: 1,
    max: 65_536,
    help: "open HTTP connections at most (event streams included)",
  },
  max_connections_per_address: {
    type: "integer",
    default: 32,
    min: 1,
    max: 65_536,
    help: "open HTTP connections from one address at most, so one host cannot lock others out",
  },
  max_event_streams: {
    type: "integer",
    default: 16,
    min: 1,
    max: 1024,
    help: "`GET /api/events/stream` clients at most",
  },
} as const satisfies SectionSpec;

/** `[api]`. */
export const API_SPEC = { ...API_ACCESS_SPEC, ...API_LIMITS_SPEC } as const satisfies SectionSpec;

/**
 * The control API's bounds: `[api]` header_timeout_ms, max_connections,
 * max_connections_per_address, max_event_streams.
 */
export type ApiLimits = SectionValues<typeof API_LIMITS_SPEC>;

/** The `[api]` limits when the config file sets none. */
export const DEFAULT_API_LIMITS: ApiLimits = defaultsOf(API_LIMITS_SPEC);

/** `[api]` as read; `listen` null = off. */
export interface ApiConfig {
  listen: ListenAddress | null;
  token: string | null;
  limits: ApiLimits;
}

/**
 * `[api]`: `listen` is "off" or an address `parseListen` reads (null when malformed); anything
 * but loopback needs a token, or anyone on the network could wake the cameras.
 */
export function readApi(reader: ConfigReader, api: Table): ApiConfig {
  const { listen: listenText, token: tokenText } = reader.values(api, API_ACCESS_SPEC, "api");
  const token = reader.nonEmpty("api.token", tokenText);
  const limits = () => reader.values(api, API_LIMITS_SPEC, "api");
  if (listenText === "off") return { listen: null, token, limits: limits() };
  const listen = parseListen(listenText);
  if (listen === null) {
    reader.fail(
      "api.listen",
      `must be "host:port" with an IP address (or localhost) and a port 1-65535, or "off" (got ${
        show(listenText)
      })`,
    );
  } else if (!isLoopback(listen.host) && token === null) {
    reader.fail(
      "api.listen",
      `a listen address other than loopback (${listenText}) needs api.token (set [api] token ` +
        "in the config file), or anyone on the network could wake your cameras",
    );
  }
  return { listen, token, limits: limits() };
}
