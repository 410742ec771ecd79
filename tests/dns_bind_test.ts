/**
 * The DNS responder's bind failures, as a user meets them: port 53 without the privilege
 * (the message names CAP_NET_BIND_SERVICE and --dns-port), a port systemd-resolved's stub
 * listener holds (the message says so and suggests the LAN address), a port already in use.
 * And the default upstreams: /etc/resolv.conf's nameservers, never the responder itself.
 */

import assert from "node:assert/strict";
import { ListenError, RESOLVED_STUB } from "../lib/net/listen_error.ts";
import { DEFAULT_ALLOW_FROM } from "../lib/dns/ranges.ts";
import { DEFAULT_NAMES } from "../lib/dns/names.ts";
import { type DnsServerOptions, startDnsServer } from "../lib/dns/server.ts";
import { dig, startDnsmasq } from "./support/dns.ts";
import { UNPRIVILEGED_SKIP_REASON, withoutBindCapability } from "./support/privileges.ts";
import {
  freeServePorts,
  freeUdpPort,
  randomLoopback,
  serveAddressArgs,
} from "./support/serve_process.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
/** Why the port-53 test cannot run here, or undefined. */
const ROOT_SKIP_REASON = Deno.uid() !== 0 ? "needs root to bind port 53 on loopback" : undefined;

/** The test name, with the reason when it is skipped here. */
function named(name: string, skip: string | undefined): string {
  return skip === undefined ? name : `${name} (ignored: ${skip})`;
}

function options(overrides: Partial<DnsServerOptions>): DnsServerOptions {
  return {
    bind: "127.0.0.1",
    port: 0,
    names: DEFAULT_NAMES,
    answer: "192.0.2.10",
    advertiseBind: "127.0.0.1",
    ttl: 60,
    forward: false,
    upstreams: [],
    upstreamTimeoutMs: 500,
    maxInflight: 8,
    allowFrom: DEFAULT_ALLOW_FROM,
    ...overrides,
  };
}

function bindFailure(overrides: Partial<DnsServerOptions>, lan?: string[]): ListenError {
  try {
    const server = startDnsServer(options(overrides), { lanAddresses: lan });
    server.close();
  } catch (error) {
    assert.ok(error instanceof ListenError, String(error));
    return error;
  }
  assert.fail("the bind succeeded");
}

Deno.test({
  name: named(
    "dns bind: port 53 without the privilege exits 1 naming CAP_NET_BIND_SERVICE",
    UNPRIVILEGED_SKIP_REASON,
  ),
  ignore: UNPRIVILEGED_SKIP_REASON !== undefined,
  async fn() {
    const ip = randomLoopback();
    const ports = await freeServePorts(ip);
    const stateDir = await Deno.makeTempDir({ prefix: "bairelay-dns-bind-" });
    try {
      const command = withoutBindCapability([
        Deno.execPath(),
        ...["run", "--allow-all", "--quiet", MAIN, "serve", "--no-push", "--dns"],
        ...serveAddressArgs(ip, ports),
        ...["--state-dir", stateDir],
      ]);
      const result = await new Deno.Command(command[0], {
        args: command.slice(1),
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      assert.equal(result.code, 1, stderr);
      assert.match(stderr, new RegExp(`cannot listen on ${ip.replaceAll(".", "\\.")}:53`));
      assert.match(stderr, /DNS responder/);
      assert.match(stderr, /CAP_NET_BIND_SERVICE/);
      assert.match(stderr, /--dns-port/);
    } finally {
      await Deno.remove(stateDir, { recursive: true });
    }
  },
});

Deno.test("dns bind: a port systemd-resolved's stub holds says so and suggests the LAN address", async () => {
  const port = await freeUdpPort(RESOLVED_STUB);
  const stub = Deno.listenDatagram({ transport: "udp", hostname: RESOLVED_STUB, port });
  try {
    const error = bindFailure({ bind: "0.0.0.0", port }, ["192.168.1.10"]);
    assert.equal(error.code, "EADDRINUSE");
    assert.equal(error.listener, "DNS responder (UDP and TCP)");
    assert.match(error.message, /systemd-resolved's stub listener holds 127\.0\.0\.53:/);
    assert.match(error.message, /\[dns\] bind = "192\.168\.1\.10"/);
    assert.match(error.message, /DNSStubListener=no/);
  } finally {
    stub.close();
  }
});

Deno.test("dns bind: a port in use on the same address is named with the remedy", async () => {
  const ip = randomLoopback();
  const port = await freeUdpPort(ip);
  const other = Deno.listen({ hostname: ip, port });
  try {
    const error = bindFailure({ bind: ip, port });
    assert.equal(error.code, "EADDRINUSE");
    assert.match(
      error.message,
      new RegExp(`cannot listen on ${ip.replaceAll(".", "\\.")}:${port}`),
    );
    assert.match(error.message, /already in use/);
    assert.doesNotMatch(error.message, /systemd-resolved/);
    // The UDP socket bound first was released: the port is free again once TCP is.
    other.close();
    const server = startDnsServer(options({ bind: ip, port }));
    await server.close();
  } finally {
    try {
      other.close();
    } catch { /* closed above */ }
  }
});

Deno.test({
  name: named(
    "dns bind: default upstreams come from resolv.conf, the responder itself left out",
    ROOT_SKIP_REASON,
  ),
  ignore: ROOT_SKIP_REASON !== undefined,
  async fn() {
    // Both on port 53 (the resolv.conf port) on their own loopback addresses.
    const ip = randomLoopback();
    const upstream = await startDnsmasq(randomLoopback(), { "example.test": "10.1.2.3" }, 53);
    const resolvConf = await Deno.makeTempFile({ prefix: "bairelay-resolv-" });
    await Deno.writeTextFile(
      resolvConf,
      `search lan\nnameserver ${ip}\nnameserver ${upstream.ip}\n`,
    );
    const server = startDnsServer(options({ bind: ip, port: 53, forward: true, upstreams: null }), {
      resolvConf,
    });
    try {
      assert.deepEqual(server.upstreams, [{ host: upstream.ip, port: 53 }]);
      const answer = await dig(ip, 53, "example.test");
      assert.deepEqual(answer.answers, ["example.test. A 10.1.2.3"]);
    } finally {
      await server.close();
      await upstream.stop();
      await Deno.remove(resolvConf);
    }
  },
});
