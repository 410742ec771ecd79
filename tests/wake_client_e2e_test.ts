/**
 * The wake client against the REAL wake server (lib/wake, in process, loopback, ephemeral
 * ports) with simulated cameras: registered -> woken (the camera receives R2D_C with our
 * sid), unknown -> not registered (exit 3), and `--wait` against a camera that opens its
 * TCP port when woken. Library calls and the real CLI both.
 */

import assert from "node:assert/strict";
import { wakeCamera } from "../lib/client/mod.ts";
import type { WakeServer } from "../lib/wake/server.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { runCli } from "./support/run_cli.ts";
import {
  freeServePorts,
  freeTcpPort,
  randomLoopback,
  serveAddressArgs,
  ServeProcess,
} from "./support/serve_process.ts";
import { startTestServer } from "./support/wake_server.ts";

const LONG_UID = "95270000E2ETESTA0123";
const SHORT_UID = LONG_UID.slice(0, 16);

function serverArg(server: WakeServer): string {
  return `127.0.0.1:${server.middleman.port}`;
}

/** `wake SHORT_UID --server <server> ...extra`. */
function wakeArgs(server: WakeServer, ...extra: string[]): string[] {
  return ["wake", SHORT_UID, "--server", serverArg(server), ...extra];
}

async function withRegisteredCamera(
  options: { tcpOnWake?: number; cameras?: { name: string; uid: string }[] },
  body: (server: WakeServer, camera: CameraSim) => Promise<void>,
): Promise<void> {
  const server = await startTestServer({ cameras: options.cameras ?? [] });
  let camera: CameraSim | undefined;
  try {
    camera = await CameraSim.start({
      uid: LONG_UID,
      ip: "127.0.0.2",
      middleman: server.middleman,
      tcpOnWake: options.tcpOnWake,
    });
    await camera.boot();
    await body(server, camera);
  } finally {
    await camera?.close();
    await server.close();
  }
}

Deno.test("e2e: a registered camera is woken and receives R2D_C with the sid we were told", async () => {
  await withRegisteredCamera({}, async (server, camera) => {
    const outcome = await wakeCamera({
      uid: SHORT_UID,
      servers: [{ host: "127.0.0.1", port: server.middleman.port }],
      timeoutMs: 5000,
    });
    assert.equal(outcome.result, "woken", JSON.stringify(outcome));
    if (outcome.result !== "woken") return;
    assert.deepEqual(outcome.camera, camera.address);
    assert.deepEqual(outcome.register, server.register);
    const wakes = await camera.waitForWakes(1);
    assert.equal(wakes[0].message.fields.sid, outcome.sid);
    assert.equal(wakes[0].from.port, server.register.port);
  });
});

Deno.test("e2e: bairelay wake --json wakes a registered camera (exit 0)", async () => {
  await withRegisteredCamera({}, async (server, camera) => {
    const result = await runCli(wakeArgs(server, "--json"));
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    assert.equal(json.result, "woken");
    assert.equal(json.uid, SHORT_UID);
    assert.equal(json.server, serverArg(server));
    assert.deepEqual(json.camera, camera.address);
    const wakes = await camera.waitForWakes(1);
    assert.equal(wakes[0].message.fields.sid, json.sid);
  });
});

