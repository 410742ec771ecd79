/**
 * Resident memory of `serve` holding a busy week of history for 1,024 cameras, against the same
 * `serve` with none. Each run: the real `serve` (as the release ships it, see `shippedServe`;
 * `--source` for main.ts), the state
 * directory prepared with a history file filled to its default bounds for every camera (every
 * event ring full, 168 hours of counts with `--requesters` requesters an hour) or left empty, then
 * 1,024 cameras heartbeating about once a second and `GET /api/cameras` every 10 s. RSS from
 * /proc every `--sample` seconds for `--seconds`. Loopback only.
 *
 *   scripts/deno run -A bench/history_memory.ts [--seconds 120] [--sample 10] [--requesters N]
 *     [--distinct] [--source]
 */

import { HISTORY_SPEC, historyOptions } from "../lib/history/config.ts";
import { defaultsOf } from "../lib/config/spec.ts";
import { HistoryFile } from "../lib/history/file.ts";
import { HOUR_MS } from "../lib/history/hours.ts";
import { HistoryStore } from "../lib/history/store.ts";
import { ServeProcess, serveSetup } from "../tests/support/serve_process.ts";
import { MEASURED_CHILD_ENV, rssMiB } from "./measure.ts";
import { flag, type ServeEntry, shippedServe, spawnProc } from "./serve_support.ts";

const SECONDS = flag("seconds", 120);
const SAMPLE_S = flag("sample", 10);
const CAMERAS = 1024;
const DISTINCT = Deno.args.includes("--distinct");
/** Distinct requesters waking each camera every hour (the default is the config's bound). */
const REQUESTERS_PER_HOUR = flag("requesters", defaultsOf(HISTORY_SPEC).maxRequestersPerHour);

/** The load process's UIDs (see heartbeatPackets). */
function uid(i: number): string {
  return `9527LOAD${String(i).padStart(8, "0")}0123`;
}

/** A week of history for every camera, each bound reached. */
async function writeBusyWeek(stateDir: string, now: number): Promise<number> {
  const store = new HistoryStore(historyOptions(defaultsOf(HISTORY_SPEC), 2 * CAMERAS));
  const weekAgo = now - 7 * 24 * HOUR_MS + HOUR_MS;
  for (let c = 0; c < CAMERAS; c++) {
    const camera = uid(c);
    store.registered(camera, weekAgo, "127.0.0.1:40000");
    for (let at = weekAgo; at < now; at += HOUR_MS) {
      store.heartbeat(camera, at);
      store.motion(camera, at + 1000);
      for (let r = 0; r < REQUESTERS_PER_HOUR; r++) {
        // With --distinct, each camera has requesters of its own (the pessimistic case);
        // otherwise the same clients wake every camera, as on a real site.
        const host = DISTINCT ? c % 250 + 1 : 1;
        const requester = { kind: "client" as const, address: `192.168.${r}.${host}` };
        store.wake(camera, at + 2000 + r, requester, "started", r + 1);
      }
    }
  }
  await new HistoryFile(stateDir).save(store, now);
  return (await Deno.stat(`${stateDir}/wake-history.json`)).size;
}

async function run(entry: ServeEntry, withHistory: boolean) {
  const setup = await serveSetup({ prefix: "bairelay-histmem-" });
  const bytes = withHistory ? await writeBusyWeek(setup.stateDir, Date.now()) : 0;
  const serve = ServeProcess.start(
    [...setup.args, "--no-push"],
    MEASURED_CHILD_ENV,
    entry.flags,
    { main: entry.main },
  );
  try {
    await serve.ready();
    const idle = rssMiB(serve.pid);
    const load = await spawnProc(
      "load",
      JSON.stringify({
        to: { ip: setup.ip, port: setup.ports.register },
        rate: CAMERAS,
        uids: CAMERAS,
      }),
    );
    const samples: number[] = [];
    const end = performance.now() + SECONDS * 1000;
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, SAMPLE_S * 1000));
      await (await fetch(`${setup.apiUrl}/api/cameras`)).body?.cancel();
      samples.push(rssMiB(serve.pid));
    }
    await load.stop();
    return { withHistory, fileMiB: bytes / 2 ** 20, idle, samples, max: Math.max(...samples) };
  } finally {
    await serve.stop();
    await setup.remove();
  }
}

const entry = await shippedServe();
console.log(`serve: ${entry.what}; ${entry.flags.filter((f) => f.startsWith("--v8")).join(" ")}`);
for (const withHistory of [false, true]) {
  const result = await run(entry, withHistory);
  console.log(
    `${withHistory ? "busy week" : "no history"}: file ${result.fileMiB.toFixed(1)} MiB, ` +
      `idle ${result.idle.toFixed(1)} MiB, loaded ${
        result.samples.map((s) => s.toFixed(1)).join(", ")
      } MiB, max ${result.max.toFixed(1)} MiB`,
  );
}
await entry.remove();
