import assert from "node:assert/strict";
import { guessLocalAddress, ipRouteSource, localAddressFor } from "../lib/net/local_address.ts";
import { ipv6Bytes, kernelSourceAddress } from "../lib/net/source_address.ts";

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

Deno.test("the kernel's source address comes from a connected socket, as `ip route get` says it", async () => {
  for (const peer of ["127.0.0.7", "::1", "192.0.2.1", "2001:db8::1", "198.51.100.9"]) {
    const kernel = kernelSourceAddress(peer);
    if (!peer.includes(":")) assert.notEqual(kernel, undefined, `${peer}: asked through libc`);
    assert.equal(kernel ?? undefined, await ipRouteSource(peer), peer);
  }
  assert.equal(kernelSourceAddress("::ffff:127.0.0.5"), "127.0.0.1", "a mapped peer is IPv4");
  for (const peer of ["not-an-ip", "fe80::1", "fe80::1%eth0", "1.2.3"]) {
    assert.equal(kernelSourceAddress(peer), undefined, peer);
  }
  assert.deepEqual([...ipv6Bytes("::ffff:1.2.3.4")!], [...Array(10).fill(0), 255, 255, 1, 2, 3, 4]);
  assert.deepEqual([...ipv6Bytes("1:2:3:4:5:6:7:8")!], [
    0,
    1,
    0,
    2,
    0,
    3,
    0,
    4,
    0,
    5,
    0,
    6,
    0,
    7,
    0,
    8,
  ]);
  assert.deepEqual([...ipv6Bytes("2001:db8::1")!].slice(0, 4), [0x20, 0x01, 0x0d, 0xb8]);
  assert.equal(ipv6Bytes("10.0.0.1"), undefined);
});

/** `kernelRouteSource(peer)` in a process with only `permissions`. */
async function routeIn(permissions: string[], peer: string): Promise<string> {
  const module = new URL("../lib/net/local_address.ts", import.meta.url).href;
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { kernelRouteSource } from "${module}";\n` +
        `console.log(String(await kernelRouteSource(${JSON.stringify(peer)})));\n`,
    );
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", "--no-config", ...permissions, script],
      stderr: "inherit",
    }).output();
    assert.ok(output.success);
    return new TextDecoder().decode(output.stdout).trim();
  } finally {
    await Deno.remove(script);
  }
}

Deno.test("kernelRouteSource starts no program when it may use libc, and runs `ip` when it may not", async () => {
  const read = `--allow-read=${new URL("..", import.meta.url).pathname},/proc`;
  // Running programs denied: the answer can only come from the socket.
  assert.equal(await routeIn([read, "--allow-ffi", "--deny-run"], "127.0.0.7"), "127.0.0.1");
  // No FFI: `ip route get`.
  assert.equal(await routeIn([read, "--allow-run", "--allow-env"], "127.0.0.7"), "127.0.0.1");
  // Neither: no answer (localAddressFor then guesses from the interfaces).
  assert.equal(await routeIn([read], "127.0.0.7"), "undefined");
});
