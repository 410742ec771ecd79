/**
 * Signals at awkward moments: a terminal's Ctrl-C reaches serve twice (the process group's
 * SIGINT and the one `deno task` forwards), and any number of SIGINT/SIGTERM during a stop
 * must still give one orderly stop, state flushed, exit 0.
 */

import assert from "node:assert/strict";
import { CameraSim } from "./support/camera_sim.ts";
import {
  freeServePorts,
  randomLoopback,
  serveAddressArgs,
  ServeProcess,
} from "./support/serve_process.ts";

/** How many times each pattern of signals is tried: the race it guards against is timing. */
const ROUNDS = 8;

const PATTERNS: { name: string; signals: Deno.Signal[]; gapMs: number }[] = [
  {
    name: "two SIGINTs 2 ms apart (Ctrl-C under deno task)",
    signals: ["SIGINT", "SIGINT"],
    gapMs: 2,
  },
  { name: "SIGTERM then SIGINT 5 ms apart", signals: ["SIGTERM", "SIGINT"], gapMs: 5 },
  {
    name: "five signals 1 ms apart",
    signals: ["SIGINT", "SIGTERM", "SIGINT", "SIGINT", "SIGTERM"],
    gapMs: 1,
  },
];

for (const pattern of PATTERNS) {
  Deno.test(`serve: ${pattern.name} gives one orderly stop, state flushed, exit 0`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const ip = randomLoopback();
      const ports = await freeServePorts(ip);
      const stateDir = await Deno.makeTempDir();
      const serve = ServeProcess.start([
        ...serveAddressArgs(ip, ports),
        ...["--state-dir", stateDir, "--no-push"],
      ]);
      let camera: CameraSim | undefined;
      try {
        await serve.ready();
        // A registration leaves an urgent state write pending: the stop has a file to flush.
        camera = await CameraSim.start({
          uid: `95270000SIGNAL${String(round).padStart(2, "0")}-0123`,
          ip: randomLoopback(),
          middleman: { ip, port: ports.middleman },
        });
        await camera.boot();
        for (const [index, signal] of pattern.signals.entries()) {
          if (index > 0) await new Promise((resolve) => setTimeout(resolve, pattern.gapMs));
          serve.signal(signal);
        }
        const status = await serve.exit();
        assert.equal(status.code, 0, `round ${round}: exit ${status.code}\n${serve.stderr}`);
        assert.match(serve.stderr, /\bstopped\b/, `round ${round}: no "stopped" line`);
        const names = [...Deno.readDirSync(stateDir)].map((entry) => entry.name);
        assert.deepEqual(names, ["wake-state.json"], `round ${round}: ${names}`);
        const state = JSON.parse(await Deno.readTextFile(`${stateDir}/wake-state.json`));
        assert.equal(state.cameras.length, 1, `round ${round}: the camera was not flushed`);
      } finally {
        await camera?.close();
        await serve.stop("SIGKILL");
        await Deno.remove(stateDir, { recursive: true });
      }
    }
  });
}

Deno.test("serve: temporary state files of a killed run are removed at the next start", async () => {
  const ip = randomLoopback();
  const ports = await freeServePorts(ip);
  const stateDir = await Deno.makeTempDir();
  // What a run killed between creating and renaming its temporary file leaves behind.
  await Deno.writeTextFile(`${stateDir}/wake-state.json.4242.tmp`, "");
  await Deno.writeTextFile(`${stateDir}/unrelated.4242.tmp`, "keep");
  const serve = ServeProcess.start([
    ...serveAddressArgs(ip, ports),
    ...["--state-dir", stateDir, "--no-push"],
  ]);
  try {
    await serve.ready();
    await serve.waitFor(/Removed \S*wake-state\.json\.4242\.tmp/);
    const names = [...Deno.readDirSync(stateDir)].map((entry) => entry.name).sort();
    assert.deepEqual(names, ["unrelated.4242.tmp"]);
  } finally {
    await serve.stop();
    await Deno.remove(stateDir, { recursive: true });
  }
});
