/**
 * The wake server's logger, the way its lines name a camera, and the rate limit on warnings
 * that can repeat for every packet (caps, budget).
 */

import { getLogger } from "@logtape/logtape";

/** The logger of every wake server role. */
export const logger = getLogger(["bairelay", "wake"]);

/** Repeated warnings (caps, budget) are logged at most once per key per this many ms. */
export const WARN_INTERVAL_MS = 10_000;
/** Most warning keys remembered; the oldest is forgotten beyond this. */
const MAX_WARN_KEYS = 256;

/**
 * The log template naming a camera, `{uid}` or `{uid} ({name})`: the name stays a property of
 * its own (JSON logs), never text such as " (garden)" in a property.
 */
export function uidAndName(name: string | undefined): string {
  return name === undefined ? "{uid}" : "{uid} ({name})";
}

/** Warnings written at most once per key per WARN_INTERVAL_MS of the given clock. */
export class RateLimitedWarnings {
  private readonly warned = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  /** Logs `text` unless a warning with `key` was logged less than WARN_INTERVAL_MS ago. */
  warn(key: string, text: string, properties: Record<string, unknown>): void {
    const at = this.now();
    const last = this.warned.get(key);
    if (last !== undefined && at - last < WARN_INTERVAL_MS) return;
    this.warned.delete(key);
    this.warned.set(key, at);
    if (this.warned.size > MAX_WARN_KEYS) this.warned.delete(this.warned.keys().next().value!);
    logger.warn(text, properties);
  }
}
