/**
 * The bookkeeping of a fixed-size ring kept in typed-array columns: which slot holds the
 * i-th oldest entry, where the next one goes (over the oldest when full), and dropping entries
 * while keeping the order of the rest. The columns themselves belong to the ring's owner, so
 * a ring of events costs a few arrays, not one object per event.
 */

/** Slot positions of a bounded ring; see the module docs. */
export class RingSlots {
  private start = 0;
  /** Entries held. */
  length = 0;

  constructor(readonly capacity: number) {}

  /** The slot of the i-th oldest entry (0 = oldest). */
  slot(i: number): number {
    return (this.start + i) % this.capacity;
  }

  /** The slot for a new entry: a free one, or the oldest one's when full (it is dropped). */
  push(): number {
    if (this.length < this.capacity) return this.slot(this.length++);
    const slot = this.start;
    this.start = (this.start + 1) % this.capacity;
    return slot;
  }

  /**
   * Keeps the entries `keep` accepts, in order; `move(from, to)` copies an entry's columns
   * to an earlier slot (the kept ones close ranks from the oldest end).
   */
  retain(keep: (slot: number) => boolean, move: (from: number, to: number) => void): void {
    let kept = 0;
    for (let i = 0; i < this.length; i++) {
      const from = this.slot(i);
      if (!keep(from)) continue;
      const to = this.slot(kept++);
      if (to !== from) move(from, to);
    }
    this.length = kept;
  }
}
