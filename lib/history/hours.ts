/**
 * Hourly counts per camera: a week of wakes, refusals, motion and heartbeats costs a few
 * hundred small records, whatever happened in it. Wakes are also counted per requester, with
 * a bounded number of requesters per hour (the rest are summed as `OTHERS`), so a flood from
 * random addresses cannot grow a bucket.
 */

/** One hour in ms. */
export const HOUR_MS = 3_600_000;
/** The label that stands for every requester past the per-hour bound. */
export const OTHERS = "(others)";

/** What happened to one camera in one hour. */
export interface HourCounts {
  /** The hour's start, ms since the epoch (a multiple of HOUR_MS). */
  hour: number;
  /** Wakes started (a burst sent). */
  wakes: number;
  /** Wakes refused by max_wakes_per_hour. */
  refused: number;
  motion: number;
  heartbeats: number;
  /** Wakes started, by requester label. */
  byRequester: Record<string, number>;
}

/** The start of the hour `at` falls in. */
export function hourOf(at: number): number {
  return Math.floor(at / HOUR_MS) * HOUR_MS;
}

/** A fresh bucket for the hour of `at`. */
export function emptyHour(at: number): HourCounts {
  return { hour: hourOf(at), wakes: 0, refused: 0, motion: 0, heartbeats: 0, byRequester: {} };
}

/** Counts one started wake of `label`, keeping at most `maxRequesters` labels in the bucket. */
export function countWake(bucket: HourCounts, label: string, maxRequesters: number): void {
  bucket.wakes++;
  const known = bucket.byRequester[label] !== undefined;
  const full = Object.keys(bucket.byRequester).length >= maxRequesters;
  const key = known || !full ? label : OTHERS;
  bucket.byRequester[key] = (bucket.byRequester[key] ?? 0) + 1;
}
