/** A bounded map that forgets its oldest entry first, used by the timeline's caches. */

/**
 * A first-in first-out map of at most `capacity` entries. The insertion order lives in a
 * ring of keys: evicting through `Map.keys()` would walk the holes that deleted entries
 * leave behind, a cost (and garbage) that grows with the churn. The ring grows with the
 * map up to `capacity`: a large ring allocated up front would be promoted to V8's old
 * generation at once and counted as young survivors, which makes V8 grow its young
 * generation.
 */
export class FifoMap<K, V> {
  #map = new Map<K, V>();
  #ring: K[] = [];
  #capacity: number;
  #next = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
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
      if (this.#ring.length < this.#capacity) this.#ring.push(key);
      else {
        this.#map.delete(this.#ring[this.#next]);
        this.#ring[this.#next] = key;
        this.#next = (this.#next + 1) % this.#capacity;
      }
    }
    this.#map.set(key, value);
  }
}
