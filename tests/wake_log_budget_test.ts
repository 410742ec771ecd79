/**
 * A burst of registrations (a server restarting beside many cameras) or of evictions writes
 * at most LOG_LINES_PER_SECOND lines a second, and one line with the count of the rest.
 */

import assert from "node:assert/strict";
import { reset } from "@logtape/logtape";
import { encodeDiscovery, message } from "../lib/bcudp/mod.ts";
import { LineBudget, LOG_LINES_PER_SECOND } from "../lib/wake/line_budget.ts";
import { captureWakeLogs, renderRecord } from "./support/log_records.ts";
import { FakeClock, startTestServer } from "./support/wake_server.ts";

Deno.test("line budget: so many lines a second, the rest counted until asked", () => {
  const budget = new LineBudget(3);
  const second = 1_700_000_000_000;
  assert.deepEqual([0, 1, 2, 3, 999].map((ms) => budget.take(second + ms)), [
    true,
    true,
    true,
    false,
    false,
  ]);
  assert.equal(budget.takeCounted(), 2);
  assert.equal(budget.takeCounted(), 0, "asking starts the count again");
  assert.equal(budget.take(second + 1000), true, "a new second, a new allowance");
  assert.equal(LOG_LINES_PER_SECOND > 0, true);
});

Deno.test("a burst of registrations and evictions is logged up to the cap, then counted", async () => {
  const records = await captureWakeLogs();
  const clock = new FakeClock();
  const server = await startTestServer({ staleAfterMs: 60_000 }, { now: clock.now });
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const to = { transport: "udp" as const, hostname: "127.0.0.1", port: server.register.port };
  const cameras = LOG_LINES_PER_SECOND + 12;
  const lines = (pattern: RegExp) => records.map(renderRecord).filter((line) => pattern.test(line));
  const until = async (done: () => boolean, what: string) => {
    for (let waited = 0; !done(); waited += 20) {
      if (waited > 5000) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    for (let i = 0; i < cameras; i++) {
      const uid = `95270000BURST${String(i).padStart(3, "0")}0123`;
      await socket.send(encodeDiscovery(message("D2R_HB", { uid, needrsp: 1, token: 1n }), i), to);
      await socket.receive(); // answered: registered
    }
    assert.equal(server.registry.size, cameras);
    assert.equal(lines(/registered from/).length, LOG_LINES_PER_SECOND);
    // The sweep (every second) writes the count of the others (in two lines if it ran in the
    // middle of the burst).
    const counted = (pattern: RegExp) =>
      lines(pattern).reduce((sum, line) => sum + Number(line.split(" ")[0]), 0);
    await until(() => counted(/more cameras registered/) === 12, "the count line");
    assert.match(
      lines(/more cameras registered/)[0],
      new RegExp(
        `^\\d+ more cameras registered than logged one by one \\(at most ` +
          `${LOG_LINES_PER_SECOND} lines a second; \`bairelay registry\` lists the cameras\\)$`,
      ),
    );

    clock.advance(61_000); // every camera is stale: the next sweep evicts them all at once
    await until(() => counted(/more cameras deregistered/) === 12, "the eviction count line");
    assert.equal(server.registry.size, 0);
    assert.equal(lines(/ deregistered: no heartbeat/).length, LOG_LINES_PER_SECOND);
  } finally {
    socket.close();
    await server.close();
    await reset();
  }
});
