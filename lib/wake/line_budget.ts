/**
 * A cap on log lines of one kind per second. A server restarting beside hundreds of cameras
 * would otherwise write a line per camera within seconds; each line costs the logger several
 * kilobytes, some of which outlive V8's young collections (measured: ~1.5 MB of resident
 * memory for 1,024 registrations, see BENCHMARKS.md). Lines over the cap are counted instead,
 * and the owner writes the count as one line.
 */

/** Lines of one kind written per second at most before the rest are only counted. */
export const LOG_LINES_PER_SECOND = 20;

/** Counts lines of one kind in one-second windows of the clock given to `take`. */
export class LineBudget {
  #second = Number.NaN;
  #written = 0;
  #counted = 0;

  constructor(readonly perSecond = LOG_LINES_PER_SECOND) {}

  /** True when a line at `at` (ms since the epoch) may be written; otherwise it is counted. */
  take(at: number): boolean {
    const second = Math.floor(at / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#written = 0;
    }
    if (this.#written < this.perSecond) {
      this.#written++;
      return true;
    }
    this.#counted++;
    return false;
  }

  /** How many lines were counted instead of written since the last call (and starts again). */
  takeCounted(): number {
    const counted = this.#counted;
    this.#counted = 0;
    return counted;
  }
}
