// A small read-through cache for verification data. Time comes from the injected clock (so a
// test can step over a TTL), loads of one key share one store call, and `clear()` wins over
// loads already in flight: what they read may predate the change that caused the clear.

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/** A bounded TTL cache in front of an async loader; the oldest entry goes first when full. */
export class LoadingCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loading = new Map<string, Promise<V>>();
  private generation = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  /**
   * The cached value of `key`, else `load()`'s, kept until `expiresAt(value, loadStartedAt)`.
   * The TTL runs from the start of the load: the value is at most that old.
   */
  async get(key: string, load: () => Promise<V>, expiresAt: (value: V, loadStartedAt: number) => number): Promise<V> {
    const startedAt = this.now();
    const hit = this.entries.get(key);
    if (hit) {
      if (hit.expiresAt > startedAt) return hit.value;
      this.entries.delete(key);
    }
    const pending = this.loading.get(key);
    if (pending) return pending;

    const generation = this.generation;
    const loaded = load().then(
      (value) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        if (generation === this.generation) this.put(key, value, expiresAt(value, startedAt));
        return value;
      },
      (err: unknown) => {
        if (this.loading.get(key) === loaded) this.loading.delete(key);
        throw err;
      },
    );
    this.loading.set(key, loaded);
    return loaded;
  }

  /** Forgets everything, including loads in flight. */
  clear(): void {
    this.entries.clear();
    this.loading.clear();
    this.generation++;
  }

  /** How many entries are held (expired ones included until touched or evicted). */
  get size(): number {
    return this.entries.size;
  }

  private put(key: string, value: V, expiresAt: number): void {
    // re-inserting moves the key to the end of the Map's insertion order (newest)
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt });
  }
}
