/** `bairelay serve` as a user runs it: config and bind errors, a camera, shutdown, restart. */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { CameraSim } from "./support/camera_sim.ts";
import { UNPRIVILEGED_SKIP_REASON, withoutBindCapability } from "./support/privileges.ts";
import { runCli } from "./support/run_cli.ts";
import {
  freeUdpPort,
  randomLoopback,
  serveCommand,
  ServeProcess,
  serveSetup as sharedServeSetup,
} from "./support/serve_process.ts";

const LONG_UID = "95270000SERVECLI0001";

/**
 * One `serve` run's address, ports, state directory and flags, with the test config: push
 * listener off (port 443 needs privileges these tests must not depend on; the push listener
 * has its own tests).
 */
function serveSetup(options: { api?: "off" } = {}) {
  return sharedServeSetup({
    toml: "[push_listener]\nenable = false\n",
    api: options.api,
    prefix: "bairelay-state-",
  });
}

async function tempFile(text: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "bairelay-cfg-", suffix: ".toml" });
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("serve: the serve task's permissions are enough, the receive buffers included", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const permissions = (denoJson.tasks.serve as string).split(" ").filter((word) =>
    word.startsWith("--allow-")
  );
  assert.ok(permissions.includes("--allow-ffi"), denoJson.tasks.serve);
  const { args, remove } = await serveSetup();
  const serve = ServeProcess.start(args, {}, permissions);
  try {
    await serve.ready();
    assert.doesNotMatch(serve.stderr, /WRN|not applied|Requires/);
    const rmemMax = Number(Deno.readTextFileSync("/proc/sys/net/core/rmem_max"));
    const granted = 2 * Math.min(4 * 1024 * 1024, rmemMax); // the default receive_buffer_bytes
    for (const name of ["middleman", "register"]) {
      assert.match(
        serve.stderr,
        new RegExp(`${name} listener has a ${granted}-byte receive buffer`),
      );
    }
    const status = await serve.stop("SIGINT");
    assert.equal(status.code, 0, serve.stderr);
  } finally {
    await serve.stop().catch(() => {});
    await remove();
  }
});

