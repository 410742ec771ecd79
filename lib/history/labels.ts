/**
 * Requester labels, interned once for the whole store: the hourly counts and the wake events
 * keep a small index instead of a string (a week of a busy site repeats the same few labels in
 * every camera and hour). The table is bounded, so a flood of addresses cannot grow it; past
 * the bound a new label is counted as `OTHERS`. Labels no longer referenced are dropped when
 * the store prunes (see `compact`).
 */

import { OTHERS } from "./hours.ts";

/** The most distinct requester labels held at once (an index fits in a Uint16Array). */
export const MAX_REQUESTER_LABELS = 16_384;
/** The index of `OTHERS`, always present. */
export const OTHERS_INDEX = 0;

/** The store-wide table of requester labels; see the module docs. */
export class LabelTable {
  private labels: string[] = [OTHERS];
  private indexes = new Map<string, number>([[OTHERS, OTHERS_INDEX]]);

  constructor(private readonly max = MAX_REQUESTER_LABELS) {}

  /** The index of `label`, added when missing; `OTHERS_INDEX` once the table is full. */
  index(label: string): number {
    const known = this.indexes.get(label);
    if (known !== undefined) return known;
    if (this.labels.length >= this.max) return OTHERS_INDEX;
    this.labels.push(label);
    this.indexes.set(label, this.labels.length - 1);
    return this.labels.length - 1;
  }

  /** The label at `index`. */
  label(index: number): string {
    return this.labels[index];
  }

  /** Every label, by index (for the history file). */
  all(): readonly string[] {
    return this.labels;
  }

  /** Labels held. */
  get size(): number {
    return this.labels.length;
  }

  /**
   * Drops the labels `used` does not hold (`OTHERS` stays) and returns each old index's new
   * one, for the holders of indexes to renumber theirs.
   */
  compact(used: ReadonlySet<number>): Uint16Array {
    const renumber = new Uint16Array(this.labels.length);
    const labels = [OTHERS];
    this.labels.forEach((label, index) => {
      if (index === OTHERS_INDEX || !used.has(index)) return;
      renumber[index] = labels.length;
      labels.push(label);
    });
    this.labels = labels;
    this.indexes = new Map(labels.map((label, index) => [label, index]));
    return renumber;
  }
}
