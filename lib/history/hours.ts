/**
 * Hourly counts per camera: a week of wakes, refusals, motion and heartbeats kept in a fixed
 * ring of typed-array columns (one slot per hour of the retention), whatever happened in it.
 * Wakes are also counted per requester, as (label index, count) pairs into the store's label
 * table, with a bounded number of requesters per hour (the rest are summed as `OTHERS`), so a
 * flood from random addresses cannot grow a camera's counts.
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

/** The counted columns besides the per-requester wakes. */
export type HourColumn = "wakes" | "refused" | "motion" | "heartbeats";
const COLUMNS: readonly HourColumn[] = ["wakes", "refused", "motion", "heartbeats"];

/**
 * One hour as the history file holds it: [hour number (ms / HOUR_MS), wakes, refused, motion,
 * heartbeats, then (label index, count) pairs].
 */
export type HourRow = number[];

/** A slot holding no hour. */
const EMPTY = -(2 ** 31);
/**
 * The requester columns of every ring until its first wake: shared (nothing is written to a
 * column of no places), so a camera that is never woken pays for none.
 */
const NO_PAIR_LABELS = new Uint16Array(0);
const NO_PAIR_COUNTS = new Uint32Array(0);
const NO_PAIRS = new Uint16Array(0);

/** One camera's hourly counts; see the module docs. */
export class HourRing {
  /** The hour number (ms / HOUR_MS) each slot holds, or EMPTY. */
  private readonly hourNumber: Int32Array;
  /**
   * The counts by column, each made at its first count: a camera that only heartbeats pays
   * for one column.
   */
  private readonly counts: Partial<Record<HourColumn, Uint32Array>> = {};
  /** Requester pairs per slot: `width` places each, `pairs[slot]` of them used. */
  private pairLabels = NO_PAIR_LABELS;
  private pairCounts = NO_PAIR_COUNTS;
  private pairs = NO_PAIRS;
  private width = 0;

  /** `retentionMs`: the hours kept; `maxRequesters`: labels counted by name per hour. */
  constructor(private readonly retentionMs: number, private readonly maxRequesters: number) {
    // One more than the retention: the oldest hour is kept while any of it is in the retention.
    const slots = Math.ceil(retentionMs / HOUR_MS) + 1;
    this.hourNumber = new Int32Array(slots).fill(EMPTY);
  }

  /** The column `name`, made when missing. */
  private column(name: HourColumn): Uint32Array {
    return this.counts[name] ??= new Uint32Array(this.hourNumber.length);
  }

  /** The count of `name` in `slot`. */
  private countOf(name: HourColumn, slot: number): number {
    return this.counts[name]?.[slot] ?? 0;
  }

  /** Requesters counted in `slot`. */
  private pairsIn(slot: number): number {
    return this.pairs[slot] ?? 0;
  }

  /**
   * The slot for the hour of `at`, emptied for it when it held an older hour (what is older
   * than the retention before `at` is dropped first); -1 when a newer hour holds it (then `at`
   * is older than the retention anyway).
   */
  private slotFor(at: number): number {
    const number = Math.floor(at / HOUR_MS);
    const slots = this.hourNumber.length;
    const slot = ((number % slots) + slots) % slots;
    const held = this.hourNumber[slot];
    if (held === number) return slot;
    if (held > number) return -1;
    this.prune(at);
    this.clear(slot);
    this.hourNumber[slot] = number;
    return slot;
  }

  private clear(slot: number): void {
    this.hourNumber[slot] = EMPTY;
    for (const column of Object.values(this.counts)) column[slot] = 0;
    if (this.pairs.length > 0) this.pairs[slot] = 0;
  }

  /** Counts one of `column` (not wakes: see `countWake`) in the hour of `at`. */
  count(at: number, column: Exclude<HourColumn, "wakes">): void {
    const slot = this.slotFor(at);
    if (slot >= 0) this.column(column)[slot]++;
  }

  /**
   * Counts one started wake of the label `label` (an index into the label table) in the hour
   * of `at`; past `maxRequesters` labels in the hour it counts under `othersIndex`.
   */
  countWake(at: number, label: number, othersIndex: number): void {
    const slot = this.slotFor(at);
    if (slot < 0) return;
    this.column("wakes")[slot]++;
    const used = this.pairsIn(slot);
    const key = this.find(slot, label) >= 0 || used < this.maxRequesters ? label : othersIndex;
    const found = this.find(slot, key);
    if (found >= 0) {
      this.pairCounts[found]++;
      return;
    }
    if (used >= this.width) this.widen();
    const place = slot * this.width + used;
    this.pairLabels[place] = key;
    this.pairCounts[place] = 1;
    this.pairs[slot] = used + 1;
  }

  /** The place of `label`'s pair in `slot`, or -1. */
  private find(slot: number, label: number): number {
    const base = slot * this.width;
    for (let i = 0; i < this.pairsIn(slot); i++) {
      if (this.pairLabels[base + i] === label) return base + i;
    }
    return -1;
  }

