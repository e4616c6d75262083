// Per-key token buckets (a key is typically an API key id): each holds up to `burst` tokens and
// refills at `ratePerSecond`; a request of n events takes n tokens, all or nothing. Time comes in
// as milliseconds, so the arithmetic is plain numbers: these are request counts, not money.
//
// n > burst can never succeed, however long the sender waits: it is refused as EXCEEDS_BURST
// without a retry time, so the caller answers "split the batch" instead of a 429 whose
// Retry-After would be a lie.
//
// Memory is bounded by `maxKeys`: a new key beyond it evicts the least recently used one. A full
// bucket carries no information (a missing key starts full), and the least recently used bucket
// is the one that has had the longest to refill; evicting a bucket still in debt only lets that
// key start over with a full bucket, erring on the side of accepting usage.

/** The limit every key gets. */
export interface TokenBucketOptions {
  /** Tokens (events) added per second. */
  ratePerSecond: number;
  /** The most tokens a bucket holds: the largest request that can ever pass. */
  burst: number;
  /** The most keys remembered at once. */
  maxKeys: number;
}

/** The answer to a request of n tokens. */
export type TakeResult =
  | { ok: true }
  /** Not enough tokens now; after `retryAfterMs` (>= 1) there will be. */
  | { ok: false; reason: 'RATE_LIMITED'; retryAfterMs: number }
  /** More tokens than a full bucket holds: retrying cannot help, a smaller request can. */
  | { ok: false; reason: 'EXCEEDS_BURST'; burst: number };

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date. */
  atMs: number;
}

const TAKEN: TakeResult = Object.freeze({ ok: true });

/** Token buckets per key, pure: the caller passes the time. */
export class TokenBuckets {
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly maxKeys: number;
  // Map iteration follows insertion order; re-inserting a key on each use keeps the least
  // recently used key first.
  private readonly buckets = new Map<string, Bucket>();

  constructor(options: TokenBucketOptions) {
    if (!(options.ratePerSecond > 0) || !Number.isFinite(options.ratePerSecond)) {
      throw new RangeError(`ratePerSecond must be a positive number, got ${options.ratePerSecond}`);
    }
    if (!(options.burst >= 1) || !Number.isFinite(options.burst)) {
      throw new RangeError(`burst must be at least 1, got ${options.burst}`);
    }
    if (!Number.isInteger(options.maxKeys) || options.maxKeys < 1) {
      throw new RangeError(`maxKeys must be a positive integer, got ${options.maxKeys}`);
    }
    this.ratePerMs = options.ratePerSecond / 1000;
    this.burst = options.burst;
    this.maxKeys = options.maxKeys;
  }

  /** The number of keys remembered. */
  get size(): number {
    return this.buckets.size;
  }

  /** Takes `n` tokens from `key`'s bucket at `nowMs`, all or none. */
  take(key: string, n: number, nowMs: number): TakeResult {
    if (!(n >= 0) || !Number.isFinite(n)) throw new RangeError(`n must be a non-negative number, got ${n}`);
    if (n > this.burst) return { ok: false, reason: 'EXCEEDS_BURST', burst: this.burst };

    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) this.evictLeastRecentlyUsed();
      bucket = { tokens: this.burst, atMs: nowMs };
    } else {
      this.buckets.delete(key);
      this.refill(bucket, nowMs);
    }
    this.buckets.set(key, bucket);

    if (bucket.tokens >= n) {
      bucket.tokens -= n;
      return TAKEN;
    }
    return { ok: false, reason: 'RATE_LIMITED', retryAfterMs: this.waitMs(bucket.tokens, n) };
  }

  private refill(bucket: Bucket, nowMs: number): void {
    // A clock that steps back adds nothing and does not move the bucket's time back.
    if (nowMs <= bucket.atMs) return;
    bucket.tokens = this.refilled(bucket.tokens, nowMs - bucket.atMs);
    bucket.atMs = nowMs;
  }

  private refilled(tokens: number, elapsedMs: number): number {
    return Math.min(this.burst, tokens + elapsedMs * this.ratePerMs);
  }

  /**
   * The fewest whole milliseconds until `tokens` grow to `n` (n <= burst, so the cap of
   * `refilled` never decides). Floating-point division can land a hair either side of the exact
   * wait, so the estimate is settled with the sum `refilled` computes: a retry after exactly that
   * wait succeeds, one millisecond earlier it does not. Each loop runs at most a step or two.
   */
  private waitMs(tokens: number, n: number): number {
    let wait = Math.max(1, Math.ceil((n - tokens) / this.ratePerMs));
    while (tokens + wait * this.ratePerMs < n) wait++;
    while (wait > 1 && tokens + (wait - 1) * this.ratePerMs >= n) wait--;
    return wait;
  }

  private evictLeastRecentlyUsed(): void {
    const oldest = this.buckets.keys().next();
    if (!oldest.done) this.buckets.delete(oldest.value);
  }
}
