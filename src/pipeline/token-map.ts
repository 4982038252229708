// A Map keyed by token text that does not hash the whole text. V8 hashes a string key once per
// string object, character by character (~1.3 ns each): a 600-character token, a new string at
// each occurrence, cost ~0.8 µs per lookup, a quarter of a log line's cost. Here a key is hashed
// from a fixed sample of its characters (its length, its last 8 and 8 spread over it) and
// confirmed with ===. Tokens that share a sample (crafted ones can) fill a bucket of at most
// CHAIN entries; the rest spill into a plain Map, so the worst case is the plain Map's cost.

const CHAIN = 4;

interface Bucket<V> {
  keys: string[];
  values: V[];
  /** Entries with this sample hash kept in `spill`. */
  spilled: number;
}

function sampleHash(key: string): number {
  const n = key.length;
  let h = Math.imul(n, 0x9e3779b1);
  if (n <= 16) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  } else {
    for (let i = n - 8; i < n; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    const step = Math.floor((n - 8) / 8);
    for (let i = 0, k = 0; k < 8; k++, i += step) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 15;
  return h & 0x3fffffff; // a small integer: Map hashes it without allocating
}

export class TokenMap<V> {
  readonly #buckets = new Map<number, Bucket<V>>();
  readonly #spill = new Map<string, V>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(key: string): V | undefined {
    const b = this.#buckets.get(sampleHash(key));
    if (b === undefined) return undefined;
    const i = b.keys.indexOf(key);
    if (i >= 0) return b.values[i];
    return b.spilled > 0 ? this.#spill.get(key) : undefined;
  }

  has(key: string): boolean {
    const b = this.#buckets.get(sampleHash(key));
    if (b === undefined) return false;
    return b.keys.indexOf(key) >= 0 || (b.spilled > 0 && this.#spill.has(key));
  }

  set(key: string, value: V): this {
    const h = sampleHash(key);
    let b = this.#buckets.get(h);
    if (b === undefined) {
      b = { keys: [], values: [], spilled: 0 };
      this.#buckets.set(h, b);
    }
    const i = b.keys.indexOf(key);
    if (i >= 0) {
      b.values[i] = value;
      return this;
    }
    if (b.spilled > 0 && this.#spill.has(key)) {
      this.#spill.set(key, value);
      return this;
    }
    if (b.keys.length < CHAIN) {
      b.keys.push(key);
      b.values.push(value);
    } else {
      this.#spill.set(key, value);
      b.spilled++;
    }
    this.#size++;
    return this;
  }

  delete(key: string): boolean {
    const h = sampleHash(key);
    const b = this.#buckets.get(h);
    if (b === undefined) return false;
    const i = b.keys.indexOf(key);
    if (i >= 0) {
      b.keys.splice(i, 1);
      b.values.splice(i, 1);
    } else if (b.spilled > 0 && this.#spill.delete(key)) b.spilled--;
    else return false;
    if (b.keys.length === 0 && b.spilled === 0) this.#buckets.delete(h);
    this.#size--;
    return true;
  }
}
