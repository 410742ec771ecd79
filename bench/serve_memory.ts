/**
 * Resident memory of the wake server (its own process) with 1,024 registered cameras under
 * steady load: a load process sends each camera's heartbeat about once a second (1,024/s)
 * and this process wakes a camera every 2 s. RSS is read from /proc every `--sample`
 * seconds for `--minutes`. First, as a baseline in the same run, a bare UDP echo server
 * (same runtime, node:dgram) gets the same heartbeat load for `--baseline` seconds.
 * Loopback only.
 *
 *   scripts/deno run -A bench/serve_memory.ts [--minutes 10] [--sample 30] [--baseline 30]
 */

import { ClientSim } from "../tests/support/client_sim.ts";
import { type Endpoint, flag, rssMb, spawnProc } from "./serve_support.ts";

const MINUTES = flag("minutes", 10);
const SAMPLE_S = flag("sample", 30);
const BASELINE_S = flag("baseline", 30);
const CAMERAS = 1024;

async function echoBaseline(): Promise<{ idle: number; loaded: number }> {
  const echo = await spawnProc<{ port: number }>("echo");
  const idle = rssMb(echo.pid);
  const to = { ip: "127.0.0.1", port: echo.ready.port };
  const load = await spawnProc("load", JSON.stringify({ to, rate: CAMERAS, uids: CAMERAS }));
  let loaded = 0;
  for (let waited = 0; waited < BASELINE_S; waited += 5) {
    await new Promise((r) => setTimeout(r, 5000));
    loaded = Math.max(loaded, rssMb(echo.pid));
  }
  await load.stop();
  await echo.stop();
  return { idle, loaded };
}

const baseline = await echoBaseline();

const server = await spawnProc<{ middleman: Endpoint; register: Endpoint }>(
  "wake",
  JSON.stringify({ staleAfterMs: 60_000, maxWakesPerHour: 0 }),
);
const idle = rssMb(server.pid);
const load = await spawnProc(
  "load",
  JSON.stringify({ to: server.ready.register, rate: CAMERAS, uids: CAMERAS }),
);
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
  const samples: { t: number; rss: number }[] = [];
  const started = performance.now();
  const end = started + MINUTES * 60_000;
  while (performance.now() < end) {
    samples.push({ t: (performance.now() - started) / 1000, rss: rssMb(server.pid) });
    await new Promise((r) => setTimeout(r, Math.min(SAMPLE_S * 1000, end - performance.now())));
  }
  samples.push({ t: (performance.now() - started) / 1000, rss: rssMb(server.pid) });
  const rss = samples.map((s) => s.rss);
  const fmt = (v: number) => v.toFixed(1);
  console.log(
    `bare UDP echo server, same load, ${BASELINE_S} s: idle ${fmt(baseline.idle)} MB, ` +
      `max ${fmt(baseline.loaded)} MB`,
  );
  console.log(`wake server idle (no cameras): ${fmt(idle)} MB`);
  console.log(`${CAMERAS} cameras, ${CAMERAS} heartbeats/s, a wake every 2 s, ${MINUTES} min:`);
  console.log(
    `  RSS first ${fmt(rss[0])} MB, min ${fmt(Math.min(...rss))}, max ${
      fmt(Math.max(...rss))
    }, last ${fmt(rss.at(-1)!)} MB`,
  );
  console.log(
    `  samples (s:MB): ${samples.map((s) => `${Math.round(s.t)}:${fmt(s.rss)}`).join(" ")}`,
  );
  console.log(`  wakes sent: ${wakes}; server reports ${server.latest()}`);
} finally {
  clearInterval(waker);
  await client.close();
  await load.stop();
  await server.stop();
}
