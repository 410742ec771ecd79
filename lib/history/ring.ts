/**
 * A bounded ring of events kept in columns (typed arrays, or a plain array for the few
 * strings): which slot holds the i-th oldest entry, where the next one goes (over the oldest
 * when full), and dropping entries while keeping the order of the rest. An empty ring shares one
 * set of empty columns; they are made at the first entry and double up to the bound, so a camera
 * that only heartbeats pays for none, and a full ring costs a few arrays, not one object per
 * event.
 */

/** One column of a ring. */
export type RingColumn = Float64Array | Uint32Array | Uint16Array | Uint8Array | unknown[];

/** Slots a ring gets at its first entry. */
const FIRST_CAPACITY = 4;

/**
 * A ring of at most `max` entries in the columns `make` allocates; `empty` is the columns of
 * no slots, shared by every ring of that kind until its first entry. See the module docs.
 */
export class ColumnRing<C extends Record<string, RingColumn>> {
  private start = 0;
  private capacity = 0;
  /** Entries held. */
  length = 0;
  /** The columns, indexed by slot (replaced when the ring grows: read them anew each time). */
  columns: C;

  constructor(readonly max: number, private readonly make: (capacity: number) => C, empty: C) {
    this.columns = empty;
  }

  /** The slot of the i-th oldest entry (0 = oldest). */
  slot(i: number): number {
    return (this.start + i) % this.capacity;
  }

  /**
   * The slot for a new entry: a free one, or the oldest one's when full (it is dropped). Read
   * `columns` after this call: it may have grown them.
   */
  push(): number {
    if (this.length === this.capacity && this.capacity < this.max) this.grow();
    if (this.length < this.capacity) return this.slot(this.length++);
    const slot = this.start;
    this.start = (this.start + 1) % this.capacity;
    return slot;
  }

  /** Doubles the columns (up to `max`), the entries moved to slots 0.. in order. */
  private grow(): void {
    const capacity = Math.min(this.max, Math.max(FIRST_CAPACITY, this.capacity * 2));
    const columns = this.make(capacity);
    for (const name in columns) {
      const [from, to] = [this.columns[name], columns[name]] as unknown[][];
      for (let i = 0; i < this.length; i++) to[i] = from[this.slot(i)];
    }
    [this.columns, this.capacity, this.start] = [columns, capacity, 0];
  }

  /** Keeps the entries `keep` accepts (by slot), in order. */
  retain(keep: (slot: number) => boolean): void {
    let kept = 0;
    for (let i = 0; i < this.length; i++) {
      const from = this.slot(i);
      if (!keep(from)) continue;
      const to = this.slot(kept++);
      if (to === from) continue;
      for (const name in this.columns) {
        const column = this.columns[name] as unknown[];
        column[to] = column[from];
      }
    }
    this.length = kept;
  }
}