  /**
   * Doubles the places per hour (up to the bound plus `OTHERS`): a camera pays for the most
   * requesters it had in one hour, not for the bound.
   */
  private widen(): void {
    const width = Math.min(Math.max(2, this.width * 2), this.maxRequesters + 1);
    if (this.pairs.length === 0) this.pairs = new Uint16Array(this.hourNumber.length);
    const labels = new Uint16Array(this.hourNumber.length * width);
    const counts = new Uint32Array(this.hourNumber.length * width);
    for (let slot = 0; slot < this.hourNumber.length; slot++) {
      for (let i = 0; i < this.pairsIn(slot); i++) {
        labels[slot * width + i] = this.pairLabels[slot * this.width + i];
        counts[slot * width + i] = this.pairCounts[slot * this.width + i];
      }
    }
    [this.pairLabels, this.pairCounts, this.width] = [labels, counts, width];
  }

  /** The slots holding an hour from `fromHour` (ms) on, oldest first. */
  private slotsFrom(fromHour: number): number[] {
    const from = Math.floor(fromHour / HOUR_MS);
    const slots: number[] = [];
    this.hourNumber.forEach((number, slot) => {
      if (number !== EMPTY && number >= from) slots.push(slot);
    });
    return slots.sort((a, b) => this.hourNumber[a] - this.hourNumber[b]);
  }

  /** The sum of `column` over the hours from `fromHour` (ms) on. */
  sum(column: HourColumn, fromHour: number): number {
    let total = 0;
    for (const slot of this.slotsFrom(fromHour)) total += this.countOf(column, slot);
    return total;
  }

  /** Calls `each` with every (label index, started wakes) pair of the hours from `fromHour`. */
  forEachRequester(fromHour: number, each: (label: number, wakes: number) => void): void {
    for (const slot of this.slotsFrom(fromHour)) {
      const base = slot * this.width;
      for (let i = 0; i < this.pairsIn(slot); i++) {
        each(this.pairLabels[base + i], this.pairCounts[base + i]);
      }
    }
  }

  /** The hours from `fromHour` (ms) on as records, oldest first; `label` names an index. */
  list(fromHour: number, label: (index: number) => string): HourCounts[] {
    return this.slotsFrom(fromHour).map((slot) => {
      const byRequester: Record<string, number> = {};
      const base = slot * this.width;
      for (let i = 0; i < this.pairsIn(slot); i++) {
        byRequester[label(this.pairLabels[base + i])] = this.pairCounts[base + i];
      }
      return {
        hour: this.hourNumber[slot] * HOUR_MS,
        wakes: this.countOf("wakes", slot),
        refused: this.countOf("refused", slot),
        motion: this.countOf("motion", slot),
        heartbeats: this.countOf("heartbeats", slot),
        byRequester,
      };
    });
  }

  /** Drops the hours that ended at or before `now` minus the retention. */
  prune(now: number): void {
    const oldest = now - this.retentionMs;
    this.hourNumber.forEach((number, slot) => {
      if (number !== EMPTY && (number + 1) * HOUR_MS <= oldest) this.clear(slot);
    });
  }

  /** True when no hour is held. */
  isEmpty(): boolean {
    return this.hourNumber.every((number) => number === EMPTY);
  }

  /** Renumbers the label indexes after the label table was compacted. */
  renumber(renumber: Uint16Array): void {
    for (let slot = 0; slot < this.pairs.length; slot++) {
      for (let i = 0; i < this.pairsIn(slot); i++) {
        const place = slot * this.width + i;
        this.pairLabels[place] = renumber[this.pairLabels[place]];
      }
    }
  }

  /** Every hour held, oldest first, as the history file's rows. */
  rows(): HourRow[] {
    return this.slotsFrom(-Infinity).map((slot) => {
      const row = [this.hourNumber[slot], ...COLUMNS.map((column) => this.countOf(column, slot))];
      for (let i = 0; i < this.pairsIn(slot); i++) {
        row.push(this.pairLabels[slot * this.width + i], this.pairCounts[slot * this.width + i]);
      }
      return row;
    });
  }

  /**
   * Puts back one row of the history file (checked by the reader); an hour already held or
   * pushed out by a newer one is ignored.
   */
  restore(row: HourRow): void {
    const [number, ...rest] = row;
    const slot = this.slotFor(number * HOUR_MS);
    if (slot < 0 || COLUMNS.some((column) => this.countOf(column, slot) !== 0)) return;
    COLUMNS.forEach((column, i) => {
      if (rest[i] !== 0) this.column(column)[slot] = rest[i];
    });
    const pairs = rest.slice(COLUMNS.length);
    const used = Math.min(pairs.length / 2, this.maxRequesters + 1);
    while (used > this.width) this.widen();
    for (let i = 0; i < used; i++) {
      this.pairLabels[slot * this.width + i] = pairs[2 * i];
      this.pairCounts[slot * this.width + i] = pairs[2 * i + 1];
    }
    if (used > 0) this.pairs[slot] = used;
  }
}
