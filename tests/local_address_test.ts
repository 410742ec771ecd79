import assert from "node:assert/strict";
import { guessLocalAddress, localAddressFor } from "../lib/net/local_address.ts";

const INTERFACES = [
  { family: "IPv4" as const, address: "127.0.0.1", netmask: "255.0.0.0" },
  { family: "IPv6" as const, address: "::1", netmask: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
  { family: "IPv6" as const, address: "fe80::1", netmask: "ffff:ffff:ffff:ffff::" },
  { family: "IPv4" as const, address: "192.168.7.20", netmask: "255.255.255.0" },
  { family: "IPv4" as const, address: "10.1.0.5", netmask: "255.255.0.0" },
  { family: "IPv6" as const, address: "2001:db8::20", netmask: "ffff:ffff:ffff:ffff::" },
];

Deno.test("guessLocalAddress picks the interface on the peer's subnet, never a wildcard", () => {
  assert.equal(guessLocalAddress("127.0.0.3", INTERFACES), "127.0.0.1");
  assert.equal(guessLocalAddress("10.1.200.1", INTERFACES), "10.1.0.5");
  assert.equal(guessLocalAddress("192.168.7.1", INTERFACES), "192.168.7.20");
  // Off every subnet: the first non-loopback address (where the default route usually is).
  assert.equal(guessLocalAddress("203.0.113.9", INTERFACES), "192.168.7.20");
  assert.equal(guessLocalAddress("2001:db8:1::9", INTERFACES), "2001:db8::20");
  assert.equal(guessLocalAddress("::1", INTERFACES), "::1");
  // Nothing but loopback: loopback, not 0.0.0.0.
  assert.equal(guessLocalAddress("203.0.113.9", INTERFACES.slice(0, 3)), "127.0.0.1");
  assert.equal(guessLocalAddress("2001:db8:1::9", INTERFACES.slice(0, 3)), "::1");
});

Deno.test("localAddressFor prefers the kernel's route and falls back to the guess", async () => {
  const interfaces = () => INTERFACES;
  const route = (answer: string | undefined) => () => Promise.resolve(answer);
  assert.equal(
    await localAddressFor("203.0.113.9", { routeSource: route("10.1.0.5"), interfaces }),
    "10.1.0.5",
  );
  for (const routeSource of [route(undefined), route("0.0.0.0"), () => Promise.reject()]) {
    assert.equal(await localAddressFor("10.1.9.9", { routeSource, interfaces }), "10.1.0.5");
  }
});

Deno.test("localAddressFor asks this machine's routing table for loopback peers", async () => {
  // `ip route get` reads the routing table only; nothing is sent.
  assert.equal(await localAddressFor("127.0.0.1"), "127.0.0.1");
  assert.equal(await localAddressFor("127.0.0.7"), "127.0.0.1");
});
