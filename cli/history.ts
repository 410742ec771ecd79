/**
 * `bairelay history`: who woke each camera and when it was offline, from a running `serve`'s
 * control API: per camera its wakes by requester, motion, offline spans, heartbeat cadence
 * and the drain warning.
 */

import { Command, Option } from "commander";
import { fetchCameras, fetchHistory } from "../lib/api/client.ts";
import type { HistoryDocument } from "../lib/api/history_route.ts";
import { addApiOptions, apiExit, apiTarget, loadConfigFile } from "./api_target.ts";
import { drainAdvice } from "../lib/history/store.ts";
import { CliExit, EXIT } from "./exit_codes.ts";
import { formatAge } from "./registry.ts";

interface HistoryOptions {
  since: string;
  api?: string;
  config?: string;
  json?: boolean;
  token?: string;
  timeout: number;
}

/** Most offline spans listed per camera (the count says how many there were). */
const MAX_SPANS_SHOWN = 10;

/** The `history` subcommand. */
export function historyCommand(): Command {
  return addApiOptions(
    new Command("history")
      .summary("Who woke each camera, its motion and gaps")
      .description(
        "Per camera: its wakes by requester, motion, offline spans, heartbeat cadence and the " +
          "drain warning, from `bairelay serve`'s history, through its control API.",
      )
      .argument("[camera]", "Configured name or UID (default: every camera)")
      .addOption(
        new Option("--since <when>", "A duration back from now (90m, 24h, 7d) or an ISO time")
          .default("24h", "24h"),
      ),
    "Print the API's JSON documents instead of text",
  )
    .addHelpText(
      "after",
      `
Exit codes:
  0  shown
  1  the API answered with an error (an unknown camera)
  2  bad flags, a bad --since, a bad config file, or the token was refused
  3  the API is unreachable, or off in the config file
  4  no answer in time

Examples:
  bairelay history
  bairelay history garden --since 7d
  bairelay history --config /etc/bairelay/config.toml --json | jq .`,
    )
    .action(async (camera: string | undefined, options: HistoryOptions) => {
      const timeoutMs = options.timeout;
      const target = apiTarget(options, options.config ? loadConfigFile(options.config) : null);
      if (target.url === null) throw new CliExit(EXIT.UNAVAILABLE, target.offReason ?? "");
      const client = { url: target.url, token: target.token, timeoutMs };
      let documents: HistoryDocument[];
      try {
        const cameras = camera === undefined
          ? (await fetchCameras(client)).cameras.map((c) => c.uid)
          : [camera];
        documents = [];
        for (const one of cameras) documents.push(await fetchHistory(client, one, options.since));
      } catch (error) {
        throw apiExit(error);
      }
      if (options.json) {
        console.log(JSON.stringify(camera === undefined ? documents : documents[0], null, 2));
      } else if (documents.length === 0) {
        console.log("no cameras registered or configured yet");
      } else {
        console.log(documents.map((document) => renderHistory(document)).join("\n\n"));
      }
    });
}

/** Network text (UIDs, requester labels) made safe for a terminal: control characters escaped. */
export function terminalSafe(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
}

/** A time as the terminal shows it: local "HH:MM", with the date when not today. */
function clock(iso: string, now: number): string {
  const at = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  return at.toDateString() === new Date(now).toDateString()
    ? time
    : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`;
}

/** One camera's history as text: cadence, offline spans, motion, wakes by requester, drain. */
export function renderHistory(document: HistoryDocument, now = Date.now()): string {
  const name = document.name ?? document.uid;
  const lines = [
    `${terminalSafe(name)}${document.name ? ` (${terminalSafe(document.uid)})` : ""}, since ` +
    clock(document.since, now),
  ];
  lines.push(
    `  heartbeat: ${
      document.cadence_ms === null
        ? "cadence not known yet"
        : `every ${formatAge(document.cadence_ms)}`
    }`,
  );
  const spans = document.events.filter((event) => event.type === "offline");
  lines.push(
    `  offline: ${
      spans.length === 0 ? "never" : spans.length === 1 ? "once" : `${spans.length} times`
    }`,
  );
  for (const span of spans.slice(-MAX_SPANS_SHOWN)) {
    const ms = Date.parse(span.to) - Date.parse(span.from);
    lines.push(`    ${clock(span.from, now)}-${clock(span.to, now)} (${formatAge(ms)})`);
  }
  const motion = document.hours.reduce((sum, bucket) => sum + bucket.motion, 0);
  lines.push(`  motion: ${motion}`);
  const wakes = document.hours.reduce((sum, bucket) => sum + bucket.wakes, 0);
  const refused = document.hours.reduce((sum, bucket) => sum + bucket.refused, 0);
  lines.push(`  wakes: ${wakes}${refused > 0 ? ` (and ${refused} refused by the budget)` : ""}`);
  if (document.requesters.length > 0) {
    const rows = [
      ["REQUESTER", "KIND", "WAKES", "REFUSED", "ANSWERED"],
      ...document.requesters.map((r) => [
        terminalSafe(r.requester),
        r.kind,
        String(r.wakes),
        String(r.refused),
        String(r.acknowledged),
      ]),
    ];
    const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
    for (const row of rows) {
      lines.push(`    ${row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd()}`);
    }
  }
  for (const drain of document.drain) {
    const shown = { requester: terminalSafe(drain.requester), wakes: drain.wakes };
    lines.push(`  warning: ${drainAdvice(shown, terminalSafe(name))}`);
  }
  return lines.join("\n");
}
