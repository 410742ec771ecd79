/**
 * scripts/demo as a newcomer runs it: within a bounded time the two simulated cameras register,
 * one is woken and one has motion (checked through serve's API, not the demo's own words); SIGINT
 * stops it with exit 0, no process of its left running and its temporary directory removed.
 */

import assert from "node:assert/strict";
import { freeTcpPort } from "./support/serve_process.ts";

const DEMO = new URL("../scripts/demo", import.meta.url).pathname;
/** Covers a first start that still compiles, plus the demo's three 1-second steps. */
const DEMO_TIMEOUT_MS = 90_000;

interface Camera {
  name: string | null;
  state: string;
  last_wake: string | null;
  last_motion: string | null;
}

/** Every process below `pid` (children, grandchildren, ...), from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...children.get(parent) ?? [], Number(entry.name)]);
    } catch { /* the process ended meanwhile */ }
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const child of children.get(p) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

Deno.test("scripts/demo: cameras register, one is woken, one moves; SIGINT stops it all", async () => {
  const api = `127.0.0.1:${freeTcpPort("127.0.0.1")}`;
  const child = new Deno.Command(DEMO, {
    args: ["--api", api, "--pace", "1"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let stdout = "";
  const decoder = new TextDecoder();
  const reader = child.stdout.getReader();
  const deadline = setTimeout(() => child.kill("SIGKILL"), DEMO_TIMEOUT_MS);
  try {
    while (!stdout.includes("Ctrl-C stops the demo")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`demo ended early:\n${stdout}\n${await stderr}`);
      stdout += decoder.decode(value, { stream: true });
    }
    assert.ok(stdout.includes(`open the status page: http://${api}/`), stdout);
    const dir = stdout.match(/state and config in (\S+)\)/)?.[1];
    assert.ok(dir, stdout);

    const response = await fetch(`http://${api}/api/cameras`);
    const { cameras } = await response.json() as { cameras: Camera[] };
    const byName = new Map(cameras.map((camera) => [camera.name, camera]));
    assert.deepEqual([...byName.keys()].sort(), ["garden", "porch"]);
    for (const camera of cameras) assert.equal(camera.state, "fresh", JSON.stringify(camera));
    assert.ok(byName.get("garden")!.last_wake !== null, "garden was woken");
    assert.ok(byName.get("porch")!.last_motion !== null, "porch had motion");

    const processes = descendants(child.pid);
    assert.ok(processes.length > 0, "serve runs below the demo");
    child.kill("SIGINT");
    // Read to the end so the demo never blocks on a full pipe while stopping.
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      stdout += decoder.decode(r.value, { stream: true });
    }
    const status = await child.status;
    assert.equal(status.code, 0, `${stdout}\n${await stderr}`);
    assert.ok(stdout.includes("stopped (serve exited with code 0)"), stdout);
    assert.deepEqual(processes.filter(alive), [], "no process of the demo is left running");
    assert.ok(!(await Deno.stat(dir).then(() => true, () => false)), `${dir} was removed`);
  } finally {
    clearTimeout(deadline);
    await stderr;
  }
});
