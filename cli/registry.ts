/** `bairelay registry`: the cameras registered with a running `serve`, from its control API. */

import { Command } from "commander";
import { fetchCameras } from "../lib/api/client.ts";
import type { CameraDocument } from "../lib/api/routes.ts";
import { apiExit, apiTarget, loadConfigFile, readTimeout, withApiOptions } from "./api_target.ts";
import { CliExit, EXIT } from "./exit_codes.ts";

interface RegistryOptions {
  api?: string;
  config?: string;
  json?: boolean;
  token?: string;
  /** A string when given, the default number otherwise (shown as a number in --help). */
  timeout: string | number;
}

/** The `registry` subcommand. */
export function registryCommand(): Command {
  return withApiOptions(
    new Command("registry")
      .description("list the cameras registered with `bairelay serve` (through its control API)")
      .option("--json", "print the API's JSON document instead of a table"),
  )
    .addHelpText(
      "after",
      "\nColumns: NAME (configured name or -), UID, ADDRESS (where its heartbeats come from),\n" +
        "LAST HEARTBEAT (age), STATE (fresh; stale: no heartbeat within stale_after_ms; never seen:\n" +
        "configured in [[cameras]] but never registered: run `bairelay doctor`), WAKES.\n\n" +
        "Exit codes: 0 ok, 2 bad flags or token refused, 3 API unreachable, 4 no answer in time.\n\n" +
        "Examples:\n" +
        "  bairelay registry\n" +
        "  bairelay registry --config /etc/bairelay/config.toml\n" +
        '  bairelay registry --api 192.168.1.10:9899 --token "$TOKEN" --json | jq .',
    )
    .action(async (options: RegistryOptions) => {
      const timeoutMs = readTimeout(options.timeout);
      const target = apiTarget(options, options.config ? loadConfigFile(options.config) : null);
      if (target.url === null) throw new CliExit(EXIT.UNAVAILABLE, target.offReason ?? "");
      const { url, token } = target;
      let document;
      try {
        document = await fetchCameras({ url, token, timeoutMs });
      } catch (error) {
        throw apiExit(error);
      }
      console.log(
        options.json ? JSON.stringify(document, null, 2) : renderTable(document.cameras),
      );
    });
}

/**
 * The camera table, one row per camera, columns padded to their widest cell. `now` dates the
 * last motion ("-" when never seen).
 */
export function renderTable(cameras: readonly CameraDocument[], now = Date.now()): string {
  if (cameras.length === 0) {
    return "no cameras registered or configured (a camera registers once its DNS sends " +
      "p2p*.reolink.com here; name it in [[cameras]] to see it listed before then)";
  }
  const rows = [
    ["NAME", "UID", "ADDRESS", "LAST HEARTBEAT", "STATE", "WAKES", "LAST MOTION"],
    ...cameras.map((camera) => [
      camera.name ?? "-",
      camera.uid,
      camera.address === null
        ? "-"
        : camera.address.ip.includes(":")
        ? `[${camera.address.ip}]:${camera.address.port}`
        : `${camera.address.ip}:${camera.address.port}`,
      camera.age_ms === null ? "never" : `${formatAge(camera.age_ms)} ago`,
      camera.state.replace("_", " "),
      String(camera.wakes),
      camera.last_motion === null
        ? "-"
        : `${formatAge(Math.max(0, now - Date.parse(camera.last_motion)))} ago`,
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd())
    .join("\n");
}

/** "850ms", "12s", "3m05s", "2h04m", "3d02h". */
export function formatAge(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}
