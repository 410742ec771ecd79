/**
 * The pace of writes to the state directory, shared by the state file and the history file:
 * a change is written within about a second, a routine one (a heartbeat) within 15 s, so an
 * SD card is not written every second.
 */

/** Minimum spacing of writes, in ms. */
export const WRITE_INTERVAL_MS = 1000;
/**
 * Spacing of writes caused only by routine changes (heartbeat refreshes), in ms: short enough
 * that a restart finds cameras fresh (stale_after_ms defaults to 80 s), long enough to spare
 * flash.
 */
export const RELAXED_WRITE_INTERVAL_MS = 15_000;

/**
 * Coalesces changes into few writes: an important change (a camera registered, moved,
 * woken or evicted) is written within `intervalMs` (about a second); a routine one (a
 * heartbeat that only refreshes the time) within `relaxedIntervalMs`, sparing SD cards a
 * write every second. `close()` writes what is pending and schedules nothing afterwards.
 */
export class ThrottledWriter {
  private dirty = false;
  private urgent = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private due = Infinity;
  private writing: Promise<void> | undefined;
  private lastWrite = -Infinity;
  private closed = false;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly onError: (error: Error) => void,
    private readonly intervalMs = WRITE_INTERVAL_MS,
    private readonly relaxedIntervalMs = RELAXED_WRITE_INTERVAL_MS,
  ) {}

  /** Notes a change; `urgent` ones are written within `intervalMs`, others later. */
  markDirty(urgent = true): void {
    // Every heartbeat lands here: when a routine change is already pending with its timer
    // set, there is nothing to do (and nothing to allocate).
    if (!urgent && this.dirty && this.timer !== undefined) return;
    this.dirty = true;
    this.urgent ||= urgent;
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || !this.dirty || this.writing !== undefined) return;
    const interval = this.urgent ? this.intervalMs : this.relaxedIntervalMs;
    // One reading of the clock: two could make the delay a tiny negative number, which Deno
    // reports as a TimeoutNegativeWarning on stderr (breaking --log-format json).
    const now = performance.now();
    const due = Math.max(now, this.lastWrite + interval);
    if (this.timer !== undefined) {
      if (this.due <= due) return;
      clearTimeout(this.timer);
    }
    this.due = due;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, due - now);
  }

  private async run(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    this.urgent = false;
    this.lastWrite = performance.now();
    this.writing = this.write().catch(this.onError);
    await this.writing;
    this.writing = undefined;
    this.schedule();
  }

  /** Cancels the timer, waits for a write in progress and writes what is pending. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.writing !== undefined) await this.writing;
    await this.run();
  }
}
