/**
 * `bairelay wake` through the real CLI (a subprocess) against scripted fake servers on
 * loopback: exit codes, messages, `--json`, names from `--config`, several `--server`s and
 * `--wait`.
 */

import assert from "node:assert/strict";
import { message, type MessageOf } from "../lib/bcudp/mod.ts";
import {
  type FakeCameraPort,
  type FakeWakeServer,
  openCameraPortLater,
  rspAnswer,
  startFakeWakeServer,
  type StepScript,
  withFakeWakeServer as withFake,
  wokenAnswer,
} from "./support/fake_wake_server.ts";
import { runCli } from "./support/run_cli.ts";
import { freeTcpPort } from "./support/serve_process.ts";

const UID = "95270000ABCDEFGH";
const JSON_KEYS = [
  "uid",
  "server",
  "result",
  "camera",
  "sid",
  "elapsed_ms",
  "online_ms",
  "step",
  "message",
];

function serverArg(fake: FakeWakeServer): string {
  return `${fake.middleman.ip}:${fake.middleman.port}`;
}

function parseJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  assert.equal(lines.length, 1, `one JSON line expected, got: ${stdout}`);
  const json = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(json), JSON_KEYS);
  return json;
}

Deno.test("wake: a woken camera exits 0 and says where the camera is", async () => {
  await withFake({ camera: { ip: "127.0.0.7", port: 40500 }, sid: 31337 }, async (fake) => {
    const result = await runCli(["wake", UID, "--server", serverArg(fake)]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^woke 95270000ABCDEFGH via 127\.0\.0\.1:\d+: camera at 127\.0\.0\.7:40500, sid 31337, \d+ ms\n$/,
    );
    assert.equal(result.stderr, "");
  });
});

