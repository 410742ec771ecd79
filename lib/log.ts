/**
 * Logging setup for `serve`: LogTape loggers under the "bairelay" category, written to stderr as
 * human-readable lines or JSON lines, from a minimum level.
 */

import {
  configureSync,
  getJsonLinesFormatter,
  getTextFormatter,
  type LogRecord,
  resetSync,
  type Sink,
} from "@logtape/logtape";
import type { LogFormat, LogLevel } from "./config.ts";

/** How to log: the least severe level written, the line format, and where lines go. */
export interface LoggingOptions {
  level: LogLevel;
  format: LogFormat;
  /** Receives each formatted line (with its newline); default: a synchronous stderr write. */
  write?: (line: string) => void;
}

const encoder = new TextEncoder();

/** Writes to stderr synchronously, so nothing is lost when the process exits right after. */
function writeStderr(line: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(line));
  } catch { /* stderr closed: nothing sensible left to do with a log line */ }
}

/**
 * Configures LogTape for the "bairelay" loggers (replacing any earlier configuration).
 * `pretty`: "2026-01-02 03:04:05.678 +00:00 [INF] bairelay·wake: message"; `json`: one object
 * per line with @timestamp, level, logger, message and the record's properties.
 */
export function configureLogging(options: LoggingOptions): void {
  const write = options.write ?? writeStderr;
  const formatter = options.format === "json"
    ? getJsonLinesFormatter({ categorySeparator: ".", message: "rendered" })
    : getTextFormatter({ timestamp: "date-time-tz", category: ".", value: "bare" });
  const sink: Sink = (record: LogRecord) => write(formatter(record));
  configureSync({
    reset: true,
    sinks: { stderr: sink },
    loggers: [
      { category: ["bairelay"], sinks: ["stderr"], lowestLevel: options.level },
      { category: ["logtape", "meta"], sinks: ["stderr"], lowestLevel: "warning" },
    ],
  });
}

/** Removes the logging configuration (loggers become silent again); for tests. */
export function resetLogging(): void {
  resetSync();
}
