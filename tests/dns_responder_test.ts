/**
 * The DNS responder against real clients and servers: dig (bind9-dnsutils) asks it on a random
 * loopback address, dnsmasq is the real upstream, a small test upstream truncates over UDP or
 * never answers. The responder runs in-process so its counters can be read.
 */

import assert from "node:assert/strict";
import type { DnsServer } from "../lib/dns/server.ts";
import {
  dig,
  type Dnsmasq,
  startDnsmasq,
  startTestResponder,
  startTestUpstream,
} from "./support/dns.ts";
import { randomLoopback } from "./support/serve_process.ts";

const UPSTREAM_NAME = "example.test";
const UPSTREAM_ADDRESS = "10.1.2.3";

async function withDnsmasq(test: (upstream: Dnsmasq) => Promise<void>): Promise<void> {
  const upstream = await startDnsmasq(randomLoopback(), { [UPSTREAM_NAME]: UPSTREAM_ADDRESS });
  try {
    await test(upstream);
  } finally {
    await upstream.stop();
  }
}

function port(server: DnsServer): number {
  return server.address.port;
}

Deno.test("dns: the Reolink names get this box's address over UDP and TCP", async () => {
  const { ip, server, count, metrics } = startTestResponder();
  try {
    for (const name of ["p2p.reolink.com", "p2p7.reolink.com", "pushx.reolink.com"]) {
      for (const tcp of [false, true]) {
        const result = await dig(ip, port(server), name, { tcp });
        assert.equal(result.status, "NOERROR", result.output);
        assert.deepEqual(result.answers, [`${name}. A ${ip}`], result.output);
        assert.ok(result.flags.includes("aa"), result.output);
      }
    }
    const mixedCase = await dig(ip, port(server), "P2P3.Reolink.COM");
    assert.deepEqual(mixedCase.answers, [`P2P3.Reolink.COM. A ${ip}`]);
    assert.equal(count("intercepted"), 7);
    assert.match(metrics.render(), /bairelay_dns_queries_total\{result="malformed"\} 0/);
  } finally {
    await server.close();
  }
});

Deno.test("dns: AAAA and other types of the Reolink names are NOERROR without an answer", async () => {
  const { ip, server, count } = startTestResponder();
  try {
    for (const type of ["AAAA", "TXT", "MX"]) {
      const result = await dig(ip, port(server), "p2p.reolink.com", { type });
      assert.equal(result.status, "NOERROR", result.output);
      assert.deepEqual(result.answers, [], result.output);
    }
    assert.equal(count("intercepted"), 3);
  } finally {
    await server.close();
  }
});

Deno.test("dns: a fixed answer and a TTL from the options", async () => {
  const { ip, server } = startTestResponder({ answer: "192.168.77.5", ttl: 5 });
  try {
    const result = await dig(ip, port(server), "p2p.reolink.com", { extra: ["+ttlunits"] });
    assert.deepEqual(result.answers, ["p2p.reolink.com. A 192.168.77.5"]);
    assert.match(result.output, /p2p\.reolink\.com\.\s+5s\s+IN\s+A/);
  } finally {
    await server.close();
  }
});

Deno.test("dns: other names are forwarded to dnsmasq over UDP and TCP", async () => {
  await withDnsmasq(async (upstream) => {
    const { ip, server, count } = startTestResponder({
      upstreams: [{ host: upstream.ip, port: upstream.port }],
    });
    try {
      for (const tcp of [false, true]) {
        const result = await dig(ip, port(server), UPSTREAM_NAME, { tcp });
        assert.equal(result.status, "NOERROR", result.output);
        assert.deepEqual(result.answers, [`${UPSTREAM_NAME}. A ${UPSTREAM_ADDRESS}`]);
      }
      // dnsmasq's own answer for a name it does not know passes through unchanged.
      const unknown = await dig(ip, port(server), "nothing.example.test");
      const direct = await dig(upstream.ip, upstream.port, "nothing.example.test");
      assert.equal(unknown.status, direct.status);
      assert.equal(count("forwarded"), 3);
    } finally {
      await server.close();
    }
  });
});

Deno.test("dns: a forwarded answer is the upstream's, EDNS included, with the client's id", async () => {
  await withDnsmasq(async (upstream) => {
    const { ip, server } = startTestResponder({
      upstreams: [{ host: upstream.ip, port: upstream.port }],
    });
    try {
      const through = await dig(ip, port(server), UPSTREAM_NAME, { extra: ["+edns=0"] });
      const direct = await dig(upstream.ip, upstream.port, UPSTREAM_NAME, { extra: ["+edns=0"] });
      const pseudo = (text: string) => /OPT PSEUDOSECTION:\n; EDNS: [^\n]*\n/.exec(text)?.[0];
      assert.ok(pseudo(direct.output), direct.output);
      assert.equal(pseudo(through.output), pseudo(direct.output));
      assert.deepEqual(through.flags, direct.flags);
      // dig checks the id itself: a wrong one would be "ID mismatch", not an answer.
      assert.doesNotMatch(through.output, /mismatch/i);
    } finally {
      await server.close();
    }
  });
});

