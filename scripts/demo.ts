/**
 * bairelay without a camera: starts `serve` on loopback (no root: free ports, the push listener on
 * a high port, a temporary state directory) and two simulated cameras, then, a few seconds apart,
 * lets the cameras register, wakes one through the API and makes the other "move" (a TCP connect
 * to the push port from its address, which serve turns into a motion event). Watch it on the
 * status page; Ctrl-C stops everything and removes the temporary directory.
 *
 * Usage: scripts/demo [--api HOST:PORT] [--pace SECONDS]
 *   --api    where serve's API and status page listen (default 127.0.0.1:9899, or a free port
 *            when that one is taken)
 *   --pace   seconds between the steps (default 5)
 */

import { parseArgs } from "node:util";
import { CameraSim } from "../tests/support/camera_sim.ts";
import { sendPush } from "../tests/support/push_client.ts";
import { freeServePorts, freeTcpPort } from "../tests/support/serve_process.ts";
import { taskFlags } from "./task_flags.ts";

const SERVE_IP = "127.0.0.1";
const DEFAULT_API = `${SERVE_IP}:9899`;
/** How long serve may take to answer /healthz (the first run may still compile). */
const READY_TIMEOUT_MS = 60_000;
/** How long serve may take to stop before it is killed. */
const STOP_TIMEOUT_MS = 10_000;
/** Heartbeat interval of the simulated cameras (real ones heartbeat every ~10-20 s). */
const HEARTBEAT_MS = 10_000;

/** The simulated cameras: each on its own loopback address, so motion finds it by address. */
const CAMERAS = [
  { name: "garden", uid: "95270000DEMOGARD", ip: "127.0.0.2" },
  { name: "porch", uid: "95270000DEMOPRCH", ip: "127.0.0.3" },
];
const WOKEN = CAMERAS[0];
const MOVING = CAMERAS[1];

function say(line: string): void {
  console.log(`demo: ${line}`);
}

function usage(message: string): never {
  console.error(`demo: ${message}\nUsage: scripts/demo [--api HOST:PORT] [--pace SECONDS]`);
  Deno.exit(2);
}

/** The API address: `--api`, else 9899 when free, else a free port. */
function apiAddress(requested: string | undefined): string {
  if (requested !== undefined) {
    if (!/^[^:]+:\d+$/.test(requested)) usage(`--api wants HOST:PORT, got "${requested}"`);
    return requested;
  }
  try {
    Deno.listen({ hostname: SERVE_IP, port: 9899 }).close();
    return DEFAULT_API;
  } catch {
    return `${SERVE_IP}:${freeTcpPort(SERVE_IP)}`;
  }
}

function configToml(stateDir: string): string {
  const cameras = CAMERAS.map((c) => `[[cameras]]\nname = "${c.name}"\nuid = "${c.uid}"\n`);
  return `state_dir = ${JSON.stringify(stateDir)}\n\n${cameras.join("\n")}`;
}

/** Resolves after `ms`, or at once when `stop` fires. */
function pause(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    stop.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

async function waitForApi(base: string, serve: Deno.ChildProcess, stop: AbortSignal) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = false;
  serve.status.then(() => exited = true);
  while (!stop.aborted && !exited && Date.now() < deadline) {
    try {
      const response = await fetch(`${base}/healthz`);
      await response.body?.cancel();
      if (response.ok) return;
    } catch { /* not listening yet */ }
    await pause(250, stop);
  }
  if (!stop.aborted) throw new Error(`serve did not answer at ${base}/healthz (see its log above)`);
}

