/** `[history]` and `[[clients]]` in the config file: defaults, bounds, unique names and addresses. */

import { strict as assert } from "node:assert";
import { ConfigError, loadConfig } from "../lib/config.ts";
import { HOUR_MS } from "../lib/history/hours.ts";
import { historyOptions } from "../lib/history/config.ts";

const ENV = { uid: 1000, vars: { HOME: "/home/test" } };

function problems(text: string): string[] {
  try {
    loadConfig({ path: "test.toml", text, env: ENV });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.key}: ${p.rule}`);
    throw error;
  }
  return [];
}

Deno.test("[history] defaults: a week, a battery camera's drain threshold", () => {
  const config = loadConfig({ env: ENV });
  assert.deepEqual(config.clients, []);
  const options = historyOptions(config.history, 1024);
  assert.equal(options.retentionMs, 7 * 24 * HOUR_MS);
  assert.equal(options.drainWakesPerDay, 24);
  assert.equal(options.maxCameras, 1024);
});

Deno.test("[[clients]] names requesters; names and addresses are unique IP addresses", () => {
  const config = loadConfig({
    path: "test.toml",
    text: `
[history]
drain_wakes_per_day = 48
[[clients]]
name = "home-assistant"
address = "192.168.1.5"
[[clients]]
name = "nvr"
address = "::ffff:192.168.1.6"
`,
    env: ENV,
  });
  assert.equal(config.history.drainWakesPerDay, 48);
  assert.deepEqual(config.clients, [
    { name: "home-assistant", address: "192.168.1.5" },
    { name: "nvr", address: "192.168.1.6" },
  ]);
  assert.deepEqual(
    problems(`
[history]
retention_days = 0
[[clients]]
name = "a"
address = "192.168.1.5"
[[clients]]
name = "a"
address = "192.168.1.5"
[[clients]]
name = "<script>"
address = "host.lan"
[[clients]]
address = "10.0.0.1"
`),
    [
      "history.retention_days: must be an integer from 1 to 90 (got 0)",
      'clients[1].name: must be unique; clients[0] is also "a"',
      "clients[1].address: must be unique; clients[0] has it too",
      "clients[2].name: must be 1-64 letters, digits, spaces, '_', '.' or '-', starting with a " +
      'letter or digit (got "<script>")',
      'clients[2].address: must be an IP address such as 192.168.1.5 (got "host.lan")',
      "clients[3].name: is required (the name shown for this client)",
    ],
  );
});