Deno.test("serve: a bad flag value is a usage error with the --help hint; a bad file is not", async () => {
  const flag = await runCli(["serve", "--middleman-port", "0"]);
  assert.equal(flag.code, 2, flag.stderr);
  assert.match(flag.stderr, /--middleman-port: wake_server\.middleman_port: must be/);
  assert.match(flag.stderr, /\(run with --help for usage\)\n?$/);
  const path = await tempFile(`[wake_server]\nheartbeat_ms = 500\n`);
  try {
    const file = await runCli(["serve", "--config", path]);
    assert.equal(file.code, 2, file.stderr);
    assert.doesNotMatch(file.stderr, /run with --help/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("serve: a bad config file exits 2 naming the file, the key and the rule", async () => {
  const path = await tempFile(`[wake_server]\nheartbeat_ms = 500\nregister_prot = 1\n`);
  try {
    const result = await runCli(["serve", "--config", path]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /invalid configuration/);
    assert.ok(
      result.stderr.includes(`${path}: wake_server.heartbeat_ms: must be an integer from 1000`),
    );
    assert.ok(
      result.stderr.includes(
        `${path}: wake_server.register_prot: unknown key in [wake_server] ` +
          `(did you mean "register_port"?)`,
      ),
      result.stderr,
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("serve: a missing config file, a bad flag and bad TOML all exit 2", async () => {
  const missing = await runCli(["serve", "--config", "/nonexistent/bairelay.toml"]);
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr,
    /\/nonexistent\/bairelay\.toml: \(file\): cannot read it \(\/nonexistent\/bairelay\.toml\): no such file/,
  );

  const flag = await runCli(["serve", "--middleman-port", "0"]);
  assert.equal(flag.code, 2);
  assert.match(
    flag.stderr,
    /--middleman-port: wake_server\.middleman_port: must be an integer from 1/,
  );

  const same = await runCli(["serve", "--middleman-port", "5000", "--register-port", "5000"]);
  assert.equal(same.code, 2);
  assert.match(same.stderr, /--register-port: wake_server\.register_port: must differ/);

  const format = await runCli(["serve", "--log-format", "xml"]);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /--log-format.*xml.*choices/s);

  const path = await tempFile(`bind = "0.0.0.0\n`);
  try {
    const toml = await runCli(["serve", "--config", path]);
    assert.equal(toml.code, 2);
    assert.match(toml.stderr, new RegExp(`${path}: line 1, column \\d+: must be valid TOML`));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("serve: a UDP port in use exits 1 naming the listener, address, port and remedy", async () => {
  const ip = randomLoopback();
  const holder = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => holder.bind(0, ip, () => resolve()));
  const held = holder.address().port;
  const stateDir = await Deno.makeTempDir({ prefix: "bairelay-state-" });
  try {
    const register = await freeUdpPort(ip);
    const result = await runCli([
      "serve",
      "--bind",
      ip,
      "--middleman-port",
      String(held),
      "--register-port",
      String(register),
      "--api",
      "off",
      "--state-dir",
      stateDir,
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, new RegExp(`middleman listener on udp ${ip}:${held}`));
    assert.match(result.stderr, new RegExp(`port ${held} is already in use`));
    assert.match(result.stderr, /choose another/);
  } finally {
    await new Promise<void>((resolve) => holder.close(() => resolve()));
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("serve: an API port in use exits 1 naming the address and the port", async () => {
  const { ip, ports, args, remove } = await serveSetup();
  const holder = Deno.listen({ hostname: ip, port: ports.api });
  try {
    const result = await runCli(["serve", ...args]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`${ip}:${ports.api}.*port ${ports.api} is already in use`),
    );
  } finally {
    holder.close();
    await remove();
  }
});

Deno.test("serve: an unusable state directory exits 1 naming it, before anything listens", async () => {
  const { args, stateDir, remove } = await serveSetup();
  const file = `${stateDir}/not-a-directory`;
  await Deno.writeTextFile(file, "");
  try {
    const result = await runCli(["serve", ...args, "--state-dir", `${file}/state`]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`cannot use the state directory ${file}/state: .*--state-dir`),
    );
    assert.doesNotMatch(result.stderr, /ready/);
  } finally {
    await remove();
  }
});

Deno.test({
  name: "serve: permission denied on a low port names CAP_NET_BIND_SERVICE" +
    (UNPRIVILEGED_SKIP_REASON ? ` (skipped: ${UNPRIVILEGED_SKIP_REASON})` : ""),
  ignore: UNPRIVILEGED_SKIP_REASON !== undefined,
  async fn() {
    const ip = randomLoopback();
    const [program, ...rest] = withoutBindCapability(serveCommand([
      ...["--bind", ip, "--middleman-port", "999"],
      ...["--register-port", String(await freeUdpPort(ip)), "--api", "off"],
    ]));
    const output = await new Deno.Command(program, {
      args: rest,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.equal(output.code, 1, stderr);
    assert.match(stderr, new RegExp(`udp ${ip}:999: permission denied`));
    assert.match(stderr, /CAP_NET_BIND_SERVICE/);
    assert.match(stderr, /choose a port above 1023|another port/);
  },
});

Deno.test("serve: answers a camera, wakes it via the API, SIGTERM cancels a burst and saves state within a second, a restart keeps it wakeable", async () => {
  const { ip, ports, args, stateDir, remove } = await serveSetup();
  const api = `http://${ip}:${ports.api}`;
  const camera = await CameraSim.start({
    uid: LONG_UID,
    ip: randomLoopback(),
    middleman: { ip, port: ports.middleman },
  });
  let serve = ServeProcess.start(args);
  try {
    await serve.ready();
    assert.match(serve.stderr, new RegExp(`middleman udp ${ip}:${ports.middleman}`));
    assert.match(serve.stderr, new RegExp(`api http://${ip}:${ports.api}`));
    assert.doesNotMatch(serve.stderr, /push tcp/, "the config file turned the push listener off");
    await serve.waitFor(/No cameras registered yet: .*bairelay doctor/);
    const boot = await camera.boot();
    assert.deepEqual(boot.register, { ip, port: ports.register });

    const woken = await fetch(`${api}/api/cameras/95270000SERVECLI/wake`, { method: "POST" });
    assert.equal(woken.status, 202);
    const { sid } = await woken.json();
    const wakes = await camera.waitForWakes(10);
    assert.ok(wakes.every((w) => w.message.fields.sid === sid));
    await serve.waitFor(/registered/);

    // A second wake, and SIGTERM as soon as its first packet arrives: the burst is cancelled,
    // the process ends within about a second, and the state on disk has both wakes.
    await new Promise((resolve) => setTimeout(resolve, 150)); // let the first burst finish
    const second = await fetch(`${api}/api/cameras/95270000SERVECLI/wake`, { method: "POST" });
    assert.equal(second.status, 202);
    const { sid: secondSid, result } = await second.json();
    assert.equal(result, "started");
    await camera.waitForWakes(11);
    const stopped = await serve.stop("SIGTERM");
    assert.equal(stopped.code, 0, serve.stderr);
    assert.ok(stopped.ms < 1500, `shutdown took ${stopped.ms.toFixed(0)} ms`);
    assert.match(serve.stderr, /SIGTERM received, stopping/);
    assert.match(serve.stderr, /stopped/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const secondBurst = camera.wakes.filter((w) => w.message.fields.sid === secondSid).length;
    assert.ok(secondBurst >= 1 && secondBurst < 10, `second burst sent ${secondBurst} packets`);
    const state = JSON.parse(await Deno.readTextFile(`${stateDir}/wake-state.json`));
    const saved = state.cameras.find((c: { uid: string }) => c.uid === LONG_UID);
    assert.ok(saved, `state file lacks the camera: ${JSON.stringify(state)}`);
    assert.equal(saved.wakes, 2);

    // Restart on the same state: the camera can be woken before its next heartbeat.
    serve = ServeProcess.start(args);
    await serve.ready();
    assert.doesNotMatch(
      serve.stderr,
      /No cameras registered yet/,
      "the camera came back from the state",
    );
    const before = camera.wakes.length;
    const again = await fetch(`${api}/api/cameras/95270000SERVECLI/wake`, { method: "POST" });
    assert.equal(again.status, 202);
    await again.body?.cancel();
    await camera.waitForWakes(before + 10);
    assert.doesNotMatch(
      serve.stderr,
      /No cameras registered yet/,
      "the camera came back from the state",
    );
    const interrupted = await serve.stop("SIGINT");
    assert.equal(interrupted.code, 0, serve.stderr);
  } finally {
    await serve.stop("SIGKILL");
    await camera.close();
    await remove();
  }
});

Deno.test("serve: --log-format json writes one JSON object per line", async () => {
  const { args, remove } = await serveSetup({ api: "off" });
  const serve = ServeProcess.start([...args, "--log-format", "json"]);
  try {
    await serve.ready();
    const stopped = await serve.stop("SIGTERM");
    assert.equal(stopped.code, 0);
    const lines = serve.stderr.trim().split("\n");
    assert.ok(lines.length >= 3, serve.stderr);
    for (const line of lines) {
      const record = JSON.parse(line);
      assert.equal(typeof record["@timestamp"], "string");
      assert.equal(typeof record.level, "string");
      assert.match(record.logger, /^bairelay\./);
    }
    assert.ok(!serve.stderr.includes("api http://"), "--api off opens no API");
  } finally {
    await serve.stop("SIGKILL");
    await remove();
  }
});

Deno.test("serve: --log-level warning hides info lines", async () => {
  const { ip, ports, args, remove } = await serveSetup();
  const serve = ServeProcess.start([...args, "--log-level", "warning"]);
  try {
    // No "ready" line at this level: poll /healthz (bounded) until the service answers.
    const deadline = Date.now() + 20_000;
    let status = 0;
    while (status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = await fetch(`http://${ip}:${ports.api}/healthz`)
        .then(async (response) => (await response.body?.cancel(), response.status))
        .catch(() => 0);
    }
    assert.equal(status, 200, `never healthy:\n${serve.stderr}`);
    const stopped = await serve.stop("SIGTERM");
    assert.equal(stopped.code, 0, serve.stderr);
    assert.doesNotMatch(serve.stderr, /\[INF\]/);
  } finally {
    await serve.stop("SIGKILL");
    await remove();
  }
});
