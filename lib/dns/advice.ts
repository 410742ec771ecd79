/**
 * What to tell the user once the DNS responder is up: make it the cameras' DNS server, and how
 * to check. Replaces the "override these names in your LAN's resolver" advice in that case.
 */

import { isWildcard } from "../net/ip.ts";
import { DNS_PORT } from "./upstreams.ts";

/**
 * One paragraph for the startup log: the address to give the cameras as DNS server (the bound
 * address, or under a wildcard bind the first of `advertised`), the two per-camera ways to do
 * it, the dig check, and a warning when the port is not 53 (cameras always ask port 53).
 */
export function responderAdvice(
  bound: { ip: string; port: number },
  advertised: readonly string[],
): string {
  const address = !isWildcard(bound.ip) ? bound.ip : advertised[0] ?? "this box's LAN address";
  const port = bound.port === DNS_PORT ? "" : ` -p ${bound.port}`;
  const redirect = bound.port === DNS_PORT
    ? ""
    : ` Cameras always ask port ${DNS_PORT}: redirect UDP and TCP ${DNS_PORT} to ${bound.port} ` +
      "(nft/iptables) or set [dns] port = 53.";
  return `The DNS responder is on: make ${address} the cameras' DNS server (a camera's own ` +
    "network settings in the Reolink app, or a DHCP reservation with that DNS server), then " +
    `reboot the camera. Check with \`dig @${address}${port} p2p.reolink.com\`.${redirect}`;
}
