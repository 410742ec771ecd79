/**
 * The listen-error table: every cause of every listener's voice gives the message users have
 * always read, a code outside the table gives the system's own words, and Deno's bind errors
 * map to their errno-like codes.
 */

import assert from "node:assert/strict";
import {
  LISTEN_VOICES,
  ListenError,
  listenError,
  type ListenSite,
  type ListenVoice,
  refusalOf,
} from "../lib/net/listen_error.ts";

const WAKE: ListenSite = { listener: "register", host: "192.0.2.7", port: 58200 };
const PUSH: ListenSite = { listener: "push", host: "0.0.0.0", port: 443 };
const API: ListenSite = { listener: "api (HTTP, TCP)", host: "::1", port: 8080 };
const DNS: ListenSite = { listener: "DNS responder (UDP and TCP)", host: "192.0.2.7", port: 53 };
const OS_WORDS = "Some words of the system (os error 98)";

const API_PRIVILEGE = "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE, " +
  "e.g. `setcap cap_net_bind_service=+ep bairelay` or systemd " +
  "AmbientCapabilities=CAP_NET_BIND_SERVICE)";

/** [voice, site, code (undefined: none), the whole message]. */
const MESSAGES: [ListenVoice, ListenSite, string | undefined, string][] = [
  [
    "wake",
    WAKE,
    "EADDRINUSE",
    "cannot bind the register listener on udp 192.0.2.7:58200: port 58200 is already in use " +
    "(stop the other program or choose another register port)",
  ],
  ...["EACCES", "EPERM"].map((code): [ListenVoice, ListenSite, string, string] => [
    "wake",
    WAKE,
    code,
    "cannot bind the register listener on udp 192.0.2.7:58200: permission denied (run with " +
    "CAP_NET_BIND_SERVICE, e.g. AmbientCapabilities=CAP_NET_BIND_SERVICE, or choose a port " +
    "above 1023)",
  ]),
  [
    "wake",
    WAKE,
    "EADDRNOTAVAIL",
    "cannot bind the register listener on udp 192.0.2.7:58200: 192.0.2.7 is not an address " +
    "of this machine (use 0.0.0.0 or one of its addresses)",
  ],
  ["wake", WAKE, "EINVAL", "cannot bind the register listener on udp 192.0.2.7:58200: EINVAL"],
  [
    "wake",
    WAKE,
    undefined,
    `cannot bind the register listener on udp 192.0.2.7:58200: ${OS_WORDS}`,
  ],
  [
    "push",
    PUSH,
    "EACCES",
    `push listener cannot bind TCP 0.0.0.0:443: ${OS_WORDS}. Ports below 1024 need root or ` +
    "CAP_NET_BIND_SERVICE (e.g. `setcap cap_net_bind_service=+ep` on the executable, or " +
    "AmbientCapabilities=CAP_NET_BIND_SERVICE in the systemd unit), or set [push_listener] " +
    "port / --push-port to an unprivileged port and redirect 443 to it with iptables/nft",
  ],
  [
    "push",
    PUSH,
    "EADDRINUSE",
    `push listener cannot bind TCP 0.0.0.0:443: ${OS_WORDS}. Another program already listens ` +
    "on port 443 (find it with `ss -ltnp`); stop it, or choose another [push_listener] port / " +
    "--push-port, or disable the push listener with --no-push",
  ],
  [
    "push",
    PUSH,
    "EADDRNOTAVAIL",
    `push listener cannot bind TCP 0.0.0.0:443: ${OS_WORDS}. The address is not one of this ` +
    "machine's; fix [push_listener] bind (or the top-level bind)",
  ],
  [
    "push",
    PUSH,
    "EINVAL",
    `push listener cannot bind TCP 0.0.0.0:443: ${OS_WORDS}. Check [push_listener] bind and port`,
  ],
  [
    "api",
    API,
    "EADDRINUSE",
    "cannot listen on [::1]:8080 for the api (HTTP, TCP): port 8080 is already in use " +
    "(another bairelay? see `ss -lntup | grep 8080`); stop that program or choose another port",
  ],
  [
    "api",
    API,
    "EACCES",
    `cannot listen on [::1]:8080 for the api (HTTP, TCP): ${API_PRIVILEGE}; or choose another port`,
  ],
  [
    "api",
    API,
    "EADDRNOTAVAIL",
    "cannot listen on [::1]:8080 for the api (HTTP, TCP): ::1 is not an address of this " +
    "machine; use one of its addresses or 0.0.0.0",
  ],
  ["api", API, "EINVAL", `cannot listen on [::1]:8080 for the api (HTTP, TCP): ${OS_WORDS}`],
  [
    "dns",
    DNS,
    "EADDRINUSE",
    "cannot listen on 192.0.2.7:53 for the DNS responder (UDP and TCP): port 53 is already in " +
    "use (another bairelay? see `ss -lntup | grep 53`); stop that program or choose another port",
  ],
  [
    "dns",
    DNS,
    "EACCES",
    `cannot listen on 192.0.2.7:53 for the DNS responder (UDP and TCP): ${API_PRIVILEGE}; or ` +
    "choose another port with [dns] port or --dns-port, and redirect UDP and TCP port 53 to it " +
    "(nft/iptables): cameras always ask port 53",
  ],
  [
    "dns",
    DNS,
    "EADDRNOTAVAIL",
    "cannot listen on 192.0.2.7:53 for the DNS responder (UDP and TCP): 192.0.2.7 is not an " +
    "address of this machine; use one of its addresses or 0.0.0.0",
  ],
  [
    "dns",
    DNS,
    undefined,
    `cannot listen on 192.0.2.7:53 for the DNS responder (UDP and TCP): ${OS_WORDS}`,
  ],
  [
    "dnsResolvedStub",
    DNS,
    "EADDRINUSE",
    "cannot listen on 192.0.2.7:53 for the DNS responder: systemd-resolved's stub listener " +
    "holds 127.0.0.53:53. Bind the responder to this box's LAN address instead ([dns] bind = " +
    '"192.168.1.10"), or turn the stub listener off (DNSStubListener=no in ' +
    "/etc/systemd/resolved.conf, then restart systemd-resolved)",
  ],
  [
    "dnsResolvedStub",
    { ...DNS, suggestedHost: "10.0.0.2" },
    "EADDRINUSE",
    "cannot listen on 192.0.2.7:53 for the DNS responder: systemd-resolved's stub listener " +
    "holds 127.0.0.53:53. Bind the responder to this box's LAN address instead ([dns] bind = \"" +
    '10.0.0.2"), or turn the stub listener off (DNSStubListener=no in ' +
    "/etc/systemd/resolved.conf, then restart systemd-resolved)",
  ],
];

