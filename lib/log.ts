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
import type { ConfigReader, Table } from "./config/reader.ts";
import type { SectionSpec } from "./config/spec.ts";

/** Log severities accepted by `--log-level` / `[log] level` (LogTape's names; "warn" is an alias). */
export const LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "fatal"] as const;
/** A LogTape log level. */
export type LogLevel = typeof LOG_LEVELS[number];

/** `[log]` in the config file. */
export const LOG_SPEC = {
  level: {
    type: "string",
    default: "info",
    oneOf: [...LOG_LEVELS, "warn"],
    help: "least severe level logged",
  },
  format: { type: "string", default: "pretty", oneOf: ["pretty", "json"], help: "log line format" },
} as const satisfies SectionSpec;

/** How log lines are written on stderr. */
export type LogFormat = typeof LOG_SPEC.format.oneOf[number];

/** `[log]`, with "warn" read as "warning". */
export function readLog(reader: ConfigReader, log: Table): { level: LogLevel; format: LogFormat } {
  const { level, format } = reader.values(log, LOG_SPEC, "log");
  return { level: level === "warn" ? "warning" : level, format };
}

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
 * per line with @timestamp, level, logger, message (values bare, as in `pretty`) and the
 * record's values as `properties`.
 */
export function configureLogging(options: LoggingOptions): void {
  const write = options.write ?? writeStderr;
  const formatter = options.format === "json"
    ? jsonLinesFormatter()
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

/**
 * LogTape's JSON lines with the message rendered as the text format renders it (values bare:
 * `Camera ABC registered`, not `Camera "ABC" registered`); the values stay in `properties`.
 */
function jsonLinesFormatter(): (record: LogRecord) => string {
  const json = getJsonLinesFormatter({ categorySeparator: ".", message: "rendered" });
  return (record) => json({ ...record, message: [renderBare(record.message)] });
}

/** A LogTape message (text, value, text, ...) with each value written bare. */
function renderBare(message: readonly unknown[]): string {
  let text = "";
  for (let i = 0; i < message.length; i++) {
    const part = message[i];
    text += i % 2 === 0 ? String(part) : bareValue(part);
  }
  return text;
}

function bareValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.message;
  if (typeof value === "bigint" || typeof value !== "object" || value === null) {
    return String(value);
  }
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Removes the logging configuration (loggers become silent again); for tests. */
export function resetLogging(): void {
  resetSync();
}
