/**
 * `bairelay doctor` against a real `serve` (subprocess) with three configured cameras: one
 * heartbeating (fresh), one that went quiet (stale) and one that never registered, with a real
 * dnsmasq sending the Reolink names to serve's address; the API refusing a missing token; and
 * no serve at all, with another program holding the middleman port.
 */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import type { CheckResult } from "../lib/doctor/result.ts";
import { REOLINK_HOSTS } from "../lib/reolink_hosts.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { type Dnsmasq, startDnsmasq } from "./support/dns.ts";
import { type Mosquitto, startMosquitto } from "./support/mosquitto.ts";
import { runCli } from "./support/run_cli.ts";
import {
  freeServePorts,
  freeTcpPort,
  freeUdpPort,
  randomLoopback,
  ServeProcess,
} from "./support/serve_process.ts";

const TOKEN = "doctor-token";
/** stale_after_ms of the test serve (the smallest allowed): a quiet camera is stale soon. */
const STALE_AFTER_MS = 1000;

function jsonLines(stdout: string): CheckResult[] {
  return stdout.trim().split("\n").map((line) => JSON.parse(line) as CheckResult);
}

function byId(results: CheckResult[], id: string): CheckResult {
  const found = results.find((entry) => entry.id === id);
  assert.ok(found, `${id} not in:\n${results.map((entry) => entry.id).join("\n")}`);
  return found;
}

const everyName = (address: string) =>
  Object.fromEntries(REOLINK_HOSTS.map((name) => [name, address]));