/** A bind failure as a system reports it: its words, and an errno-like code when it has one. */
function refused(code: string | undefined): Error {
  return code === undefined ? new Error(OS_WORDS) : Object.assign(new Error(OS_WORDS), { code });
}

Deno.test("every cause in the listen-error table gives its listener's message", () => {
  for (const [voice, site, code, message] of MESSAGES) {
    const error = listenError(voice, site, refused(code));
    assert.ok(error instanceof ListenError);
    assert.equal(error.message, message, `${voice} ${code}`);
    assert.equal(error.code, code ?? "UNKNOWN");
    assert.equal(error.listener, site.listener);
    assert.equal(error.address, site.host);
    assert.equal(error.port, site.port);
    assert.ok(message.includes(error.reason), `${voice} ${code}: the reason is in the message`);
    if (error.remedy !== undefined) assert.ok(message.includes(error.remedy));
  }
});

Deno.test("the listen-error table has no cause without a message checked above", () => {
  for (const [voice, { causes }] of Object.entries(LISTEN_VOICES)) {
    for (const code of Object.keys(causes)) {
      assert.ok(
        MESSAGES.some(([v, , c]) => v === voice && c === code),
        `${voice} ${code} has no expected message`,
      );
    }
  }
});

Deno.test("Deno's bind errors map to errno-like codes; anything else keeps its own code", () => {
  const cases: [unknown, string | undefined][] = [
    [new Deno.errors.AddrInUse("x"), "EADDRINUSE"],
    [new Deno.errors.PermissionDenied("x"), "EACCES"],
    [new Deno.errors.AddrNotAvailable("x"), "EADDRNOTAVAIL"],
    [Object.assign(new Error("x"), { code: "EPERM" }), "EPERM"],
    [new Error("x"), undefined],
    ["a string", undefined],
    [null, undefined],
  ];
  for (const [error, code] of cases) assert.equal(refusalOf(error).code, code, String(error));
  const odd = listenError("api", API, Object.assign(new Error(OS_WORDS), { code: "toString" }));
  assert.equal(odd.message, `cannot listen on [::1]:8080 for the api (HTTP, TCP): ${OS_WORDS}`);
  assert.equal(refusalOf("a string").message, "a string");
});

Deno.test("a real port in use is explained in the listener's words", () => {
  const holder = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (holder.addr as Deno.NetAddr).port;
  try {
    Deno.listen({ hostname: "127.0.0.1", port });
    assert.fail("the second listen succeeded");
  } catch (error) {
    const explained = listenError(
      "api",
      { listener: "api (HTTP, TCP)", host: "127.0.0.1", port },
      error,
    );
    assert.equal(explained.code, "EADDRINUSE");
    assert.match(explained.message, new RegExp(`port ${port} is already in use`));
  } finally {
    holder.close();
  }
});
