/** Capturing the wake server's log lines in-process, for tests that check what is logged. */

import { configure, type LogRecord } from "@logtape/logtape";

/**
 * Sends the records of `category` (default "bairelay.wake") of level info and above into the
 * returned array (until LogTape's `reset()`, which the test must call when done).
 */
export async function captureWakeLogs(category = ["bairelay", "wake"]): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  await configure({
    sinks: { capture: (record) => records.push(record) },
    loggers: [
      { category, lowestLevel: "info", sinks: ["capture"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
    reset: true,
  });
  return records;
}

/** A record's message as one line of text (values as `String` gives them). */
export function renderRecord(record: LogRecord): string {
  return record.message.map((part) => typeof part === "string" ? part : String(part)).join("");
}