Deno.test("wake --json: one object with the documented keys", async () => {
  await withFake({ camera: { ip: "127.0.0.7", port: 40500 }, sid: 31337 }, async (fake) => {
    const result = await runCli(["wake", UID, "--server", serverArg(fake), "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const json = parseJson(result.stdout);
    assert.equal(json.uid, UID);
    assert.equal(json.server, serverArg(fake));
    assert.equal(json.result, "woken");
    assert.deepEqual(json.camera, { ip: "127.0.0.7", port: 40500 });
    assert.equal(json.sid, 31337);
    assert.equal(typeof json.elapsed_ms, "number");
    assert.equal(json.online_ms, null);
    assert.equal(json.step, null);
  });
});

Deno.test("wake: rsp -1 exits 3 saying the camera has not sent a heartbeat", async () => {
  await withFake({ register: { reply: rspAnswer(-1) } }, async (fake) => {
    const result = await runCli(["wake", UID, "--server", serverArg(fake)]);
    assert.equal(result.code, 3);
    assert.equal(result.stdout, "");
    assert.match(
      result.stderr,
      new RegExp(`camera ${UID} has not sent a heartbeat to ${serverArg(fake)} recently`),
    );
    const json = await runCli(["wake", UID, "--server", serverArg(fake), "--json"]);
    assert.equal(json.code, 3);
    assert.equal(parseJson(json.stdout).result, "not_registered");
  });
});

Deno.test("wake: a silent middleman exits 4 naming the step and the address", async () => {
  await withFake({ middleman: { silent: true } }, async (fake) => {
    const result = await runCli(["wake", UID, "--server", serverArg(fake), "--timeout", "1"]);
    assert.equal(result.code, 4);
    assert.match(
      result.stderr,
      new RegExp(`no answer to C2M_Q from the middleman at ${serverArg(fake)} \\(sent [12] times?`),
    );
    const json = await runCli([
      "wake",
      UID,
      "--server",
      serverArg(fake),
      "--timeout",
      "0.6",
      "--json",
    ]);
    assert.equal(json.code, 4);
    const object = parseJson(json.stdout);
    assert.equal(object.result, "timeout");
    assert.equal(object.step, "middleman");
    assert.equal(object.server, null);
  });
});

Deno.test("wake: a silent register exits 4 naming the register", async () => {
  await withFake({ register: { silent: true } }, async (fake) => {
    const result = await runCli(["wake", UID, "--server", serverArg(fake), "--timeout", "1.5"]);
    assert.equal(result.code, 4);
    assert.match(
      result.stderr,
      new RegExp(
        `the middleman at ${serverArg(fake)} answered, but the register at ` +
          `127\\.0\\.0\\.1:${fake.register.port} never answered C2R_C \\(sent [12] times?`,
      ),
    );
  });
});

Deno.test("wake: an unusable reply exits 1", async () => {
  await withFake({ register: { reply: rspAnswer(-7) } }, async (fake) => {
    const result = await runCli(["wake", UID, "--server", serverArg(fake), "--json"]);
    assert.equal(result.code, 1);
    const json = parseJson(result.stdout);
    assert.equal(json.result, "unusable");
    assert.equal(json.step, "register");
    assert.match(
      json.message as string,
      /unusable reply from 127\.0\.0\.1:\d+ at the register step: the register refused the wake with rsp -7/,
    );
    assert.equal(result.stderr, "", "with --json the message is in the JSON only");
  });
});

Deno.test("wake: several --server, the first to answer wins", async () => {
  const silent = await startFakeWakeServer({ middleman: { silent: true } });
  const answering = await startFakeWakeServer({ host: "127.0.0.2" });
  try {
    const result = await runCli([
      "wake",
      UID,
      "--server",
      serverArg(silent),
      "--server",
      serverArg(answering),
      "--json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(parseJson(result.stdout).server, serverArg(answering));
    assert.equal(silent.middlemanRequests.length >= 1, true);
    assert.equal(answering.registerRequests.length, 1);
  } finally {
    await Promise.all([silent.close(), answering.close()]);
  }
});

Deno.test("wake: --server takes host names (resolved by the system, here from /etc/hosts)", async () => {
  await withFake({}, async (fake) => {
    const result = await runCli(["wake", UID, "--server", `localhost:${fake.middleman.port}`]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^woke ${UID} via localhost:${fake.middleman.port}:`));
  });
});

Deno.test("wake --wait exits 1 when the register does not say where the camera is", async () => {
  const noDev: StepScript["reply"] = () => [{
    message: message("R2C_C_R", { nat: "NULL", sid: 5, rsp: 0, ac: 5 }),
  }];
  await withFake({ register: { reply: noDev } }, async (fake) => {
    const plain = await runCli(wakeArgs(fake));
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /camera address not given, sid 5/);
    const waiting = await runCli(wakeArgs(fake, "--wait", "--json"));
    assert.equal(waiting.code, 1);
    const json = parseJson(waiting.stdout);
    assert.equal(json.camera, null);
    assert.match(json.message as string, /no <dev>\), so --wait cannot probe it/);
    assert.equal(waiting.stderr, "", "with --json the message is in the JSON only");
  });
});

Deno.test("wake: a long UID is shortened to 16 characters with a note", async () => {
  await withFake({}, async (fake) => {
    const result = await runCli(["wake", `${UID}0123`, "--server", serverArg(fake)]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stderr,
      /note: 95270000ABCDEFGH0123 is a long \(20-character\) UID; sending its 16-character form 95270000ABCDEFGH/,
    );
    const query = fake.middlemanRequests[0].packet.message as MessageOf<"C2M_Q">;
    assert.equal(query.fields.uid, UID);
    const connect = fake.registerRequests[0].packet.message as MessageOf<"C2R_C">;
    assert.equal(connect.fields.uid, UID);
  });
});

Deno.test("wake: names come from [[cameras]] in --config, whose middleman port is the default", async () => {
  await withFake({}, async (fake) => {
    const dir = await Deno.makeTempDir();
    try {
      const path = `${dir}/config.toml`;
      await Deno.writeTextFile(
        path,
        `[wake_server]\nmiddleman_port = ${fake.middleman.port}\n\n` +
          `[[cameras]]\nname = "garden"\nuid = "${UID}0123"\n`,
      );
      const result = await runCli(["wake", "garden", "--config", path]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /^woke 95270000ABCDEFGH \("garden"\) via 127\.0\.0\.1:/);
      const query = fake.middlemanRequests[0].packet.message as MessageOf<"C2M_Q">;
      assert.equal(query.fields.uid, UID);

      const unknown = await runCli(["wake", "porch", "--config", path]);
      assert.equal(unknown.code, 2);
      assert.match(
        unknown.stderr,
        /"porch" is neither a UID nor a camera named in .*config\.toml \(its cameras are: garden\)/,
      );

      const broken = `${dir}/broken.toml`;
      await Deno.writeTextFile(broken, "[wake_server\n");
      const bad = await runCli(["wake", "garden", "--config", broken]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /invalid configuration/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("wake: usage errors exit 2 with a message", async () => {
  for (
    const [args, pattern] of [
      [["wake"], /missing required argument/],
      [["wake", "front"], /"front" is not a UID/],
      [["wake", UID, "--server", "[::1]:9999"], /IPv6 servers are not supported/],
      [["wake", UID, "--timeout", "soon"], /Expected a number of seconds/],
      [["wake", UID, "--camera-port", "70000"], /Expected a port number/],
    ] as [string[], RegExp][]
  ) {
    const result = await runCli(args);
    assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, pattern);
  }
});

Deno.test("wake --help teaches with examples and exit codes", async () => {
  const result = await runCli(["wake", "--help"]);
  assert.equal(result.code, 0);
  for (const text of ["--server", "--wait", "--camera-port", "--json", "Examples:", "Exit codes"]) {
    assert.ok(result.stdout.includes(text), text);
  }
});

/** `wake UID --server <fake> ...extra`. */
function wakeArgs(fake: FakeWakeServer, ...extra: string[]): string[] {
  return ["wake", UID, "--server", serverArg(fake), ...extra];
}

Deno.test("wake --wait reports when the camera's port opens", async () => {
  const port = freeTcpPort("127.0.0.1");
  let camera: FakeCameraPort | undefined;
  // The "camera" opens its port 700 ms after the register is asked to wake it.
  const openLater: StepScript["reply"] = (request, fake) => {
    camera ??= openCameraPortLater("127.0.0.1", port, 700);
    return wokenAnswer(request, fake);
  };
  try {
    const options = { camera: { ip: "127.0.0.1", port: 40000 }, register: { reply: openLater } };
    await withFake(options, async (fake) => {
      const waitArgs = ["--wait", "--camera-port", String(port)];
      const result = await runCli(wakeArgs(fake, ...waitArgs, "--json"));
      assert.equal(result.code, 0, result.stderr);
      const json = parseJson(result.stdout);
      assert.equal(json.result, "woken");
      const online = json.online_ms as number;
      assert.ok(online >= 500 && online < 5000, String(online));
      const text = await runCli(wakeArgs(fake, ...waitArgs));
      assert.equal(text.code, 0, text.stderr);
      assert.match(
        text.stdout,
        new RegExp(
          `^woke .*\ncamera ${UID} is online: 127\\.0\\.0\\.1:${port} accepted a connection ` +
            `\\d+ ms after the wake\n$`,
        ),
      );
    });
  } finally {
    await camera?.close();
  }
});

Deno.test("wake --wait exits 4 when the camera never opens its port", async () => {
  const port = freeTcpPort("127.0.0.1");
  await withFake({ camera: { ip: "127.0.0.1", port: 40000 } }, async (fake) => {
    const result = await runCli(
      wakeArgs(fake, "--wait", "--wait-timeout", "1", "--camera-port", String(port)),
    );
    assert.equal(result.code, 4);
    assert.match(result.stdout, /^woke 95270000ABCDEFGH/);
    assert.match(
      result.stderr,
      new RegExp(`was signalled \\(sid \\d+\\) but never opened its port 127\\.0\\.0\\.1:${port}`),
    );
  });
});