/** Registers the cameras, wakes one, makes the other move; returns early when stopped. */
async function play(
  base: string,
  middleman: number,
  pushPort: number,
  paceMs: number,
  stop: AbortSignal,
  cameras: CameraSim[],
) {
  await pause(paceMs, stop);
  for (const { name, uid, ip } of CAMERAS) {
    if (stop.aborted) return;
    const camera = await CameraSim.start({
      uid: `${uid}0001`,
      ip,
      middleman: { ip: SERVE_IP, port: middleman },
    });
    cameras.push(camera);
    await camera.boot();
    camera.startHeartbeats(HEARTBEAT_MS);
    say(`camera ${name} (${uid}) booted from ${ip} and registered`);
  }
  await pause(paceMs, stop);
  if (stop.aborted) return;
  const response = await fetch(`${base}/api/cameras/${WOKEN.name}/wake`, { method: "POST" });
  say(
    `POST /api/cameras/${WOKEN.name}/wake -> ${response.status} ${(await response.text()).trim()}`,
  );
  await cameras[0].waitForWakes(1).catch(() => {});
  say(`camera ${WOKEN.name} got ${cameras[0].wakes.length} wake packets (R2D_C) and answered`);
  await pause(paceMs, stop);
  if (stop.aborted) return;
  await sendPush({ from: MOVING.ip, host: SERVE_IP, port: pushPort });
  say(`camera ${MOVING.name} moved: a TCP connect from ${MOVING.ip} to the push port ${pushPort}`);
  say("that is all; the page keeps the state and events. Ctrl-C stops the demo");
}

async function main(): Promise<number> {
  let args: { api?: string; pace?: string };
  try {
    const options = { api: { type: "string" }, pace: { type: "string" } } as const;
    args = parseArgs({ args: Deno.args, options }).values;
  } catch (error) {
    usage((error as Error).message);
  }
  const pace = Number(args.pace ?? 5);
  if (!Number.isFinite(pace) || pace < 0) usage(`--pace wants seconds, got "${args.pace}"`);

  const stopper = new AbortController();
  const onSignal = () => stopper.abort();
  // Handlers stay installed until the end: a second Ctrl-C must not kill the demo mid-stop.
  for (const signal of ["SIGINT", "SIGTERM"] as const) Deno.addSignalListener(signal, onSignal);

  const api = apiAddress(args.api);
  const base = `http://${api}`;
  const dir = await Deno.makeTempDir({ prefix: "bairelay-demo-" });
  const ports = await freeServePorts(SERVE_IP);
  const pushPort = freeTcpPort(SERVE_IP);
  await Deno.writeTextFile(`${dir}/config.toml`, configToml(`${dir}/state`));

  const root = new URL("..", import.meta.url).pathname;
  const flags = taskFlags(await Deno.readTextFile(`${root}deno.json`), "serve");
  say(`starting bairelay serve (state and config in ${dir})`);
  say("serve's own log follows on stderr; its DNS advice is for real cameras, the demo needs none");
  const serve = new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "--quiet", ...flags, `${root}main.ts`, "serve", "--config", `${dir}/config.toml`],
      ...["--bind", SERVE_IP, "--middleman-port", String(ports.middleman)],
      ...["--register-port", String(ports.register), "--push-port", String(pushPort)],
      ...["--api", api],
    ],
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();

  const cameras: CameraSim[] = [];
  let failed = false;
  try {
    await waitForApi(base, serve, stopper.signal);
    if (!stopper.signal.aborted) {
      say(`open the status page: ${base}/`);
      say(
        `watch ${CAMERAS.map((c) => c.name).join(" and ")} go from "never seen" to fresh, ` +
          `${WOKEN.name} being woken, ${MOVING.name} showing motion, and the recent events`,
      );
      say(`the same from a shell: curl -s ${base}/api/cameras, or bairelay registry --api ${api}`);
    }
    await play(base, ports.middleman, pushPort, pace * 1000, stopper.signal, cameras);
    await Promise.race([
      new Promise((resolve) => stopper.signal.addEventListener("abort", resolve, { once: true })),
      serve.status,
    ]);
  } catch (error) {
    console.error(`demo: ${(error as Error).message}`);
    failed = true;
  }

  say("stopping");
  for (const camera of cameras) await camera.close();
  try {
    serve.kill("SIGINT");
  } catch { /* already exited */ }
  const kill = setTimeout(() => {
    try {
      serve.kill("SIGKILL");
    } catch { /* already exited */ }
  }, STOP_TIMEOUT_MS);
  const status = await serve.status;
  clearTimeout(kill);
  await Deno.remove(dir, { recursive: true });
  if (!stopper.signal.aborted) say(`serve exited by itself (code ${status.code})`);
  else say(`stopped (serve exited with code ${status.code})`);
  return failed || status.code !== 0 || !stopper.signal.aborted ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
