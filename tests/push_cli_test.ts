/** `bairelay serve` with the push listener, as a user runs it: flags, logs, bind errors, registry. */

import assert from "node:assert/strict";
import { CameraSim } from "./support/camera_sim.ts";
import { freePort, startMosquitto } from "./support/mosquitto.ts";
import { sendPush } from "./support/push_client.ts";
import { UNPRIVILEGED_SKIP_REASON, withoutBindCapability } from "./support/privileges.ts";
import { runCli } from "./support/run_cli.ts";
import { freeTcpPort, serveCommand, ServeProcess, serveSetup } from "./support/serve_process.ts";

const UID = "95270000PUSHCLI00001";

/** One `serve` on a random loopback address, push on a free port, `toml` as config. */
async function pushServeSetup(toml: string) {
  const setup = await serveSetup({ toml, prefix: "bairelay-pushcli-" });
  const pushPort = freeTcpPort(setup.ip);
  return { ...setup, pushPort, args: [...setup.args, "--push-port", String(pushPort)] };
}

Deno.test("serve without a broker: a push logs motion and wakes the camera; registry shows it", async () => {
  const setup = await pushServeSetup(
    `[push_listener]\nmotion_hold_secs = 1\n[mqtt]\nbroker_addr = "127.0.0.1"\nport = ${freePort()}\n` +
      `[wake_server]\nburst_count = 2\nburst_interval_ms = 10\n`,
  );
  const serve = ServeProcess.start(setup.args);
  let camera: CameraSim | undefined;
  try {
    await serve.ready();
    assert.match(
      serve.stderr,
      new RegExp(`push tcp ${setup.ip.replaceAll(".", "\\.")}:${setup.pushPort}`),
    );
    await serve.waitFor(/MQTT broker mqtt:\/\/127\.0\.0\.1:\d+ unreachable/);
    camera = await CameraSim.start({
      uid: UID,
      ip: "127.0.0.5",
      middleman: { ip: setup.ip, port: setup.ports.middleman },
    });
    await camera.boot();
    await sendPush({
      from: "127.0.0.5",
      host: setup.ip,
      port: setup.pushPort,
      sni: "pushx.reolink.com",
    });
    await serve.waitFor(new RegExp(`Motion started: ${UID}`));
    assert.equal((await camera.waitForWakes(2)).length, 2);
    await serve.waitFor(new RegExp(`Motion ended: ${UID}`), 5000);
    const unreachable = serve.stderr.match(/unreachable/g) ?? [];
    assert.equal(unreachable.length, 1, "the broker outage is logged once, not per retry");

    const table = await runCli(["registry", "--api", setup.apiUrl]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout.split("\n")[0], /LAST MOTION$/);
    assert.match(table.stdout.split("\n")[1], /\d+(ms|s) ago$/);
    const events = await (await fetch(`${setup.apiUrl}/api/events`)).json();
    assert.deepEqual(
      events.events.filter((e: { type: string }) => e.type === "motion").map((
        e: { motion: boolean },
      ) => e.motion),
      [false, true],
    );
  } finally {
    await camera?.close();
    const stopped = await serve.stop();
    assert.equal(stopped.code, 0, serve.stderr);
    await setup.remove();
  }
});

Deno.test("serve --no-push runs without the push listener", async () => {
  const setup = await pushServeSetup("[push_listener]\nenable = true\n");
  const serve = ServeProcess.start([...setup.args, "--no-push"]);
  try {
    await serve.ready();
    assert.doesNotMatch(serve.stderr, /push tcp/);
    await assert.rejects(Deno.connect({ hostname: setup.ip, port: setup.pushPort }));
  } finally {
    await serve.stop();
    await setup.remove();
  }
});

Deno.test("serve: a push port in use exits 1 naming the listener, address, port and remedy", async () => {
  const setup = await pushServeSetup("");
  const busy = Deno.listen({ hostname: setup.ip, port: setup.pushPort });
  try {
    const result = await runCli(["serve", ...setup.args]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `push listener cannot bind TCP ${setup.ip.replaceAll(".", "\\.")}:${setup.pushPort}`,
      ),
    );
    assert.match(result.stderr, /--push-port/);
  } finally {
    busy.close();
    await setup.remove();
  }
});

Deno.test("serve: bad MQTT credentials are a clear error naming the broker", async () => {
  const broker = await startMosquitto({ users: { ha: "secret" } });
  const setup = await pushServeSetup(
    `[mqtt]\nbroker_addr = "127.0.0.1"\nport = ${broker.port}\ncredentials = ["ha", "wrong"]\n`,
  );
  const serve = ServeProcess.start(setup.args);
  try {
    await serve.ready();
    await serve.waitFor(
      new RegExp(
        `MQTT broker mqtt://127\\.0\\.0\\.1:${broker.port} refused the login \\(user "ha"\\)`,
      ),
    );
    assert.match(serve.stderr, /Check \[mqtt\] credentials/);
    // serve keeps running: the API answers.
    assert.equal((await fetch(`${setup.apiUrl}/healthz`)).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the body finish
  } finally {
    await serve.stop();
    await setup.remove();
    await broker.dispose();
  }
});

Deno.test("serve: an unreadable [mqtt] ca file exits 2 naming the key and the file", async () => {
  const setup = await pushServeSetup(
    `[mqtt]\nbroker_addr = "127.0.0.1"\nca = "/nonexistent/ca.pem"\n`,
  );
  try {
    const result = await runCli(["serve", ...setup.args]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /\[mqtt\] ca: cannot read \/nonexistent\/ca\.pem/);
  } finally {
    await setup.remove();
  }
});

Deno.test({
  name: "serve: permission denied on push port 443 names CAP_NET_BIND_SERVICE" +
    (UNPRIVILEGED_SKIP_REASON ? ` (skipped: ${UNPRIVILEGED_SKIP_REASON})` : ""),
  ignore: UNPRIVILEGED_SKIP_REASON !== undefined,
  async fn() {
    const setup = await pushServeSetup("");
    try {
      const args = setup.args.map((arg) => arg === String(setup.pushPort) ? "443" : arg);
      const [program, ...rest] = withoutBindCapability(serveCommand(args));
      const output = await new Deno.Command(program, {
        args: rest,
        stdout: "null",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assert.equal(output.code, 1, stderr);
      assert.match(
        stderr,
        new RegExp(`push listener cannot bind TCP ${setup.ip.replaceAll(".", "\\.")}:443`),
      );
      assert.match(stderr, /root or CAP_NET_BIND_SERVICE/);
      assert.match(stderr, /--push-port/);
    } finally {
      await setup.remove();
    }
  },
});
