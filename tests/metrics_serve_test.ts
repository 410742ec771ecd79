/**
 * `/metrics` of a real `bairelay serve` (JSON logs, a real Mosquitto with a password given
 * through the environment): every counter series at 0 before the first packet, build info,
 * process series, the MQTT connection, per-camera series only for cameras in the registry
 * (max_cameras = 1 refuses the second), the wake confirmation histogram, and `promtool check
 * metrics` accepting the whole page. Then the whole run's stderr is JSON lines, messages with
 * their values bare and the values as properties.
 */

import assert from "node:assert/strict";
import { CameraSim } from "./support/camera_sim.ts";
import { startMosquitto } from "./support/mosquitto.ts";
import { randomLoopback, ServeProcess, serveSetup } from "./support/serve_process.ts";
import { VERSION } from "../lib/version.ts";
import { programPath } from "./support/programs.ts";

const DOOR = "95270000MTRC0001";
const DOOR_LONG = `${DOOR}ABCD`;
const OTHER_LONG = "95270000MTRC0002WXYZ";
const PROMTOOL = programPath("promtool");

async function metricsText(api: string): Promise<string> {
  const response = await fetch(`${api}/metrics`);
  assert.equal(response.status, 200);
  return await response.text();
}

/** The value of the one sample line `name{labels}` (labels exactly as rendered). */
function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  assert.ok(line, `no ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

/** Runs `promtool check metrics` on `text`; returns its exit code and output. */
async function promtoolCheck(text: string) {
  const child = new Deno.Command(PROMTOOL, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: out.code, output: decode(out.stdout) + decode(out.stderr) };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Why the test cannot run here, or undefined. */
const skip = await Deno.stat(PROMTOOL).then(
  () => undefined,
  () => "promtool (Debian package prometheus) is not installed",
);

Deno.test({
  name: "metrics: a real serve's /metrics passes promtool, and its JSON stderr is only JSON lines" +
    (skip ? ` (skipped: ${skip})` : ""),
  ignore: skip !== undefined,
  fn: async () => {
    const broker = await startMosquitto({ users: { bridge: "s3cret" } });
    const { ip, ports, args, remove } = await serveSetup({
      toml: [
        "[wake_server]",
        "max_cameras = 1",
        "[push_listener]",
        "enable = false",
        "[mqtt]",
        `broker_addr = "${broker.host}"`,
        `port = ${broker.port}`,
        "[[cameras]]",
        'name = "door"',
        `uid = "${DOOR}"`,
        "",
      ].join("\n"),
      prefix: "bairelay-metrics-",
    });
    const serve = ServeProcess.start(
      [
        ...args,
        ...["--log-format", "json", "--log-level", "debug"],
      ],
      { BAIRELAY_MQTT_USERNAME: "bridge", BAIRELAY_MQTT_PASSWORD: "s3cret" },
    );
    const api = `http://${ip}:${ports.api}`;
    const cameras: CameraSim[] = [];
    try {
      await serve.ready();
      const first = await metricsText(api);
      // Every counter series exists before its first event, in one label style.
      for (
        const series of [
          'bairelay_packets_total{listener="register",variant="D2R_HB"}',
          'bairelay_packets_total{listener="register",variant="DATA"}',
          'bairelay_replies_total{listener="register",variant="R2D_C"}',
          'bairelay_decode_errors_total{listener="middleman",reason="crc_mismatch"}',
          'bairelay_dropped_total{listener="register",reason="registry_full"}',
          'bairelay_wakes_total{result="over_budget"}',
          'bairelay_wakes_confirmed_total{variant="D2R_C_R"}',
          "bairelay_wake_confirm_seconds_count",
        ]
      ) assert.equal(sample(first, series), 0, series);
      assert.doesNotMatch(first, /variant="[a-z]/);
      assert.doesNotMatch(first, /bairelay_camera_registered\{/);
      const build = `bairelay_build_info{version="${VERSION}",deno="${Deno.version.deno}",` +
        `v8="${Deno.version.v8}"}`;
      assert.equal(sample(first, build), 1);
      assert.ok(sample(first, "process_resident_memory_bytes") > 1_000_000);
      const started = sample(first, "process_start_time_seconds");
      assert.ok(started > Date.now() / 1000 - 120 && started <= Date.now() / 1000, `${started}`);

      // The bridge logs in with the environment's user and password.
      await until(
        async () => sample(await metricsText(api), "bairelay_mqtt_connected") === 1,
        "bairelay_mqtt_connected 1",
      );

      const door = await CameraSim.start({
        uid: DOOR_LONG,
        ip: randomLoopback(),
        middleman: { ip, port: ports.middleman },
      });
      cameras.push(door);
      await door.boot();
      const other = await CameraSim.start({
        uid: OTHER_LONG,
        ip: randomLoopback(),
        middleman: { ip, port: ports.middleman },
      });
      cameras.push(other);
      await other.query();
      await other.anchor();
      await other.heartbeat(0); // refused: max_cameras = 1
      const woken = await fetch(`${api}/api/cameras/door/wake`, { method: "POST" });
      assert.equal(woken.status, 202, await woken.text());
      await door.waitForWakes(1);
      await serve.waitFor(/confirmed wake sid/);
      await until(
        async () =>
          sample(
            await metricsText(api),
            'bairelay_dropped_total{listener="register",reason="registry_full"}',
          ) === 1,
        "the second camera refused",
      );

      const text = await metricsText(api);
      const labels = `{uid="${DOOR_LONG}",name="door"}`;
      assert.equal(sample(text, `bairelay_camera_registered${labels}`), 1);
      assert.equal(sample(text, `bairelay_camera_motion${labels}`), 0);
      const heartbeat = sample(text, `bairelay_camera_last_heartbeat_timestamp_seconds${labels}`);
      assert.ok(Math.abs(heartbeat - Date.now() / 1000) < 60, `${heartbeat}`);
      assert.doesNotMatch(text, new RegExp(OTHER_LONG), "a refused camera has no series");
      assert.equal(sample(text, "bairelay_wake_confirm_seconds_count"), 1);
      assert.equal(sample(text, 'bairelay_wake_confirm_seconds_bucket{le="+Inf"}'), 1);
      assert.equal(sample(text, 'bairelay_wake_confirm_seconds_bucket{le="10"}'), 1);
      assert.ok(sample(text, "bairelay_wake_confirm_seconds_sum") < 10);
      assert.equal(sample(text, 'bairelay_wakes_total{result="started"}'), 1);

      const checked = await promtoolCheck(text);
      assert.equal(checked.code, 0, checked.output);
      assert.equal(checked.output.trim(), "", checked.output);
    } finally {
      for (const camera of cameras) await camera.close();
      const stopped = await serve.stop();
      await broker.dispose();
      await remove();
      assert.equal(stopped.code, 0, serve.stderr);
    }

    // The whole run's stderr: JSON lines and nothing else (no runtime warnings in between).
    const lines = serve.stderr.split("\n");
    assert.equal(lines.pop(), "", "stderr ends with a newline");
    assert.ok(lines.length > 10, serve.stderr);
    const records = lines.map((line, index) => {
      try {
        return JSON.parse(line);
      } catch {
        assert.fail(`stderr line ${index + 1} is not JSON: ${line}`);
      }
    });
    for (const record of records) {
      assert.equal(typeof record.message, "string");
      assert.equal(typeof record.level, "string");
    }
    const registered = records.find((r) => /^Camera \S+ .*registered from/.test(r.message));
    assert.ok(registered, serve.stderr);
    assert.ok(
      registered.message.startsWith(`Camera ${DOOR_LONG} (door) registered from `),
      registered.message,
    );
    assert.equal(registered.properties.uid, DOOR_LONG);
    assert.equal(registered.properties.name, "door");
    assert.ok(!serve.stderr.includes("TimeoutNegativeWarning"), serve.stderr);
  },
});
