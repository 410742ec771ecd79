/**
 * `bairelay doctor`'s drain warning from the command line: a stand-in for a serve with the
 * history (its `/api/cameras` names who drains which camera) and for an older serve (no
 * `drain` at all), asked over real HTTP; what `--json` prints and what the checklist shows.
 */

import assert from "node:assert/strict";
import type { StatusDocument } from "../lib/api/status.ts";
import type { CheckResult } from "../lib/doctor/result.ts";
import { runCli } from "./support/run_cli.ts";

const STATUS: StatusDocument = {
  version: "0.1.0",
  started_at: "2026-12-06T05:00:00.000Z",
  uptime_s: 60,
  listeners: [],
  receive_buffers: [],
  mqtt: { state: "off", broker: null, error: null },
  state_dir: "/var/lib/bairelay",
  cameras: { fresh: 1, stale: 0, never_seen: 0 },
  last_packet: null,
  advertised_addresses: ["192.0.2.2"],
};

/** A camera of `/api/cameras`, with `extra` fields (a newer serve's). */
function garden(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    uid: "95270000ABCDEFGH",
    name: "garden",
    state: "fresh",
    address: { ip: "192.0.2.50", port: 40000 },
    first_seen: "2026-12-06T05:00:00.000Z",
    last_heartbeat: "2026-12-06T05:01:00.000Z",
    age_ms: 1000,
    fresh: true,
    wakes: 48,
    wakes_last_hour: 3,
    wake_budget: 60,
    last_wake: null,
    last_motion: null,
    ...extra,
  };
}

/** Answers the three requests doctor makes, with `cameras` as `/api/cameras`. */
function standIn(cameras: Record<string, unknown>[]): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/healthz") return new Response("ok");
    if (path === "/api/status") return Response.json(STATUS);
    if (path === "/api/cameras") return Response.json({ cameras });
    return new Response("not found", { status: 404 });
  });
}

async function doctor(server: Deno.HttpServer<Deno.NetAddr>, json: boolean) {
  const api = `127.0.0.1:${server.addr.port}`;
  const run = await runCli([
    "doctor",
    "--api",
    api,
    "--no-system-dns",
    ...json ? ["--json"] : [],
  ]);
  // Other programs on this machine may hold serve's ports (a box problem): 0 or 1.
  assert.ok(run.code === 0 || run.code === 1, run.stderr + run.stdout);
  return run.stdout;
}

Deno.test("doctor --json: one object per line for each drain, with its remedy; the checklist too", async () => {
  const server = standIn([
    garden({
      wakes_today: 48,
      motion_today: 2,
      last_woken_by: { requester: "192.168.1.5", kind: "client", at: "2026-12-06T05:00:00Z" },
      drain: [{ requester: "192.168.1.5", wakes: 48, threshold: 24 }],
    }),
  ]);
  try {
    const lines = (await doctor(server, true)).trim().split("\n");
    const results = lines.map((line) => JSON.parse(line) as CheckResult);
    const drain = results.find((entry) => entry.id === "camera.garden.drain.192.168.1.5");
    assert.ok(drain, lines.join("\n"));
    assert.deepEqual(Object.keys(drain), [
      "group",
      "id",
      "verdict",
      "summary",
      "details",
      "remedy",
    ]);
    assert.equal(drain.group, "cameras");
    assert.equal(drain.verdict, "warning");
    assert.equal(drain.summary, "192.168.1.5 woke garden 48 times in 24 h (more than 24)");
    assert.match(drain.remedy!, /^Each wake costs battery: lower that client's polling/);
    assert.match(drain.remedy!, /\[wake_server\] max_wakes_per_hour\.$/);

    const text = await doctor(server, false);
    assert.match(
      text,
      /\n {2}warning {2}192\.168\.1\.5 woke garden 48 times in 24 h \(more than 24\)\n {11}fix: Each wake costs battery/,
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("doctor: an older serve without drain gets no drain line; no drain is ok", async () => {
  const older = standIn([garden({})]);
  const quiet = standIn([garden({ drain: [] })]);
  try {
    const olderIds = (await doctor(older, true)).trim().split("\n")
      .map((line) => (JSON.parse(line) as CheckResult).id);
    assert.ok(olderIds.includes("camera.garden"), olderIds.join(", "));
    assert.deepEqual(olderIds.filter((id) => id.includes("drain")), []);
    const quietResults = (await doctor(quiet, true)).trim().split("\n")
      .map((line) => JSON.parse(line) as CheckResult);
    const ok = quietResults.find((entry) => entry.id === "cameras.drain");
    assert.equal(ok?.verdict, "ok");
  } finally {
    await older.shutdown();
    await quiet.shutdown();
  }
});
