/**
 * Resident memory of the wake server (its own process) with 1,024 registered cameras under
 * steady load: a load process sends each camera's heartbeat about once a second (1,024/s)
 * and this process wakes a camera every 2 s. As a baseline in the same run and over the
 * same period, a bare UDP echo server (same runtime and socket layer) gets the same heartbeat
 * load from a second load process. RSS of both is read from /proc every `--sample`
 * seconds for `--minutes`. Loopback only.
 *
 *   scripts/deno run -A bench/serve_memory.ts [--minutes 10] [--sample 30] [--rate 1024]
 */

import { ClientSim } from "../tests/support/client_sim.ts";
import { rssMiB } from "./measure.ts";
import { type Endpoint, flag, spawnProc } from "./serve_support.ts";

const MINUTES = flag("minutes", 10);
const SAMPLE_S = flag("sample", 30);
const CAMERAS = 1024;
/** Heartbeats per second to each server (default: each camera about once a second). */
const RATE = flag("rate", CAMERAS);

function loadFor(to: Endpoint) {
  return spawnProc("load", JSON.stringify({ to, rate: RATE, uids: CAMERAS }));
}

const server = await spawnProc<{ middleman: Endpoint; register: Endpoint }>(
  "wake",
  JSON.stringify({ staleAfterMs: 60_000, maxWakesPerHour: 0 }),
);
const echo = await spawnProc<{ port: number }>("echo");
const idle = { wake: rssMiB(server.pid), echo: rssMiB(echo.pid) };
const loads = [
  await loadFor(server.ready.register),
  await loadFor({ ip: "127.0.0.1", port: echo.ready.port }),
];
const client = await ClientSim.start();
let wakes = 0;
const waker = setInterval(() => {
  const uid = `9527LOAD${String(wakes % CAMERAS).padStart(8, "0")}`;
  client.send(client.connectMessage(uid, server.ready.register), server.ready.register).catch(
    () => {},
  );
  wakes++;
}, 2000);
try {
  await new Promise((r) => setTimeout(r, 5000));
  const samples: { t: number; wake: number; echo: number }[] = [];
  const started = performance.now();
  const end = started + MINUTES * 60_000;
  const sample = () =>
    samples.push({
      t: (performance.now() - started) / 1000,
      wake: rssMiB(server.pid),
      echo: rssMiB(echo.pid),
    });
  while (performance.now() < end) {
    sample();
    await new Promise((r) =>
      setTimeout(r, Math.max(1, Math.min(SAMPLE_S * 1000, end - performance.now())))
    );
  }
  sample();
  const fmt = (v: number) => v.toFixed(1);
  const summary = (key: "wake" | "echo") => {
    const rss = samples.map((s) => s[key]);
    return `idle ${fmt(idle[key])} MB; loaded first ${fmt(rss[0])}, max ${
      fmt(Math.max(...rss))
    }, ` +
      `last ${fmt(rss.at(-1)!)} MB`;
  };
  console.log(`${RATE} heartbeats/s to each server for ${MINUTES} min (same run, same period)`);
  console.log(`wake server (1024 cameras, a wake every 2 s): ${summary("wake")}`);
  console.log(`bare UDP echo server:                         ${summary("echo")}`);
  console.log(
    `samples (s: wake/echo MB): ${
      samples.map((s) => `${Math.round(s.t)}:${fmt(s.wake)}/${fmt(s.echo)}`).join(" ")
    }`,
  );
  console.log(`wakes sent: ${wakes}; wake server reports ${server.latest()}`);
} finally {
  clearInterval(waker);
  await client.close();
  for (const load of loads) await load.stop();
  await echo.stop();
  await server.stop();
}
