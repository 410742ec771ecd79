/**
 * What an IP address text is: its version, wildcard or loopback, and the plain IPv4 form of
 * an IPv4-mapped peer. `node:net`'s `isIP` would do for the version, but importing any
 * `node:` module brings up Deno's Node compatibility layer, several MB of resident memory for
 * the whole life of `serve`, so the serve path uses this instead. IPv6 is checked by the
 * WHATWG URL host parser Deno already has; IPv4 is the strict dotted quad (`isIP`'s rules: no
 * leading zeros, 0-255).
 */

const DOTTED_QUAD =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

/** An IPv4-mapped IPv6 address, capturing the IPv4 part. */
const IPV4_MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** Characters an IPv6 address (including an embedded dotted quad) is written with. */
const IPV6_CHARACTERS = /^[0-9a-fA-F:.]+$/;

/**
 * 4 for a dotted-quad IPv4 address, 6 for an IPv6 address, 0 for anything else (host names,
 * brackets, ports, zone ids such as `fe80::1%eth0`, which no listener here accepts).
 */
export function ipVersion(text: string): 0 | 4 | 6 {
  if (DOTTED_QUAD.test(text)) return 4;
  if (!text.includes(":") || !IPV6_CHARACTERS.test(text)) return 0;
  try {
    new URL(`http://[${text}]/`);
    return 6;
  } catch {
    return 0;
  }
}

/** True for `0.0.0.0`, `::` and the empty string. */
export function isWildcard(address: string): boolean {
  return address === "" || address === "0.0.0.0" || address === "::" || address === "[::]";
}

/** True for `localhost`, `::1` and any 127.x.y.z address. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * An IPv4 peer on a dual-stack `::` socket shows as `::ffff:a.b.c.d`; the registry, the allow
 * lists and the logs hold it as plain `a.b.c.d`. Any other address comes back unchanged.
 */
export function plainIp(ip: string): string {
  // Checked first: this runs for every datagram, and nearly every peer is plain already.
  if (!ip.startsWith("::")) return ip;
  return IPV4_MAPPED.exec(ip)?.[1] ?? ip;
}
