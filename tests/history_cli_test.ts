/** `bairelay history`: per camera wakes by requester, motion, offline spans; --json; exit codes. */

import assert from "node:assert/strict";
import { renderHistory, terminalSafe } from "../cli/history.ts";
import type { HistoryDocument } from "../lib/api/history_route.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { ClientSim } from "./support/client_sim.ts";
import { runCli } from "./support/run_cli.ts";
import { startServiceFixture } from "./support/service_fixture.ts";

const UID = "95270000HISTCLI10001";

Deno.test("history: wakes by requester from a real serve, --json, unknown camera and bad --since", async () => {
  const fixture = await startServiceFixture({
    cameras: [{ name: "garden", uid: "95270000HISTCLI1" }],
    wakeServer: { burstCount: 1, burstIntervalMs: 10 },
    history: { drainWakesPerDay: 1 },
    clients: [{ name: "nvr", address: "127.0.0.4" }],
  });
  const camera = await CameraSim.start({ uid: UID, ip: "127.0.0.6", middleman: fixture.middleman });
  const nvr = await ClientSim.start("127.0.0.4");
  try {
    await camera.boot();
    await nvr.connect(fixture.service.wake!.register, UID);
    await camera.waitForWakes(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await nvr.connect(fixture.service.wake!.register, UID);
    await camera.waitForWakes(2);

    const text = await runCli(["history", "--api", fixture.apiUrl]);
    assert.equal(text.code, 0, text.stderr);
    const out = text.stdout;
    assert.match(out, /^garden \(95270000HISTCLI10001\), since /);
    assert.match(out, /offline: never/);
    assert.match(out, /motion: 0/);
    assert.match(out, /wakes: 2\n/);
    assert.match(out, /REQUESTER\s+KIND\s+WAKES\s+REFUSED\s+ANSWERED\n\s+nvr\s+cli\s+2\s+0\s+\d/);
    assert.match(
      out,
      /warning: nvr woke garden 2 times in 24 h: lower that client's polling, or set max_wakes_per_hour/,
    );

    const json = await runCli([
      "history",
      "garden",
      "--since",
      "7d",
      "--json",
      "--api",
      fixture.apiUrl,
    ]);
    assert.equal(json.code, 0, json.stderr);
    const document = JSON.parse(json.stdout) as HistoryDocument;
    assert.equal(document.uid, UID);
    assert.deepEqual(document.requesters.map((r) => [r.requester, r.kind, r.wakes]), [
      ["nvr", "cli", 2],
    ]);

    const unknown = await runCli(["history", "porch", "--api", fixture.apiUrl]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /404: no camera porch/);
    const bad = await runCli([
      "history",
      "garden",
      "--since",
      "last week",
      "--api",
      fixture.apiUrl,
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /24h or 7d/);
  } finally {
    await nvr.close();
    await camera.close();
    await fixture.close();
  }
});

Deno.test("history: the text shows offline spans and escapes control characters from the network", () => {
  const now = Date.parse("2026-12-06T12:00:00Z");
  const document: HistoryDocument = {
    uid: "95270000EVIL\x1b[31m",
    name: null,
    since: "2026-12-05T12:00:00.000Z",
    now: "2026-12-06T12:00:00.000Z",
    retention_days: 7,
    cadence_ms: 12_000,
    events: [{ type: "offline", from: "2026-12-06T03:12:00.000Z", to: "2026-12-06T03:40:00.000Z" }],
    hours: [],
    requesters: [],
    drain: [{ requester: "10.0.0.1", wakes: 30, threshold: 24 }],
  };
  const text = renderHistory(document, now);
  assert.ok(!text.includes("\x1b"), text);
  assert.match(text, /^95270000EVIL\\x1b\[31m, since /);
  assert.match(text, /heartbeat: every 12s/);
  assert.match(text, /offline: once\n {4}(\d\d:\d\d)-(\d\d:\d\d) \(28m00s\)/);
  assert.match(text, /warning: 10\.0\.0\.1 woke 95270000EVIL\\x1b\[31m 30 times in 24 h/);
  assert.equal(terminalSafe("a\u009bb"), "a\\x9bb");
});
