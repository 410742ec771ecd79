/**
 * The DNS advice users paste: every recipe names all 13 Reolink names, and the forms that a
 * dnsmasq here can run (configuration file, command line, Pi-hole's lines, the hosts lines
 * AdGuard Home takes, OpenWrt's uci value) are fed to a real dnsmasq, which then answers
 * every name with the address, and `bairelay doctor` reports all names here.
 */

import assert from "node:assert/strict";
import {
  dnsmasqLine,
  dnsmasqOption,
  REDIRECT_RECIPES,
  REOLINK_HOSTS,
} from "../lib/reolink_hosts.ts";
import { dig, startDnsmasq } from "./support/dns.ts";
import { randomLoopback } from "./support/serve_process.ts";
import { runCli } from "./support/run_cli.ts";

/** The recipe with `key`, its text for `address`. */
function recipe(key: string, address: string): string {
  const found = REDIRECT_RECIPES.find((r) => r.key === key);
  assert.ok(found, `no recipe ${key}`);
  return found.text(address);
}

/** How each runnable recipe becomes dnsmasq options (a file it reads, or the option itself). */
async function dnsmasqArgs(key: string, address: string, dir: string): Promise<string[]> {
  const text = recipe(key, address);
  const file = `${dir}/${key}.conf`;
  switch (key) {
    case "dnsmasq":
      await Deno.writeTextFile(file, `${text}\n`);
      return [`--conf-file=${file}`];
    case "dnsmasq-cli":
      return [text];
    case "pihole": {
      const lines = JSON.parse(/'(\[.*\])'/.exec(text)![1]) as string[];
      await Deno.writeTextFile(file, `${lines.join("\n")}\n`);
      return [`--conf-file=${file}`];
    }
    case "pihole5":
      await Deno.writeTextFile(file, `${/^echo '([^']*)'/.exec(text)![1]}\n`);
      return [`--conf-file=${file}`];
    case "adguard":
      // AdGuard Home's custom rules in hosts syntax are hosts-file lines: dnsmasq reads those.
      await Deno.writeTextFile(file, `${text}\n`);
      return [`--addn-hosts=${file}`];
    case "openwrt":
      // uci's list value becomes one `address=` option of the router's dnsmasq.
      return [`--address=${/address='([^']*)'/.exec(text)![1]}`];
  }
  throw new Error(`recipe ${key} cannot run here`);
}

const RUNNABLE = ["dnsmasq", "dnsmasq-cli", "pihole", "pihole5", "adguard", "openwrt"];

Deno.test("dns recipes: every recipe is complete and the dnsmasq forms are what they say", () => {
  const address = "192.168.1.10";
  assert.equal(dnsmasqOption(address), `--${dnsmasqLine(address)}`);
  for (const { key, text } of REDIRECT_RECIPES) {
    if (key === "bairelay") continue;
    for (const name of REOLINK_HOSTS) {
      assert.ok(text(address).includes(name), `${key} lacks ${name}`);
    }
  }
  assert.deepEqual(
    REDIRECT_RECIPES.map((r) => r.key).filter((key) => !RUNNABLE.includes(key)),
    ["bairelay"],
  );
});

for (const key of RUNNABLE) {
  Deno.test(`dns recipes: dnsmasq takes the ${key} form and answers all names; doctor agrees`, async () => {
    const dir = await Deno.makeTempDir();
    const ip = randomLoopback();
    // An address of this box (loopback), so doctor counts the answers as "here".
    const target = randomLoopback();
    const server = await startDnsmasq(ip, {}, undefined, {
      args: await dnsmasqArgs(key, target, dir),
      probe: REOLINK_HOSTS[0],
    });
    try {
      for (const name of REOLINK_HOSTS) {
        const answer = await dig(ip, server.port, name);
        assert.equal(answer.status, "NOERROR", `${name}: ${answer.output}`);
        assert.ok(answer.answers.some((a) => a.endsWith(`A ${target}`)), answer.output);
      }
      const doctor = await runCli([
        "doctor",
        ...["--dns", `${ip}:${server.port}`, "--no-system-dns", "--json"],
        ...["--api", "http://127.0.0.1:1", "--timeout", "500"],
      ]);
      const dns = doctor.stdout.split("\n").filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line)).find((r) => r.group === "dns");
      assert.ok(dns, doctor.stdout + doctor.stderr);
      assert.equal(dns.verdict, "ok", JSON.stringify(dns));
      assert.match(dns.summary, new RegExp(`all ${REOLINK_HOSTS.length} names resolve here`));
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("dns recipes: doctor --recipes prints each form for the address given", async () => {
  const run = await runCli(["doctor", "--recipes", "192.168.1.10"]);
  assert.equal(run.code, 0, run.stderr);
  for (const { resolver, text } of REDIRECT_RECIPES) {
    assert.ok(run.stdout.includes(resolver), resolver);
    assert.ok(run.stdout.includes(text("192.168.1.10").split("\n")[0]), resolver);
  }
  const json = await runCli(["doctor", "--recipes", "192.168.1.10", "--json"]);
  const objects = json.stdout.trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(objects.map((o) => o.key), REDIRECT_RECIPES.map((r) => r.key));
  assert.equal(objects[0].text, dnsmasqLine("192.168.1.10"));
  const bad = await runCli(["doctor", "--recipes", "not-an-address"]);
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr,
    /--recipes \[address\]' argument 'not-an-address' is invalid\. Expected an IPv4 address/,
  );
});
