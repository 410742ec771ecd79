/**
 * Addresses for the wake client: parsing `HOST[:PORT]`, resolving host names to IPv4
 * addresses, and choosing the local address the client reports as `<cli>`.
 */

import { lookup } from "node:dns/promises";
import { MIDDLEMAN_PORT } from "../bcudp/constants.ts";
import { ipVersion } from "../net/ip.ts";

/** An IPv4 address and a port, as the protocol writes them (`<ip>`, `<port>`). */
export interface Endpoint {
  ip: string;
  port: number;
}

/** A server as the user named it: a host name or IPv4 literal, and a port. */
export interface ServerSpec {
  host: string;
  port: number;
}

/** The middleman port cameras and clients use first. */
export const DEFAULT_MIDDLEMAN_PORT = MIDDLEMAN_PORT;

/** Why a server address could not be used. */
export class ServerAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ServerAddressError";
  }
}

/**
 * Parses `HOST`, `HOST:PORT` or `IPV4:PORT` into a ServerSpec (port defaults to the
 * middleman port). IPv6 is refused because the protocol's `<family>` is 4.
 */
export function parseServerSpec(text: string, defaultPort = DEFAULT_MIDDLEMAN_PORT): ServerSpec {
  const trimmed = text.trim();
  if (trimmed === "") throw new ServerAddressError("empty server address");
  if (trimmed.startsWith("[") || trimmed.split(":").length > 2) {
    throw new ServerAddressError(
      `"${text}": IPv6 servers are not supported (the wake protocol speaks IPv4); ` +
        "give an IPv4 address or a host name",
    );
  }
  const colon = trimmed.indexOf(":");
  const host = colon === -1 ? trimmed : trimmed.slice(0, colon);
  if (host === "" || !/^[A-Za-z0-9.-]+$/.test(host)) {
    throw new ServerAddressError(`"${text}": "${host}" is not a host name or IPv4 address`);
  }
  if (colon === -1) return { host, port: defaultPort };
  const portText = trimmed.slice(colon + 1);
  const port = Number(portText);
  if (!/^[0-9]{1,5}$/.test(portText) || port < 1 || port > 65535) {
    throw new ServerAddressError(`"${text}": port "${portText}" is not a number from 1 to 65535`);
  }
  return { host, port };
}

/** Writes a ServerSpec or Endpoint as `host:port`. */
export function formatAddress(address: ServerSpec | Endpoint): string {
  return `${"host" in address ? address.host : address.ip}:${address.port}`;
}

/** Resolves a host name to one IPv4 address (IPv4 literals are returned as they are). */
export type ResolveHost = (host: string) => Promise<string>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), IPv4 only. */
export const systemResolveHost: ResolveHost = async (host) => {
  if (ipVersion(host) === 4) return host;
  try {
    const { address } = await lookup(host, { family: 4 });
    return address;
  } catch (error) {
    const code = (error as { code?: string }).code ?? String(error);
    throw new ServerAddressError(`cannot resolve server "${host}" to an IPv4 address (${code})`);
  }
};
