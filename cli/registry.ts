/** `bairelay registry`: the cameras registered with a running `serve`, from its control API. */

import { Command } from "commander";
import { fetchCameras } from "../lib/api/client.ts";
import type { CameraDocument } from "../lib/api/routes.ts";
import { addApiOptions, apiExit, apiTarget, loadConfigFile } from "./api_target.ts";
import { CliExit, EXIT } from "./exit_codes.ts";

interface RegistryOptions {
  api?: string;
  config?: string;
  json?: boolean;
  token?: string;
  timeout: number;
}

/** The `registry` subcommand. */
export function registryCommand(): Command {
  return addApiOptions(
    new Command("registry")
      .summary("List the cameras a running serve knows")
      .description(
        "List the cameras registered with `bairelay serve` (and those named in its [[cameras]] " +
          "that never registered), through its control API.",
      ),
    "Print the API's JSON document instead of a table",
  )
    .addHelpText(
      "after",
      `
Columns:
  NAME            the configured name, or -
  UID             the camera's UID
  ADDRESS         where its heartbeats come from
  LAST HEARTBEAT  how long ago the last one came
  STATE           fresh; stale (no heartbeat within stale_after_ms); never seen
                  (named in [[cameras]] but never registered: bairelay doctor
                  says why)
  WAKES           wake bursts started for it
  LAST MOTION     how long ago the camera last reported motion, or -

Exit codes:
  0  listed
  1  the API answered with an error
  2  bad flags, a bad config file, or the token was refused
  3  the API is unreachable, or off in the config file
  4  no answer in time

Examples:
  bairelay registry
  bairelay registry --config /etc/bairelay/config.toml
  bairelay registry --api 192.168.1.10:9899 --token "$TOKEN" --json | jq .`,
    )
    .action(async (options: RegistryOptions) => {
      const timeoutMs = options.timeout;
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
