/**
 * `bairelay doctor`'s DNS checks against real resolvers on loopback: dnsmasq pointing the
 * Reolink names at this box, at another address, or missing some; a resolver that never
 * answers, one that answers random bytes, a port nobody listens on; and bad --dns values.
 * No serve runs here (exit 3), and the system resolver is never the real one.
 */

import assert from "node:assert/strict";
import { P2P_HOSTS, PUSH_HOST, REOLINK_HOSTS } from "../lib/reolink_hosts.ts";
import type { CheckResult } from "../lib/doctor/result.ts";
import { type Dnsmasq, startDnsmasq, startTestUpstream } from "./support/dns.ts";
import { runCli } from "./support/run_cli.ts";
import { freeTcpPort, freeUdpPort, randomLoopback } from "./support/serve_process.ts";

/** Flags that keep doctor off the real internet and away from any serve. */
function isolated(): string[] {
  return ["--no-system-dns", "--api", `http://127.0.0.1:${freeTcpPort("127.0.0.1")}`];
}

function jsonLines(stdout: string): CheckResult[] {
  return stdout.trim().split("\n").map((line) => JSON.parse(line) as CheckResult);
}

function dnsResult(results: CheckResult[], server: { ip: string; port: number }): CheckResult {
  const found = results.find((entry) => entry.id === `dns.flag.${server.ip}:${server.port}`);
  assert.ok(found, JSON.stringify(results, null, 1));
  return found;
}

const everyName = (address: string) =>
  Object.fromEntries(REOLINK_HOSTS.map((name) => [name, address]));

Deno.test("doctor DNS: dnsmasq pointing here, at another address, and missing names", async () => {
  const servers: Dnsmasq[] = [];
  try {
    const hereAddress = randomLoopback();
    servers.push(await startDnsmasq(randomLoopback(), everyName(hereAddress)));
    servers.push(await startDnsmasq(randomLoopback(), everyName("203.0.113.7")));
    const missing = Object.fromEntries(
      P2P_HOSTS.slice(0, 6).map((name) => [name, hereAddress]),
    );
    servers.push(await startDnsmasq(randomLoopback(), missing));
    const [here, cloud, partial] = servers;
    const dnsFlags = servers.flatMap((s) => ["--dns", `${s.ip}:${s.port}`]);

    const json = await runCli(["doctor", ...isolated(), ...dnsFlags, "--json"]);
    assert.equal(json.code, 3, json.stderr); // no serve: DNS and box checks still ran
    const results = jsonLines(json.stdout);

    const ok = dnsResult(results, here);
    assert.equal(ok.verdict, "ok");
    assert.equal(ok.summary, `--dns ${here.ip}:${here.port}: all 13 names resolve here`);
    assert.deepEqual(ok.details, [
      `p2p.reolink.com, p2p1..p2p11.reolink.com, pushx.reolink.com -> ${hereAddress} (this box)`,
    ]);

    const elsewhere = dnsResult(results, cloud);
    assert.equal(elsewhere.verdict, "problem");
    assert.match(elsewhere.summary, /the p2p names do not resolve to this box/);
    assert.match(elsewhere.details[0], /-> 203\.0\.113\.7 \(not this box: Reolink's cloud/);
    assert.match(
      elsewhere.remedy!,
      /dnsmasq configuration file, one line: address=\/p2p\.reolink\.com\//,
    );
    assert.match(elsewhere.remedy!, /on dnsmasq's command line: --address=\/p2p\.reolink\.com\//);
    assert.match(elsewhere.remedy!, /`bairelay doctor --recipes`/);

    const mix = dnsResult(results, partial);
    assert.equal(mix.verdict, "problem");
    assert.match(mix.summary, /a mix across the p2p names: 6 of 12 resolve here/);
    assert.deepEqual(mix.details, [
      `${P2P_HOSTS.slice(0, 6).join(", ")} -> ${hereAddress} (this box)`,
      `${[...P2P_HOSTS.slice(6), PUSH_HOST].join(", ")} -> REFUSED`,
    ]);
    assert.match(mix.remedy!, /refuses or fails the query/);

    // --expect: the "other" address is where serve runs.
    const expected = await runCli([
      "doctor",
      ...isolated(),
      "--dns",
      `${cloud.ip}:${cloud.port}`,
      "--expect",
      "203.0.113.7",
      "--json",
    ]);
    const viaExpect = dnsResult(jsonLines(expected.stdout), cloud);
    assert.equal(viaExpect.verdict, "ok");
    assert.match(viaExpect.details[0], /203\.0\.113\.7 \(--expect\)/);

    // The checklist: a line per check under its group, remedies as "fix:" lines.
    const text = await runCli(["doctor", ...isolated(), ...dnsFlags]);
    assert.equal(text.code, 3, text.stderr);
    assert.match(text.stdout, /^DNS\n {2}ok {7}--dns /);
    assert.match(text.stdout, /\n {2}problem {2}--dns .*: a mix across the p2p names/);
    assert.match(text.stdout, /\n {11}fix: /);
    assert.match(text.stdout, /\nserve\n {2}problem {2}serve not reachable/);
    assert.match(text.stdout, /\nthis box\n/);
    assert.match(text.stdout, /\n\d+ problems, \d+ warnings?, \d+ ok\n$/);
  } finally {
    for (const server of servers) await server.stop();
  }
});

/** A UDP "resolver" that answers every datagram with random bytes. */
function startGarbageResolver(ip: string, port: number) {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: ip, port });
  const loop = (async () => {
    while (true) {
      try {
        const [, from] = await socket.receive();
        const junk = crypto.getRandomValues(new Uint8Array(48));
        await socket.send(junk, from);
      } catch {
        return;
      }
    }
  })();
  return {
    async stop() {
      socket.close();
      await loop;
    },
  };
}

Deno.test("doctor DNS: silent, garbage and unreachable resolvers are clear lines within the time limit", async () => {
  const silent = await startTestUpstream(randomLoopback(), { silent: true });
  const garbageIp = randomLoopback();
  const garbagePort = await freeUdpPort(garbageIp);
  const garbage = startGarbageResolver(garbageIp, garbagePort);
  const nobodyIp = randomLoopback();
  const nobodyPort = await freeUdpPort(nobodyIp);
  // The "system resolver" of this run: a loopback address where nothing listens on port 53.
  const resolvConf = await Deno.makeTempFile({ suffix: ".conf" });
  await Deno.writeTextFile(resolvConf, `nameserver ${randomLoopback()}\n`);
  // The API: a TCP port that accepts connections and never answers.
  const apiIp = randomLoopback();
  const api = Deno.listen({ hostname: apiIp, port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of api) held.push(conn);
    } catch { /* closed */ }
  })();
  try {
    const started = performance.now();
    const run = await runCli([
      "doctor",
      "--resolv-conf",
      resolvConf,
      ...["--dns", `${silent.ip}:${silent.port}`, "--dns", `${garbageIp}:${garbagePort}`],
      ...["--dns", `${nobodyIp}:${nobodyPort}`, "--dns-timeout", "800"],
      ...["--api", `http://${apiIp}:${(api.addr as Deno.NetAddr).port}`, "--timeout", "800"],
      "--json",
    ], { timeoutMs: 15_000 });
    const elapsed = performance.now() - started;
    assert.equal(run.code, 3, run.stderr);
    assert.equal(run.stderr, "");
    assert.ok(elapsed < 8000, `doctor took ${elapsed} ms with every server silent`);
    const results = jsonLines(run.stdout);

    const quiet = dnsResult(results, silent);
    assert.equal(quiet.verdict, "problem");
    assert.match(quiet.summary, /no answer within 800 ms/);
    assert.match(quiet.remedy!, /is it running, and does a firewall let UDP through/);
    assert.ok(silent.udpQueries >= REOLINK_HOSTS.length);

    const junk = dnsResult(results, { ip: garbageIp, port: garbagePort });
    assert.equal(junk.verdict, "problem");
    assert.match(junk.details.join("\n"), /not a DNS answer/);
    assert.match(junk.remedy!, /not a DNS server/);

    const nobody = dnsResult(results, { ip: nobodyIp, port: nobodyPort });
    assert.equal(nobody.verdict, "problem");
    assert.match(nobody.summary, /no answer within 800 ms/);

    const system = results.find((entry) => entry.id.startsWith("dns.system."));
    assert.ok(system, run.stdout);
    assert.equal(system.verdict, "warning"); // --dns names the cameras' resolver
    assert.match(
      system.summary,
      /^system resolver .*:53: no answer within 800 ms \(this box's own/,
    );

    const serve = results.find((entry) => entry.id === "serve.api")!;
    assert.match(
      serve.summary,
      /serve not reachable: the control API at .* did not answer in 800 ms/,
    );
  } finally {
    api.close();
    for (const conn of held) conn.close();
    await accepting;
    await silent.stop();
    await garbage.stop();
    await Deno.remove(resolvConf);
  }
});

