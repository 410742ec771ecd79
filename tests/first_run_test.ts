/**
 * The first hour of a new user: `serve` on its defaults as an ordinary user (push listener off
 * with a warning, not an exit), the ready log saying where to send the cameras, configured
 * cameras listed before they register, and `GET /api/status`.
 */

import assert from "node:assert/strict";
import { CameraSim } from "./support/camera_sim.ts";
import { runCli } from "./support/run_cli.ts";
import {
  freeServePorts,
  randomLoopback,
  serveAddressArgs,
  ServeProcess,
} from "./support/serve_process.ts";
import { AS_NOBODY_SKIP_REASON, asNobody, readableProgram } from "./support/unprivileged.ts";
import { dnsmasqLine, P2P_HOSTS, redirectAdvice, REOLINK_HOSTS } from "../lib/reolink_hosts.ts";
import { advertisedAddresses } from "../lib/net/local_address.ts";
import { statusDocument } from "../lib/api/status.ts";
import { VERSION } from "../lib/version.ts";

const GARDEN_UID = "95270000FIRSTRUN";
const PORCH_UID = "95270000NEVERSEEN";

/** Binding 443 as nobody must fail for these tests to mean anything. */
const PRIVILEGED_PORTS_SKIP_REASON = (() => {
  const start = Number(Deno.readTextFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start"));
  return start <= 443
    ? `net.ipv4.ip_unprivileged_port_start is ${start}: any user may bind 443 here`
    : undefined;
})();

/** A serve run as nobody: a loopback address, free ports, a state directory nobody can write. */
async function nobodySetup(toml: string | null) {
  const ip = randomLoopback();
  const ports = await freeServePorts(ip);
  const stateDir = await Deno.makeTempDir({ prefix: "bairelay-firstrun-" });
  await Deno.chmod(stateDir, 0o777);
  const args = [
    ...serveAddressArgs(ip, ports),
    ...["--state-dir", stateDir],
  ];
  if (toml !== null) {
    await Deno.writeTextFile(`${stateDir}/config.toml`, toml);
    await Deno.chmod(`${stateDir}/config.toml`, 0o644);
    args.push("--config", `${stateDir}/config.toml`);
  }
  const program = await readableProgram();
  return {
    ip,
    ports,
    args,
    env: { DENO_DIR: program.denoDir, HOME: stateDir },
    as: { wrapper: asNobody([]), main: program.main },
    api: `http://${ip}:${ports.api}`,
    remove: async () => {
      await Deno.remove(stateDir, { recursive: true });
      await program.remove();
    },
  };
}

const skipNobody = AS_NOBODY_SKIP_REASON ?? PRIVILEGED_PORTS_SKIP_REASON;

Deno.test({
  name: "first run: serve on its defaults as nobody keeps running with the push listener off",
  ignore: skipNobody !== undefined,
  fn: async () => {
    const setup = await nobodySetup(null);
    const serve = ServeProcess.start(setup.args, setup.env, ["--allow-all"], setup.as);
    try {
      await serve.ready();
      const warnings = serve.stderr.split("\n").filter((line) =>
        /Motion events are off/.test(line)
      );
      assert.equal(warnings.length, 1, serve.stderr);
      assert.match(warnings[0], /TCP port 443/);
      assert.match(warnings[0], /CAP_NET_BIND_SERVICE/);
      assert.match(warnings[0], /setcap/);
      assert.match(warnings[0], /--push-port/);
      const status = await (await fetch(`${setup.api}/api/status`)).json();
      const push = status.listeners.find((l: { name: string }) => l.name === "push");
      assert.deepEqual(push, {
        name: "push",
        protocol: "tcp",
        state: "disabled",
        address: null,
        reason: "no permission for port 443",
      });
      const middleman = status.listeners.find((l: { name: string }) => l.name === "middleman");
      assert.equal(middleman.state, "up");
      assert.equal(middleman.address, `${setup.ip}:${setup.ports.middleman}`);
    } finally {
      const stopped = await serve.stop();
      assert.equal(stopped.code, 0, serve.stderr);
      await setup.remove();
    }
  },
});

Deno.test({
  name: "first run: an explicit push port that nobody may bind is still fatal (exit 1)",
  ignore: skipNobody !== undefined,
  fn: async () => {
    for (const how of ["flag", "file"] as const) {
      const setup = await nobodySetup(how === "file" ? "[push_listener]\nport = 443\n" : null);
      const args = how === "flag" ? [...setup.args, "--push-port", "443"] : setup.args;
      const serve = ServeProcess.start(args, setup.env, ["--allow-all"], setup.as);
      try {
        const status = await serve.exit();
        assert.equal(status.code, 1, `${how}: ${serve.stderr}`);
        assert.match(serve.stderr, /push listener cannot bind TCP .*:443/, how);
        assert.match(serve.stderr, /CAP_NET_BIND_SERVICE/, how);
      } finally {
        await setup.remove();
      }
    }
  },
});

Deno.test("first run: configured cameras are listed before they register; /api/status", async () => {
  const ip = randomLoopback();
  const ports = await freeServePorts(ip);
  const stateDir = await Deno.makeTempDir({ prefix: "bairelay-firstrun-" });
  const config = `${stateDir}/config.toml`;
  await Deno.writeTextFile(
    config,
    `[push_listener]\nenable = false\n\n[[cameras]]\nname = "garden"\nuid = "${GARDEN_UID}"\n\n` +
      `[[cameras]]\nname = "porch"\nuid = "${PORCH_UID}"\n`,
  );
  const api = `http://${ip}:${ports.api}`;
  const serve = ServeProcess.start([
    ...serveAddressArgs(ip, ports),
    ...["--state-dir", stateDir, "--config", config],
  ]);
  let camera: CameraSim | undefined;
  try {
    await serve.ready();
    const before = await (await fetch(`${api}/api/status`)).json();
    assert.equal(before.last_packet, null);
    assert.deepEqual(before.cameras, { fresh: 0, stale: 0, never_seen: 2 });
    const empty = await runCli(["registry", "--api", api]);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /^garden\s+95270000FIRSTRUN\s+-\s+never\s+never seen\s+0\s+-$/m);

    camera = await CameraSim.start({
      uid: `${GARDEN_UID}-FW1`,
      ip: randomLoopback(),
      middleman: { ip, port: ports.middleman },
    });
    await camera.boot();
    const cameras = (await (await fetch(`${api}/api/cameras`)).json()).cameras;
    assert.equal(cameras.length, 2);
    assert.equal(cameras[0].name, "garden");
    assert.equal(cameras[0].state, "fresh");
    assert.equal(cameras[0].uid, `${GARDEN_UID}-FW1`);
    assert.deepEqual(cameras[1], {
      uid: PORCH_UID,
      name: "porch",
      state: "never_seen",
      address: null,
      first_seen: null,
      last_heartbeat: null,
      age_ms: null,
      fresh: false,
      wakes: 0,
      wakes_last_hour: 0,
      wake_budget: 60,
      last_wake: null,
      last_motion: null,
    });
    const table = await runCli(["registry", "--api", api]);
    assert.match(
      table.stdout,
      /^garden\s+95270000FIRSTRUN-FW1\s+127\.\S+\s+\d+(ms|s) ago\s+fresh/m,
    );
    assert.match(table.stdout, /^porch\s+95270000NEVERSEEN\s+-\s+never\s+never seen/m);

    const status = await (await fetch(`${api}/api/status`)).json();
    assert.equal(status.version, VERSION);
    assert.ok(status.uptime_s >= 0);
    assert.ok(Date.parse(status.started_at) <= Date.now());
    assert.deepEqual(status.cameras, { fresh: 1, stale: 0, never_seen: 1 });
    assert.ok(Date.now() - Date.parse(status.last_packet) < 10_000, status.last_packet);
    assert.equal(status.state_dir, stateDir);
    assert.deepEqual(status.mqtt, { state: "off", broker: null, error: null });
    assert.deepEqual(
      status.listeners.map((l: { name: string; state: string }) => `${l.name}:${l.state}`),
      ["middleman:up", "register:up", "push:off", "dns:off", "api:up"],
    );
    assert.deepEqual(status.advertised_addresses, [ip]);
    assert.ok(status.receive_buffers.length === 2, JSON.stringify(status.receive_buffers));
  } finally {
    await camera?.close();
    const stopped = await serve.stop();
    assert.equal(stopped.code, 0, serve.stderr);
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("first run: /api/status needs the token like the other endpoints", async () => {
  const ip = randomLoopback();
  const ports = await freeServePorts(ip);
  const stateDir = await Deno.makeTempDir({ prefix: "bairelay-firstrun-" });
  const config = `${stateDir}/config.toml`;
  await Deno.writeTextFile(config, `[push_listener]\nenable = false\n[api]\ntoken = "s3cret"\n`);
  const api = `http://${ip}:${ports.api}`;
  const serve = ServeProcess.start([
    ...serveAddressArgs(ip, ports),
    ...["--state-dir", stateDir, "--config", config],
  ]);
  try {
    await serve.ready();
    const refused = await fetch(`${api}/api/status`);
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
    const ok = await fetch(`${api}/api/status`, { headers: { authorization: "Bearer s3cret" } });
    assert.equal(ok.status, 200);
    assert.equal((await ok.json()).version, VERSION);
  } finally {
    await serve.stop();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("first run: the ready log names the addresses, every host name and a dnsmasq line", async () => {
  const ip = randomLoopback();
  const ports = await freeServePorts(ip);
  const stateDir = await Deno.makeTempDir({ prefix: "bairelay-firstrun-" });
  const serve = ServeProcess.start([
    ...serveAddressArgs(ip, ports, "off"),
    "--no-push",
    ...["--state-dir", stateDir],
  ]);
  try {
    await serve.ready();
    await serve.waitFor(/Send the cameras here/);
    assert.match(serve.stderr, new RegExp(`serve ready: .*point the cameras' DNS at ${ip}\n`));
    const line = serve.stderr.split("\n").find((l) => /Send the cameras here/.test(l))!;
    for (const host of REOLINK_HOSTS) assert.ok(line.includes(host), `${host} in ${line}`);
    assert.ok(line.includes(`address=/p2p.reolink.com/p2p1.reolink.com/`), line);
    assert.ok(line.includes(`/pushx.reolink.com/${ip} `), line);
    assert.match(line, /bairelay doctor/);
  } finally {
    await serve.stop();
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("first run: the host names are p2p, p2p1..p2p11 and pushx", () => {
  assert.equal(P2P_HOSTS.length, 12);
  assert.equal(P2P_HOSTS[0], "p2p.reolink.com");
  assert.equal(P2P_HOSTS[11], "p2p11.reolink.com");
  assert.equal(REOLINK_HOSTS.at(-1), "pushx.reolink.com");
  assert.equal(
    dnsmasqLine("192.168.1.10"),
    `address=/${P2P_HOSTS.join("/")}/pushx.reolink.com/192.168.1.10`,
  );
});

Deno.test("first run: advertised addresses: the default route's first, then the others", async () => {
  const interfaces = () => [
    { family: "IPv4" as const, address: "127.0.0.1", netmask: "255.0.0.0" },
    { family: "IPv4" as const, address: "10.0.0.5", netmask: "255.255.255.0" },
    { family: "IPv4" as const, address: "192.168.1.10", netmask: "255.255.255.0" },
    { family: "IPv4" as const, address: "169.254.3.4", netmask: "255.255.0.0" },
    { family: "IPv6" as const, address: "fd00::5", netmask: "ffff:ffff:ffff:ffff::" },
  ];
  const routeSource = (peer: string) => {
    assert.equal(peer, "192.0.2.1");
    return Promise.resolve("192.168.1.10");
  };
  assert.deepEqual(await advertisedAddresses("0.0.0.0", { routeSource, interfaces }), [
    "192.168.1.10",
    "10.0.0.5",
  ]);
  assert.deepEqual(await advertisedAddresses("10.0.0.5", { routeSource, interfaces }), [
    "10.0.0.5",
  ]);
  const noRoute = () => Promise.resolve(undefined);
  assert.deepEqual(
    await advertisedAddresses("0.0.0.0", { routeSource: noRoute, interfaces: () => [] }),
    [],
  );
  assert.match(redirectAdvice([]), /no LAN address found/);
  const advice = redirectAdvice(["192.168.1.10", "10.0.0.5"]);
  assert.match(advice, /resolve to 192\.168\.1\.10 \(or another .*: 10\.0\.0\.5\)/);
});

Deno.test("first run: the status document from plain facts", () => {
  const document = statusDocument({
    startedAt: Date.parse("2026-11-29T04:00:00Z"),
    now: Date.parse("2026-11-29T04:00:12.900Z"),
    listeners: [{
      name: "api",
      protocol: "http",
      state: "up",
      address: "127.0.0.1:9899",
      reason: null,
    }],
    receiveBuffers: [],
    mqtt: { state: "off", broker: null, error: null },
    stateDir: "/var/lib/bairelay",
    cameras: { fresh: 0, stale: 0, never_seen: 1 },
    lastPacketAt: null,
    advertisedAddresses: ["192.168.1.10"],
  });
  assert.equal(document.uptime_s, 12);
  assert.equal(document.started_at, "2026-11-29T04:00:00.000Z");
  assert.equal(document.last_packet, null);
  assert.equal(document.version, VERSION);
});
