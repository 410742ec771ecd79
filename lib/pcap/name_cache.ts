/** A fixed-size cache of names keyed by a pair of 32-bit numbers, used by the dissector. */

/**
 * A direct-mapped cache: each (first, second) key has one slot, and a newer key that lands
 * on a taken slot replaces it. The keys live in typed arrays, so a lookup allocates nothing
 * and never turns a key into a heap number (an IPv4 address such as 192.168.1.2 as a u32,
 * or an address and port folded into one number, is above V8's small-integer range and
 * was boxed for every `Map.get` of every packet).
 */
export class NameCache {
  #first: Int32Array;
  #second: Int32Array;
  #names: (string | undefined)[];
  #shift: number;

  /** `slots` is rounded up to a power of two. */
  constructor(slots: number) {
    const bits = Math.max(1, Math.ceil(Math.log2(slots)));
    this.#shift = 32 - bits;
    this.#first = new Int32Array(1 << bits);
    this.#second = new Int32Array(1 << bits);
    this.#names = new Array<string | undefined>(1 << bits).fill(undefined);
  }

  #slot(first: number, second: number): number {
    return Math.imul(first ^ Math.imul(second, 0x9e3779b1), 0x85ebca6b) >>> this.#shift;
  }

  /** The name kept for the key, or undefined. */
  get(first: number, second: number): string | undefined {
    const slot = this.#slot(first, second);
    const name = this.#names[slot];
    return name !== undefined && this.#first[slot] === (first | 0) &&
        this.#second[slot] === (second | 0)
      ? name
      : undefined;
  }

  /** Keeps `name` for the key (replacing whatever shared its slot) and returns it. */
  set(first: number, second: number, name: string): string {
    const slot = this.#slot(first, second);
    this.#first[slot] = first;
    this.#second[slot] = second;
    this.#names[slot] = name;
    return name;
  }
}