Deno.test("dns: a truncated upstream answer is asked again over TCP", async () => {
  const upstream = await startTestUpstream(randomLoopback(), { records: 40 });
  const { ip, server } = startTestResponder({
    upstreams: [{ host: upstream.ip, port: upstream.port }],
  });
  try {
    // Over TCP the client gets all 40 records (our retry over TCP fetched them).
    const tcp = await dig(ip, port(server), "big.example.test", { tcp: true });
    assert.equal(tcp.status, "NOERROR", tcp.output);
    assert.equal(tcp.answers.length, 40, tcp.output);
    assert.equal(upstream.tcpQueries, 1);
    // With a 4096-byte EDNS buffer the full answer (about 680 bytes) fits in UDP.
    const udp = await dig(ip, port(server), "big.example.test", {
      extra: ["+bufsize=4096", "+ignore"],
    });
    assert.equal(udp.answers.length, 40, udp.output);
    assert.ok(!udp.flags.includes("tc"), udp.output);
    // A classic 512-byte client gets the truncated answer, and dig falls back to TCP itself.
    const small = await dig(ip, port(server), "big.example.test", {
      extra: ["+noedns", "+ignore"],
    });
    assert.ok(small.flags.includes("tc"), small.output);
    assert.equal(upstream.tcpQueries, 3);
  } finally {
    await server.close();
    await upstream.stop();
  }
});

Deno.test("dns: forward = false answers other names REFUSED", async () => {
  const { ip, server, count } = startTestResponder({ forward: false, upstreams: null });
  try {
    const result = await dig(ip, port(server), UPSTREAM_NAME);
    assert.equal(result.status, "REFUSED", result.output);
    assert.deepEqual(server.upstreams, []);
    const reolink = await dig(ip, port(server), "p2p.reolink.com");
    assert.deepEqual(reolink.answers, [`p2p.reolink.com. A ${ip}`]);
    assert.equal(count("refused"), 1);
  } finally {
    await server.close();
  }
});

Deno.test("dns: a source outside allow_from is REFUSED, even for the Reolink names", async () => {
  await withDnsmasq(async (upstream) => {
    const { ip, server, count } = startTestResponder({
      allowFrom: ["10.0.0.0/8", "fd00::/8"],
      upstreams: [{ host: upstream.ip, port: upstream.port }],
    });
    try {
      for (const name of ["p2p.reolink.com", UPSTREAM_NAME]) {
        for (const tcp of [false, true]) {
          const result = await dig(ip, port(server), name, { tcp });
          assert.equal(result.status, "REFUSED", result.output);
          assert.deepEqual(result.answers, []);
        }
      }
      assert.equal(count("refused"), 4);
      assert.equal(count("forwarded"), 0);
    } finally {
      await server.close();
    }
  });
});

Deno.test("dns: an upstream that never answers gives SERVFAIL within the timeout", async () => {
  const upstream = await startTestUpstream(randomLoopback(), { silent: true });
  const { ip, server, count } = startTestResponder({
    upstreams: [{ host: upstream.ip, port: upstream.port }],
    upstreamTimeoutMs: 300,
  });
  try {
    const started = performance.now();
    const result = await dig(ip, port(server), "slow.example.test", { timeSecs: 5 });
    const elapsed = performance.now() - started;
    assert.equal(result.status, "SERVFAIL", result.output);
    assert.ok(elapsed < 3000, `SERVFAIL after ${elapsed} ms`);
    assert.ok(upstream.udpQueries >= 1);
    assert.equal(count("servfail"), 1);
  } finally {
    await server.close();
    await upstream.stop();
  }
});

Deno.test("dns: more forwards than max_inflight get SERVFAIL at once, counted", async () => {
  const upstream = await startTestUpstream(randomLoopback(), { silent: true });
  const { ip, server, count } = startTestResponder({
    upstreams: [{ host: upstream.ip, port: upstream.port }],
    upstreamTimeoutMs: 1500,
    maxInflight: 1,
  });
  try {
    const first = dig(ip, port(server), "one.example.test", { timeSecs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const started = performance.now();
    const second = await dig(ip, port(server), "two.example.test", { timeSecs: 5 });
    const elapsed = performance.now() - started;
    assert.equal(second.status, "SERVFAIL");
    assert.ok(elapsed < 1000, `busy SERVFAIL after ${elapsed} ms`);
    assert.equal((await first).status, "SERVFAIL");
    assert.equal(count("servfail"), 2);
    assert.equal(upstream.udpQueries, 1);
  } finally {
    await server.close();
    await upstream.stop();
  }
});

Deno.test("dns: the first upstream to answer wins when another is silent", async () => {
  await withDnsmasq(async (good) => {
    const silent = await startTestUpstream(randomLoopback(), { silent: true });
    const { ip, server } = startTestResponder({
      upstreams: [{ host: silent.ip, port: silent.port }, { host: good.ip, port: good.port }],
      upstreamTimeoutMs: 1500,
    });
    try {
      const started = performance.now();
      const result = await dig(ip, port(server), UPSTREAM_NAME);
      assert.deepEqual(result.answers, [`${UPSTREAM_NAME}. A ${UPSTREAM_ADDRESS}`]);
      assert.ok(performance.now() - started < 1000);
    } finally {
      await server.close();
      await silent.stop();
    }
  });
});

Deno.test("dns: over IPv6 loopback, A gets the fixed answer; with no IPv4 to answer, SERVFAIL", async () => {
  const fixed = startTestResponder({ bind: "::1", advertiseBind: "::1", answer: "192.0.2.7" });
  const derived = startTestResponder({ bind: "::1", advertiseBind: "::1" });
  try {
    for (const tcp of [false, true]) {
      const result = await dig("::1", port(fixed.server), "p2p.reolink.com", { tcp });
      assert.deepEqual(result.answers, ["p2p.reolink.com. A 192.0.2.7"], result.output);
    }
    // Bound to ::1, this box reaches the client on ::1: no IPv4 address to put in an A record.
    const none = await dig("::1", port(derived.server), "p2p.reolink.com");
    assert.equal(none.status, "SERVFAIL", none.output);
    assert.equal(derived.count("servfail"), 1);
  } finally {
    await fixed.server.close();
    await derived.server.close();
  }
});
