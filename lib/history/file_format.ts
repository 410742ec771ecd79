/**
 * The checks the history file's readers share: what a valid time, count and record are, and
 * the error that names what is wrong (the file is then kept aside, never trusted in part).
 */

/** What is wrong with a history file, naming where. */
export class HistoryFormatError extends Error {}

/** A JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A count that fits the history's columns (a non-negative 32-bit integer). */
export function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value < 2 ** 32;
}

/** A time, ms since the epoch. */
export function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

/** An index below `length`. */
export function isIndex(value: unknown, length: number): value is number {
  return isCount(value) && value < length;
}
