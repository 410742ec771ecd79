/** A bounded map that forgets its oldest entry first, used by the timeline's caches. */

/**
 * A first-in first-out map of at most `capacity` entries. The insertion order lives in a
 * ring of keys: evicting through `Map.keys()` would walk the holes that deleted entries
 * leave behind, a cost (and garbage) that grows with the churn.
 */
export class FifoMap<K, V> {
  #map = new Map<K, V>();
  #ring: (K | undefined)[];
  #next = 0;

  constructor(capacity: number) {
    this.#ring = new Array<K | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  /** Adds or replaces `key`; a new key pushes the oldest one out when full. */
  set(key: K, value: V): void {
    if (!this.#map.has(key)) {
      const oldest = this.#ring[this.#next];
      if (oldest !== undefined) this.#map.delete(oldest);
      this.#ring[this.#next] = key;
      this.#next = (this.#next + 1) % this.#ring.length;
    }
    this.#map.set(key, value);
  }
}
