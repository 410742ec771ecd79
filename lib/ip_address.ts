/**
 * Which IP version a text is: the check the configuration runs on every address it reads.
 * `node:net`'s `isIP` would do, but importing any `node:` module brings up Deno's Node
 * compatibility layer, several MB of resident memory for the whole life of `serve` (issue 14),
 * so the serve path uses this instead. IPv6 is checked by the WHATWG URL host parser Deno
 * already has; IPv4 is the strict dotted quad (`isIP`'s rules: no leading zeros, 0-255).
 */

const DOTTED_QUAD =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

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
