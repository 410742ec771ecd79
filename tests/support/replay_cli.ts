/** Runs `pcap-replay CAPTURE --target` against a test wake server started for the run. */

import { type CliResult, runCli } from "./run_cli.ts";
import { startTestServer } from "./wake_server.ts";

/**
 * Starts a wake server with `server` options, replays `capture` against it with `--speed
 * speed` (plus `extra` arguments), and closes the server.
 */
export async function replayAgainstTestServer(
  capture: string,
  server: Parameters<typeof startTestServer>[0],
  speed: number,
  extra: string[] = [],
): Promise<CliResult> {
  const target = await startTestServer(server);
  try {
    return await runCli([
      "pcap-replay",
      capture,
      "--target",
      "127.0.0.1",
      "--target-middleman-port",
      String(target.middleman.port),
      "--target-register-port",
      String(target.register.port),
      "--speed",
      String(speed),
      ...extra,
    ], { timeoutMs: 60000 });
  } finally {
    await target.close();
  }
}