Deno.test("e2e: a camera name from --config and a long UID both reach the camera", async () => {
  const cameras = [{ name: "garden", uid: LONG_UID }];
  await withRegisteredCamera({ cameras }, async (server, camera) => {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/config.toml`;
      await Deno.writeTextFile(path, `[[cameras]]\nname = "garden"\nuid = "${LONG_UID}"\n`);
      const byName = await runCli([
        "wake",
        "garden",
        "--config",
        path,
        "--server",
        serverArg(server),
      ]);
      assert.equal(byName.code, 0, byName.stderr);
      assert.match(byName.stdout, /^woke 95270000E2ETESTA \("garden"\) via /);
      const byLongUid = await runCli(["wake", LONG_UID, "--server", serverArg(server)]);
      assert.equal(byLongUid.code, 0, byLongUid.stderr);
      assert.match(byLongUid.stderr, /note: 95270000E2ETESTA0123 is a long/);
      await camera.waitForWakes(1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("e2e: an unknown camera exits 3 (not registered)", async () => {
  await withRegisteredCamera({}, async (server, camera) => {
    const result = await runCli(["wake", "95270000NOSUCHCA", "--server", serverArg(server)]);
    assert.equal(result.code, 3, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`camera 95270000NOSUCHCA has not sent a heartbeat to ${serverArg(server)}`),
    );
    assert.equal(camera.wakes.length, 0, "the registered camera was not woken");
  });
});

Deno.test("e2e: wake --wait reports when the woken camera opens its TCP port", async () => {
  const port = freeTcpPort("127.0.0.2");
  await withRegisteredCamera({ tcpOnWake: port }, async (server, camera) => {
    const result = await runCli(
      wakeArgs(server, "--wait", "--camera-port", String(port), "--json"),
    );
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    assert.equal(json.result, "woken");
    assert.equal(typeof json.online_ms, "number");
    assert.equal(camera.tcpPort, port);
    assert.ok(camera.tcpConnections >= 1, "the probe connected to the camera");
  });
});

Deno.test("e2e: wake --wait exits 4 when the woken camera never opens its port", async () => {
  const port = freeTcpPort("127.0.0.2");
  await withRegisteredCamera({}, async (server) => {
    const result = await runCli(
      wakeArgs(server, "--wait", "--wait-timeout", "1", "--camera-port", String(port)),
    );
    assert.equal(result.code, 4);
    assert.match(
      result.stderr,
      /was signalled \(sid \d+\) but never opened its port 127\.0\.0\.2:/,
    );
  });
});

Deno.test("e2e: `bairelay wake NAME --config FILE --wait` against `bairelay serve` in a subprocess", async () => {
  const ip = randomLoopback();
  const ports = await freeServePorts(ip);
  const dir = await Deno.makeTempDir({ prefix: "bairelay-wake-e2e-" });
  const config = `${dir}/config.toml`;
  await Deno.writeTextFile(
    config,
    `bind = "${ip}"\nstate_dir = "${dir}/state"\n\n` +
      `[wake_server]\nmiddleman_port = ${ports.middleman}\nregister_port = ${ports.register}\n\n` +
      `[api]\nlisten = "off"\n\n[push_listener]\nenable = false\n\n` +
      `[[cameras]]\nname = "garden"\nuid = "${LONG_UID}"\n`,
  );
  const serve = ServeProcess.start(["--config", config]);
  let camera: CameraSim | undefined;
  try {
    await serve.ready();
    const cameraPort = freeTcpPort("127.0.0.2");
    camera = await CameraSim.start({
      uid: LONG_UID,
      ip: "127.0.0.2",
      middleman: { ip, port: ports.middleman },
      tcpOnWake: cameraPort,
    });
    await camera.boot();
    // No --server: the config's bind address and middleman port are the default.
    const result = await runCli([
      ...["wake", "garden", "--config", config, "--wait", "--camera-port", String(cameraPort)],
      "--json",
    ]);
    assert.equal(result.code, 0, `${result.stderr}\n--- serve:\n${serve.stderr}`);
    const json = JSON.parse(result.stdout);
    assert.equal(json.result, "woken");
    assert.equal(json.server, `${ip}:${ports.middleman}`);
    assert.deepEqual(json.camera, camera.address);
    assert.equal(typeof json.online_ms, "number");
    const wakes = await camera.waitForWakes(1);
    assert.equal(wakes[0].message.fields.sid, json.sid);

    const unknown = await runCli(["wake", "95270000NOSUCHCA", "--config", config]);
    assert.equal(unknown.code, 3, unknown.stderr);
  } finally {
    await camera?.close();
    await serve.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("e2e: wake by a name the running serve knows, and by a lower-case UID", async () => {
  const ip = randomLoopback();
  const ports = await freeServePorts(ip);
  const dir = await Deno.makeTempDir();
  const config = `${dir}/config.toml`;
  await Deno.writeTextFile(config, `[[cameras]]\nname = "garden"\nuid = "${SHORT_UID}"\n`);
  const serve = ServeProcess.start([
    ...serveAddressArgs(ip, ports),
    ...["--config", config, "--state-dir", dir, "--no-push"],
  ]);
  let camera: CameraSim | undefined;
  try {
    await serve.ready();
    camera = await CameraSim.start({
      uid: LONG_UID,
      ip: randomLoopback(),
      middleman: { ip, port: ports.middleman },
    });
    await camera.boot();
    const server = ["--server", `${ip}:${ports.middleman}`];
    const api = ["--api", `http://${ip}:${ports.api}`];
    // No --config: the name is looked up in the running serve's camera list.
    const byName = await runCli(["wake", "garden", ...server, ...api, "--json"]);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(JSON.parse(byName.stdout).uid, SHORT_UID);
    const lower = await runCli(["wake", SHORT_UID.toLowerCase(), ...server, "--json"]);
    assert.equal(lower.code, 0, lower.stderr);
    assert.equal(JSON.parse(lower.stdout).uid, SHORT_UID);
    const unknown = await runCli(["wake", "porch", ...server, ...api]);
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /"porch" is neither a UID nor a camera named in the running serve at .* \(its cameras are: garden\)/,
    );
    const noServe = await runCli(["wake", "garden", "--api", "http://127.0.0.1:1"]);
    assert.equal(noServe.code, 2);
    assert.match(noServe.stderr, /could not be asked for its camera names: .*--config FILE/);
  } finally {
    await camera?.close();
    await serve.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
