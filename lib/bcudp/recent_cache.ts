/** A small least-recently-used cache keyed by small integers: the document cache's recent tier. */

/**
 * At most `capacity` values keyed by integers, the least recently used forgotten first.
 * Lookups scan the slots: for a few dozen entries that beats a Map and allocates nothing,
 * so a hit costs no garbage at all.
 */
export class RecentCache<V> {
  #keys: Int32Array;
  #values: (V | undefined)[];
  /** When each slot was last used (a counter, not a clock). */
  #used: Float64Array;
  #uses = 0;

  constructor(capacity: number) {
    this.#keys = new Int32Array(capacity);
    this.#values = new Array<V | undefined>(capacity).fill(undefined);
    this.#used = new Float64Array(capacity);
  }

  /** The value of `key` (and marks it as just used), or undefined. */
  get(key: number): V | undefined {
    const keys = this.#keys;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === key && this.#values[i] !== undefined) {
        this.#used[i] = ++this.#uses;
        return this.#values[i];
      }
    }
    return undefined;
  }

  /** Adds `key` in place of the least recently used entry (or replaces its own value). */
  set(key: number, value: V): void {
    const used = this.#used;
    let slot = 0;
    for (let i = 0; i < used.length; i++) {
      if (this.#keys[i] === key && this.#values[i] !== undefined) {
        slot = i;
        break;
      }
      if (used[i] < used[slot]) slot = i;
    }
    this.#keys[slot] = key;
    this.#values[slot] = value;
    used[slot] = ++this.#uses;
  }
}