Deno.test("doctor: a running serve with a fresh, a stale and a never-seen camera", async () => {
  const ip = randomLoopback();
  const ports = await freeServePorts(ip);
  let dnsPort = await freeUdpPort(ip);
  while (Object.values(ports).includes(dnsPort)) dnsPort = await freeUdpPort(ip);
  const stateDir = await Deno.makeTempDir({ prefix: "bairelay-doctor-" });
  const config = `${stateDir}/config.toml`;
  await Deno.writeTextFile(
    config,
    [
      `bind = "${ip}"`,
      `state_dir = "${stateDir}"`,
      "[wake_server]",
      `middleman_port = ${ports.middleman}`,
      `register_port = ${ports.register}`,
      `heartbeat_ms = ${STALE_AFTER_MS}`,
      `stale_after_ms = ${STALE_AFTER_MS}`,
      "[push_listener]",
      "enable = false",
      "[dns]", // serve's own DNS responder: doctor asks it too
      "enable = true",
      `port = ${dnsPort}`,
      "forward = false",
      "[api]",
      `listen = "${ip}:${ports.api}"`,
      `token = "${TOKEN}"`,
      ...[["garden", "DOCTORGA"], ["porch", "DOCTORPO"], ["shed", "DOCTORSH"]].flatMap((
        [name, uid],
      ) => ["[[cameras]]", `name = "${name}"`, `uid = "95270000${uid}"`]),
      "",
    ].join("\n"),
  );
  const serve = ServeProcess.start(["--config", config]);
  const cameras: CameraSim[] = [];
  const resolvers: Dnsmasq[] = [];
  try {
    await serve.ready();
    const middleman = { ip, port: ports.middleman };
    const garden = await CameraSim.start({
      uid: "95270000DOCTORGA0001",
      ip: randomLoopback(),
      middleman,
    });
    const porch = await CameraSim.start({
      uid: "95270000DOCTORPO0001",
      ip: randomLoopback(),
      middleman,
    });
    cameras.push(garden, porch);
    await porch.boot();
    await garden.boot();
    garden.startHeartbeats(200);
    await new Promise((resolve) => setTimeout(resolve, STALE_AFTER_MS + 500)); // porch goes stale
    const here = await startDnsmasq(randomLoopback(), everyName(ip));
    const cloud = await startDnsmasq(randomLoopback(), everyName("203.0.113.7"));
    resolvers.push(here, cloud);

    const args = [
      "doctor",
      "--config",
      config,
      "--no-system-dns",
      "--dns",
      `${here.ip}:${here.port}`,
    ];
    const json = await runCli([...args, "--json"]);
    assert.equal(json.code, 1, json.stderr + json.stdout); // shed never registered: a problem
    const results = jsonLines(json.stdout);
    assert.equal(byId(results, `dns.flag.${here.ip}:${here.port}`).verdict, "ok");
    const builtin = byId(results, `dns.serve.${ip}:${dnsPort}`);
    assert.equal(builtin.verdict, "ok");
    assert.match(builtin.summary, /^serve's DNS responder .*: all 13 names resolve here$/);
    const api = byId(results, "serve.api");
    assert.equal(api.verdict, "ok");
    assert.match(
      api.summary,
      new RegExp(
        `serve answers at http://${
          ip.replaceAll(".", "\\.")
        }:${ports.api}: bairelay \\S+, up \\d+ s, last camera packet \\d+ s ago`,
      ),
    );
    assert.equal(
      byId(results, "serve.listener.middleman").summary,
      `listener middleman (udp) up on ${ip}:${ports.middleman}`,
    );
    assert.match(byId(results, "serve.listener.push").summary, /^listener push \(tcp\) off: /);
    assert.equal(byId(results, "serve.mqtt").summary, "MQTT off (no [mqtt] broker_addr)");
    const fresh = byId(results, "camera.garden");
    assert.equal(fresh.verdict, "ok");
    assert.match(
      fresh.summary,
      new RegExp(
        `^garden \\(95270000DOCTORGA\\d*\\): fresh, last heartbeat \\d s ago from ${
          garden.address.ip.replaceAll(".", "\\.")
        }:${garden.address.port}$`,
      ),
    );
    const stale = byId(results, "camera.porch");
    assert.equal(stale.verdict, "warning");
    assert.match(
      stale.summary,
      /^porch \(95270000DOCTORPO\d*\): stale, last heartbeat \d s ago from /,
    );
    assert.match(stale.remedy!, /stopped sending heartbeats/);
    const never = byId(results, "camera.shed");
    assert.equal(never.verdict, "problem");
    assert.equal(never.summary, "shed (95270000DOCTORSH): never seen");
    assert.match(never.remedy!, /old DNS answer \(reboot it.*firewall drops UDP 9999 and 58200/);
    assert.equal(results.some((entry) => entry.id === "cameras.unexplained"), false);
    assert.match(byId(results, "box.port.middleman").summary, /held by serve/);
    for (const entry of results) {
      assert.equal(entry.verdict === "ok", entry.remedy === null, JSON.stringify(entry));
    }

    const text = await runCli(args);
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /\ncameras\n {2}ok {7}garden .*: fresh, last heartbeat/);
    assert.match(text.stdout, /\n {2}warning {2}porch .*: stale/);
    assert.match(
      text.stdout,
      /\n {2}problem {2}shed \(95270000DOCTORSH\): never seen\n {11}fix: Likely cause: /,
    );
    assert.match(text.stdout, /\n1 problem, \d+ warnings?, \d+ ok\n$/);

    // The cameras' resolver still sends the names to the cloud: a never-seen camera blames
    // DNS; the heartbeats that arrive are explained by serve's own responder (asked too).
    const odd = await runCli([
      "doctor",
      "--config",
      config,
      "--no-system-dns",
      "--dns",
      `${cloud.ip}:${cloud.port}`,
      "--json",
    ]);
    const oddResults = jsonLines(odd.stdout);
    assert.equal(byId(oddResults, `dns.flag.${cloud.ip}:${cloud.port}`).verdict, "problem");
    assert.equal(byId(oddResults, `dns.serve.${ip}:${dnsPort}`).verdict, "ok");
    assert.equal(oddResults.some((entry) => entry.id === "cameras.unexplained"), false);
    assert.match(byId(oddResults, "camera.shed").remedy!, /^Likely cause: DNS not redirected/);

    // Without the token the API answers 401: one clear line, exit 2 like `registry`.
    const refused = await runCli(["doctor", "--no-system-dns", "--api", `${ip}:${ports.api}`]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stdout, /problem {2}serve refused the token: .*answered 401/);
    assert.match(refused.stdout, /fix: Pass --token, set BAIRELAY_API_TOKEN/);
    assert.doesNotMatch(refused.stdout, /\ncameras\n/);
  } finally {
    for (const camera of cameras) await camera.close();
    for (const resolver of resolvers) await resolver.stop();
    await serve.stop();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("doctor: no serve is exit 3, and a program holding the middleman port is a problem", async () => {
  const ip = randomLoopback();
  const held = dgram.createSocket("udp4");
  const port = await freeUdpPort(ip);
  await new Promise<void>((resolve) => held.bind(port, ip, () => resolve()));
  const config = await Deno.makeTempFile({ suffix: ".toml" });
  try {
    await Deno.writeTextFile(
      config,
      `[wake_server]\nmiddleman_port = ${port}\n[api]\nlisten = "${ip}:${freeTcpPort(ip)}"\n`,
    );
    const run = await runCli(["doctor", "--config", config, "--no-system-dns"]);
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stdout, /problem {2}serve not reachable: cannot reach the control API/);
    assert.match(
      run.stdout,
      new RegExp(
        `problem {2}UDP ${port} \\(middleman\\): in use by another program \\(${
          ip.replaceAll(".", "\\.")
        }:${port}, uid \\d+\\)`,
      ),
    );
    assert.match(
      run.stdout,
      new RegExp(
        `fix: serve cannot bind it\\. Find the program with\\s+\`ss -ulnp 'sport = :${port}'\``,
      ),
    );
    assert.doesNotMatch(run.stdout, /\ncameras\n/);

    await Deno.writeTextFile(config, `[api]\nlisten = "off"\n`);
    const apiOff = await runCli(["doctor", "--config", config, "--no-system-dns"]);
    assert.equal(apiOff.code, 3, apiOff.stderr);
    assert.match(apiOff.stdout, /problem {2}serve: the control API is off in .*listen = "off"/);
  } finally {
    held.close();
    await Deno.remove(config);
  }
});

Deno.test("doctor: the serve task's permissions (no --allow-all) are enough to read this box", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const permissions = (denoJson.tasks.serve as string).split(" ").filter((word) =>
    word.startsWith("--allow-")
  );
  assert.ok(!permissions.includes("--allow-all"), denoJson.tasks.serve);
  const run = await runCli([
    ...["doctor", "--no-system-dns"],
    ...["--api", `http://127.0.0.1:${freeTcpPort("127.0.0.1")}`],
  ], { permissions });
  const stdout = run.stdout;
  assert.equal(run.code, 3, run.stderr + stdout);
  assert.doesNotMatch(stdout, /cannot tell|cannot read/);
  assert.match(
    stdout,
    /\n {2}\w+ +port 443: (running as root|uid \d+ may not bind it|CAP_NET|any user)/,
  );
  assert.match(stdout, /net\.core\.rmem_max = \d+/);
  assert.match(stdout, /UDP 9999 \(middleman\): (free|in use)/);
});

Deno.test("doctor: an API that is not serve's (HTML, or JSON of another shape) is a clear line", async () => {
  const ip = randomLoopback();
  let body = "<html>hello</html>";
  const server = Deno.serve(
    { hostname: ip, port: 0, onListen: () => {} },
    () => new Response(body, { headers: { "content-type": "text/html" } }),
  );
  try {
    const api = `http://${ip}:${server.addr.port}`;
    for (
      const [answer, message] of [
        ["<html>hello</html>", /serve answered badly: .*JSON/],
        [
          '{"status":"ok"}',
          /serve answered badly: its \/api\/status or \/api\/cameras is not what/,
        ],
      ] as const
    ) {
      body = answer;
      const run = await runCli(["doctor", "--no-system-dns", "--api", api]);
      assert.equal(run.code, 1, run.stderr + run.stdout);
      assert.equal(run.stderr, "");
      assert.match(run.stdout, message);
      assert.match(run.stdout, /fix: Is it `bairelay serve` that listens at --api/);
      assert.doesNotMatch(run.stdout, /\ncameras\n/);
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("doctor: MQTT not connected is a problem with the broker's error; connected is ok", async () => {
  const ip = randomLoopback();
  const ports = await freeServePorts(ip);
  const stateDir = await Deno.makeTempDir({ prefix: "bairelay-doctor-mqtt-" });
  const brokerPort = freeTcpPort("127.0.0.1"); // nothing listens here
  const config = `${stateDir}/config.toml`;
  await Deno.writeTextFile(
    config,
    [
      `bind = "${ip}"`,
      `state_dir = "${stateDir}"`,
      "[wake_server]",
      `middleman_port = ${ports.middleman}`,
      `register_port = ${ports.register}`,
      "[push_listener]",
      `port = ${freeTcpPort(ip)}`,
      "[api]",
      `listen = "${ip}:${ports.api}"`,
      "[mqtt]",
      'broker_addr = "127.0.0.1"',
      `port = ${brokerPort}`,
      "",
    ].join("\n"),
  );
  const serve = ServeProcess.start(["--config", config]);
  let broker: Mosquitto | undefined;
  try {
    await serve.ready();
    const down = await runCli(["doctor", "--config", config, "--no-system-dns", "--json"]);
    const mqtt = byId(jsonLines(down.stdout), "serve.mqtt");
    assert.equal(mqtt.verdict, "problem", JSON.stringify(mqtt));
    assert.match(
      mqtt.summary,
      new RegExp(
        `^MQTT not connected to (mqtt://)?127\\.0\\.0\\.1:${brokerPort} \\(.*ECONNREFUSED`,
      ),
    );
    assert.match(mqtt.remedy!, /Is the broker running/);
    assert.equal(down.code, 1, down.stdout);

    broker = await startMosquitto({ port: brokerPort });
    const deadline = Date.now() + 20_000;
    let up: CheckResult | undefined;
    while (Date.now() < deadline) {
      const run = await runCli(["doctor", "--config", config, "--no-system-dns", "--json"]);
      up = byId(jsonLines(run.stdout), "serve.mqtt");
      if (up.verdict === "ok") break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.match(
      up?.summary ?? "",
      new RegExp(`^MQTT connected to (mqtt://)?127\\.0\\.0\\.1:${brokerPort}$`),
    );
  } finally {
    await serve.stop();
    await broker?.dispose();
    await Deno.remove(stateDir, { recursive: true });
  }
});