Deno.test("doctor DNS: a resolv.conf without nameservers is a warning, not a crash", async () => {
  const resolvConf = await Deno.makeTempFile({ suffix: ".conf" });
  try {
    await Deno.writeTextFile(resolvConf, "# nothing here\nsearch lan\n");
    const api = `http://127.0.0.1:${freeTcpPort("127.0.0.1")}`;
    const run = await runCli(["doctor", "--resolv-conf", resolvConf, "--api", api]);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stdout, /warning {2}system resolver: no nameserver line in /);
  } finally {
    await Deno.remove(resolvConf);
  }
});

Deno.test("doctor: bad --dns, --expect and timeouts are usage errors (exit 2)", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--dns", "pihole.lan"],
      /--dns <host\[:port\]>' argument 'pihole\.lan' is invalid\. Expected an IP address with an optional port/,
    ],
    [["--dns", "127.0.0.1:99999"], /'127\.0\.0\.1:99999' is invalid\. Expected an IP address/],
    [
      ["--expect", "my-box"],
      /--expect <address>' argument 'my-box' is invalid\. Expected an IP address/,
    ],
    [
      ["--dns-timeout", "0"],
      /--dns-timeout <ms>' argument '0' is invalid\. Expected a whole number of milliseconds/,
    ],
    [
      ["--timeout", "forever"],
      /--timeout <ms>' argument 'forever' is invalid\. Expected a whole number/,
    ],
    [Array.from({ length: 9 }, (_, i) => ["--dns", `127.0.0.${i + 1}`]).flat(), /At most 8 --dns/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(["doctor", "--no-system-dns", ...args]);
    assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, message);
  }
});

Deno.test("doctor --help lists the checks, the exit codes and examples", async () => {
  const run = await runCli(["doctor", "--help"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /--dns <host\[:port\]>/);
  assert.doesNotMatch(run.stdout, /--resolv-conf/); // a test hook, not for users
  assert.match(run.stdout, /Checks \(each line ok, warning or problem/);
  assert.match(run.stdout, /this box {2}net\.core\.rmem_max/);
  assert.match(
    run.stdout,
    /Exit codes:\n {2}0 {2}no problem .*\n {2}1 {2}a problem\n {2}2 {2}bad usage/,
  );
  assert.match(run.stdout, /Examples:\n {2}bairelay doctor\n/);
});
