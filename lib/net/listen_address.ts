/**
 * Listen addresses as the configuration and the logs write them: "host:port", with IPv6
 * hosts in brackets ("[::1]:8080").
 */

import { ipVersion } from "./ip.ts";

/** A host and TCP port to listen on. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses "host:port" / "[v6]:port" (the API listen syntax); null when malformed. */
export function parseListen(text: string): ListenAddress | null {
  const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  if (!match) return null;
  const host = match[1] ?? match[2];
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return null;
  if (host !== "localhost" && ipVersion(host) === 0) return null;
  if (match[1] !== undefined && ipVersion(host) !== 6) return null;
  return { host, port };
}

/** Formats a listen address back to "host:port" ("[v6]:port"). */
export function formatListen(address: ListenAddress): string {
  return ipVersion(address.host) === 6
    ? `[${address.host}]:${address.port}`
    : `${address.host}:${address.port}`;
}
