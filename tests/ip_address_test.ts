/**
 * `ipVersion` (the serve path's IP check, free of `node:net`) gives node:net's `isIP` answer
 * for addresses of both families, near misses and arbitrary text; zone ids are the one
 * deliberate difference (no listener here takes them).
 */

import assert from "node:assert/strict";
import { isIP } from "node:net";
import fc from "fast-check";
import { ipVersion, plainIp } from "../lib/net/ip.ts";

const KNOWN: readonly [string, 0 | 4 | 6][] = [
  ["0.0.0.0", 4],
  ["127.0.0.1", 4],
  ["255.255.255.255", 4],
  ["192.168.1.10", 4],
  ["256.1.1.1", 0],
  ["1.2.3", 0],
  ["01.2.3.4", 0],
  ["1.2.3.4.", 0],
  [" 1.2.3.4", 0],
  ["::", 6],
  ["::1", 6],
  ["fe80::1", 6],
  ["2001:db8::8a2e:370:7334", 6],
  ["::ffff:192.168.1.1", 6],
  ["1:2:3:4:5:6:7:8", 6],
  ["1:2:3:4:5:6:7:8:9", 0],
  ["1::2::3", 0],
  ["[::1]", 0],
  ["::1:53", 6],
  ["12345::", 0],
  ["localhost", 0],
  ["", 0],
  ["fe80::1%eth0", 0],
];

Deno.test("ipVersion: known addresses and near misses", () => {
  for (const [text, version] of KNOWN) assert.equal(ipVersion(text), version, text);
});

Deno.test("ipVersion agrees with node:net isIP (zone ids aside)", () => {
  const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255))
    .map((parts) => parts.join("."));
  const group = fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16));
  const ipv6 = fc.array(group, { minLength: 8, maxLength: 8 }).chain((groups) =>
    fc.nat(7).chain((at) =>
      fc.nat(8 - at).map((cut) => {
        const head = groups.slice(0, at).join(":");
        const tail = groups.slice(at + cut).join(":");
        return cut === 0 ? groups.join(":") : `${head}::${tail}`;
      })
    )
  );
  const noisy = fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF:.%[] x") });
  fc.assert(
    fc.property(fc.oneof(ipv4, ipv6, noisy), (text) => {
      fc.pre(!text.includes("%"));
      assert.equal(ipVersion(text), isIP(text), JSON.stringify(text));
    }),
    { numRuns: 5000 },
  );
});

Deno.test("IPv4-mapped peers are normalized", () => {
  assert.equal(plainIp("::ffff:127.0.0.5"), "127.0.0.5");
  assert.equal(plainIp("127.0.0.5"), "127.0.0.5");
  assert.equal(plainIp("::1"), "::1");
});
