/**
 * The Reolink cloud host names a camera looks up, which a LAN must point at this box: the
 * P2P registration servers (`p2p.reolink.com`, `p2p1` ... `p2p11`) for the wake server and
 * `pushx.reolink.com` for the push listener. One list for the ready log, `doctor` and the
 * DNS responder.
 */

/** Highest numbered P2P host name seen in camera firmware (`p2p11.reolink.com`). */
export const MAX_P2P_HOST_NUMBER = 11;

/** `p2p.reolink.com`, `p2p1.reolink.com` ... `p2p11.reolink.com`. */
export const P2P_HOSTS: readonly string[] = [
  "p2p.reolink.com",
  ...Array.from({ length: MAX_P2P_HOST_NUMBER }, (_, i) => `p2p${i + 1}.reolink.com`),
];

/** The push notification host a camera connects to on TCP 443 when it detects motion. */
export const PUSH_HOST = "pushx.reolink.com";

/** Every host name to override, P2P first. */
export const REOLINK_HOSTS: readonly string[] = [...P2P_HOSTS, PUSH_HOST];

/**
 * One dnsmasq line sending every Reolink host name to `address`
 * (`address=/p2p.reolink.com/.../pushx.reolink.com/192.168.1.10`).
 */
export function dnsmasqLine(address: string): string {
  return `address=/${REOLINK_HOSTS.join("/")}/${address}`;
}

/**
 * What to tell a user who must now point the cameras here: every host name to override, the
 * address (the first of `addresses`, the default route's), the others, and a dnsmasq line.
 */
export function redirectAdvice(addresses: readonly string[]): string {
  const names = REOLINK_HOSTS.join(", ");
  if (addresses.length === 0) {
    return `Send the cameras here: make ${names} resolve to this box's LAN address in the ` +
      "LAN's DNS (no LAN address found: is the network up?). Then check with `bairelay doctor`.";
  }
  const [main, ...others] = addresses;
  const alternatives = others.length > 0
    ? ` (or another address of this box on the cameras' network: ${others.join(", ")})`
    : "";
  return `Send the cameras here: in the LAN's DNS (Pi-hole, AdGuard Home, router, dnsmasq) make ` +
    `${names} resolve to ${main}${alternatives}. dnsmasq, one line: ${dnsmasqLine(main)} . ` +
    "Then check with `bairelay doctor`; a camera may need a reboot to forget the old answer.";
}
