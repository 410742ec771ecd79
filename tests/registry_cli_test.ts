/** `bairelay registry`: the table, --json, tokens, and an unreachable API. */

import assert from "node:assert/strict";
import { formatAge, renderTable } from "../cli/registry.ts";
import { CameraSim } from "./support/camera_sim.ts";
import { runCli } from "./support/run_cli.ts";
import { freeTcpPort } from "./support/serve_process.ts";
import { startServiceFixture } from "./support/service_fixture.ts";

Deno.test("registry: a table of registered cameras, and --json prints the API document", async () => {
  const fixture = await startServiceFixture({
    cameras: [{ name: "garden", uid: "95270000REGISTRY" }],
    wakeServer: { burstCount: 1, burstIntervalMs: 10 },
  });
  const named = await CameraSim.start({
    uid: "95270000REGISTRY0001",
    ip: "127.0.0.6",
    middleman: fixture.middleman,
  });
  const unnamed = await CameraSim.start({
    uid: "95270000OTHERCAM0002",
    ip: "127.0.0.7",
    middleman: fixture.middleman,
  });
  try {
    await named.boot();
    await unnamed.boot();
    assert.equal((await fixture.call("POST", "/api/cameras/garden/wake")).status, 202);
    await named.waitForWakes(1);

    const table = await runCli(["registry", "--api", fixture.apiUrl]);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 3, table.stdout);
    assert.match(lines[0], /^NAME\s+UID\s+ADDRESS\s+LAST HEARTBEAT\s+STATE\s+WAKES\s+LAST MOTION$/);
    const garden = lines.find((line) => line.startsWith("garden"))!;
    assert.match(
      garden,
      new RegExp(
        `^garden\\s+95270000REGISTRY0001\\s+127\\.0\\.0\\.6:${named.address.port}\\s+` +
          `\\d+(ms|s) ago\\s+fresh\\s+1\\s+-$`,
      ),
    );
    const other = lines.find((line) => line.startsWith("-"))!;
    assert.match(other, /^-\s+95270000OTHERCAM0002\s+127\.0\.0\.7:\d+\s+.* ago\s+fresh\s+0\s+-$/);

    const json = await runCli([
      "registry",
      "--api",
      fixture.apiUrl.replace("http://", ""),
      "--json",
    ]);
    assert.equal(json.code, 0, json.stderr);
    const document = JSON.parse(json.stdout);
    const fromApi = (await fixture.call("GET", "/api/cameras")).json;
    const withoutAge = (d: { cameras: Record<string, unknown>[] }) =>
      d.cameras.map(({ age_ms: _, ...rest }) => rest);
    assert.deepEqual(withoutAge(document), withoutAge(fromApi));
  } finally {
    await named.close();
    await unnamed.close();
    await fixture.close();
  }
});

Deno.test("registry: no cameras prints a hint, not an empty table", async () => {
  const fixture = await startServiceFixture();
  try {
    const result = await runCli(["registry", "--api", fixture.apiUrl]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^no cameras registered/);
  } finally {
    await fixture.close();
  }
});

Deno.test("registry: --token or BAIRELAY_API_TOKEN for an API with a token; refused = exit 2", async () => {
  const fixture = await startServiceFixture({ token: "registry-token" });
  try {
    const refused = await runCli(["registry", "--api", fixture.apiUrl]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /answered 401.*--token or set BAIRELAY_API_TOKEN/);
    const flag = await runCli(["registry", "--api", fixture.apiUrl, "--token", "registry-token"]);
    assert.equal(flag.code, 0, flag.stderr);
    const env = await runCli(["registry", "--api", fixture.apiUrl, "--json"], {
      env: { BAIRELAY_API_TOKEN: "registry-token" },
    });
    assert.equal(env.code, 0, env.stderr);
    assert.deepEqual(JSON.parse(env.stdout), { cameras: [] });
  } finally {
    await fixture.close();
  }
});

Deno.test("registry: --config takes the API address and token from serve's config file", async () => {
  const fixture = await startServiceFixture({ token: "from-config" });
  const path = await Deno.makeTempFile({ suffix: ".toml" });
  try {
    const port = new URL(fixture.apiUrl).port;
    await Deno.writeTextFile(path, `[api]\nlisten = "127.0.0.1:${port}"\ntoken = "from-config"\n`);
    const ok = await runCli(["registry", "--config", path, "--json"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { cameras: [] });

    await Deno.writeTextFile(path, `[api]\nlisten = "off"\n`);
    const off = await runCli(["registry", "--config", path]);
    assert.equal(off.code, 3);
    assert.match(off.stderr, /control API is off in .*listen = "off"/);

    await Deno.writeTextFile(path, `[api]\nlisten = "nowhere"\n`);
    const bad = await runCli(["registry", "--config", path]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /api\.listen: must be "host:port"/);
  } finally {
    await Deno.remove(path);
    await fixture.close();
  }
});

Deno.test("registry: an unreachable API is a clear message and exit 3", async () => {
  const port = freeTcpPort("127.0.0.1");
  const result = await runCli(["registry", "--api", `http://127.0.0.1:${port}`]);
  assert.equal(result.code, 3);
  assert.equal(result.stdout, "");
  assert.match(
    result.stderr,
    new RegExp(`cannot reach the control API at http://127\\.0\\.0\\.1:${port} .*bairelay serve`),
  );
});

Deno.test("registry: bad --timeout is a usage error", async () => {
  const result = await runCli(["registry", "--timeout", "soon"]);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /option '--timeout <ms>' argument 'soon' is invalid\. Expected a whole number of milliseconds/,
  );
});

Deno.test("registry table helpers: ages and an IPv6 address", () => {
  assert.equal(formatAge(850), "850ms");
  assert.equal(formatAge(12_400), "12s");
  assert.equal(formatAge(185_000), "3m05s");
  assert.equal(formatAge(7_440_000), "2h04m");
  assert.equal(formatAge(266_400_000), "3d02h");
  const table = renderTable([{
    uid: "U",
    name: null,
    state: "stale",
    address: { ip: "::1", port: 5 },
    first_seen: "",
    last_heartbeat: "",
    age_ms: 61_000,
    fresh: false,
    wakes: 2,
    wakes_last_hour: null,
    wake_budget: null,
    last_wake: null,
    last_motion: "2026-01-01T00:00:00.000Z",
  }], Date.parse("2026-01-01T00:00:12.400Z"));
  assert.match(table.split("\n")[1], /^-\s+U\s+\[::1\]:5\s+1m01s ago\s+stale\s+2\s+12s ago$/);
});
