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
 * One dnsmasq configuration-file line sending every Reolink host name to `address`
 * (`address=/p2p.reolink.com/.../pushx.reolink.com/192.168.1.10`).
 */
export function dnsmasqLine(address: string): string {
  return `address=/${REOLINK_HOSTS.join("/")}/${address}`;
}

/** The same as one option on dnsmasq's command line (a file line there is "junk"). */
export function dnsmasqOption(address: string): string {
  return `--${dnsmasqLine(address)}`;
}

/** Hosts-file lines (`192.168.1.10 p2p.reolink.com`), one per name. */
export function hostsLines(address: string): string[] {
  return REOLINK_HOSTS.map((name) => `${address} ${name}`);
}

/** One way to point the Reolink names at this box, for one kind of resolver. */
export interface RedirectRecipe {
  /** Short key, for scripts (`doctor --recipes --json`). */
  key: string;
  /** The resolver, as users know it. */
  resolver: string;
  /** Where the text goes, in a sentence. */
  where: string;
  /** The text to paste, with `address` filled in. */
  text(address: string): string;
}

/**
 * Every way bairelay knows to point the Reolink names at `address`, for the resolvers users
 * run. Each text is complete (all the names) and pasteable as it stands; tests feed the
 * dnsmasq and hosts forms to a real dnsmasq.
 */
export const REDIRECT_RECIPES: readonly RedirectRecipe[] = [
  {
    key: "dnsmasq",
    resolver: "dnsmasq (configuration file)",
    where: "a line in /etc/dnsmasq.d/bairelay.conf (or dnsmasq.conf), then restart dnsmasq",
    text: dnsmasqLine,
  },
  {
    key: "dnsmasq-cli",
    resolver: "dnsmasq (command line)",
    where: "one option added to dnsmasq's command line",
    text: dnsmasqOption,
  },
  {
    key: "pihole",
    resolver: "Pi-hole v6",
    where: "run on the Pi-hole (Settings > All settings > Miscellaneous > misc.dnsmasq_lines " +
      "holds the same line)",
    text: (address) => `sudo pihole-FTL --config misc.dnsmasq_lines '["${dnsmasqLine(address)}"]'`,
  },
  {
    key: "pihole5",
    resolver: "Pi-hole v5",
    where: "run on the Pi-hole: a dnsmasq file Pi-hole reads, then a DNS restart",
    text: (address) =>
      `echo '${dnsmasqLine(address)}' | sudo tee /etc/dnsmasq.d/99-bairelay.conf && ` +
      "pihole restartdns",
  },
  {
    key: "adguard",
    resolver: "AdGuard Home",
    where: "Filters > Custom filtering rules: paste these lines (hosts syntax), then Apply",
    text: (address) => hostsLines(address).join("\n"),
  },
  {
    key: "openwrt",
    resolver: "OpenWrt",
    where: "run on the router (the same as Network > DHCP and DNS > Addresses in LuCI)",
    text: (address) =>
      `uci add_list dhcp.@dnsmasq[0].address='/${REOLINK_HOSTS.join("/")}/${address}' && ` +
      "uci commit dhcp && /etc/init.d/dnsmasq restart",
  },
  {
    key: "bairelay",
    resolver: "bairelay's own DNS responder",
    where: "when the router cannot override names: run serve with --dns (or [dns] enable = " +
      "true), then make this box the cameras' DNS server (DHCP or the camera's settings)",
    text: () => "bairelay serve --dns",
  },
];

/**
 * What to tell a user who must now point the cameras here: every host name to override, the
 * address (the first of `addresses`, the default route's), the others, the dnsmasq forms, and
 * where the other resolvers' forms are.
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
    `${names} resolve to ${main}${alternatives}. dnsmasq configuration file, one line: ` +
    `${dnsmasqLine(main)} ; on dnsmasq's command line: ${dnsmasqOption(main)} . ` +
    "Pi-hole, AdGuard Home, OpenWrt and the built-in responder: `bairelay doctor --recipes` " +
    "prints each ready to paste. Then check with `bairelay doctor`; a camera may need a reboot " +
    "to forget the old answer.";
}
