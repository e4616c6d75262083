import { TokenBuckets } from './rate-limit';

const T0 = 1_741_953_600_000;

describe('TokenBuckets', () => {
  it('lets a new key take its whole burst at once, and not one more', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 10, burst: 100, maxKeys: 10 });

    expect(buckets.take('key-a', 100, T0)).toEqual({ ok: true });
    expect(buckets.take('key-a', 1, T0)).toEqual({ ok: false, reason: 'RATE_LIMITED', retryAfterMs: 100 });
  });

  it('takes all or nothing: a refused request leaves the tokens in place', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 10, burst: 100, maxKeys: 10 });
    buckets.take('key-a', 95, T0);

    expect(buckets.take('key-a', 6, T0)).toEqual({ ok: false, reason: 'RATE_LIMITED', retryAfterMs: 100 });
    expect(buckets.take('key-a', 5, T0)).toEqual({ ok: true });
  });

  it('refills at the rate, up to the burst', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 10, burst: 100, maxKeys: 10 });
    buckets.take('key-a', 100, T0);

    expect(buckets.take('key-a', 5, T0 + 500)).toEqual({ ok: true });
    expect(buckets.take('key-a', 1, T0 + 500).ok).toBe(false);

    // An hour idle refills to the burst, not beyond.
    expect(buckets.take('key-a', 100, T0 + 3_600_000)).toEqual({ ok: true });
    expect(buckets.take('key-a', 1, T0 + 3_600_000).ok).toBe(false);
  });

  it('says how long to wait: after exactly that long the request passes, a millisecond earlier it does not', () => {
    for (const [ratePerSecond, n] of [
      [10, 7],
      [3, 1],
      [0.5, 2],
      [1000, 1],
      [7, 100],
    ] as const) {
      const limits = { ratePerSecond, burst: 100, maxKeys: 10 };
      const drained = () => {
        const buckets = new TokenBuckets(limits);
        buckets.take('key-a', 100, T0);
        return buckets;
      };
      const refused = drained().take('key-a', n, T0);
      if (refused.ok || refused.reason !== 'RATE_LIMITED') throw new Error('expected RATE_LIMITED');

      expect(refused.retryAfterMs).toBe(Math.ceil((n * 1000) / ratePerSecond));
      expect(drained().take('key-a', n, T0 + refused.retryAfterMs)).toEqual({ ok: true });
      expect(drained().take('key-a', n, T0 + refused.retryAfterMs - 1).ok).toBe(false);
    }
  });

  it('settles the wait exactly where floating-point division rounds the wrong way', () => {
    // At 0.3 tokens/s, (n - tokens) / rate lands one millisecond off for these (found by search):
    // 15 tokens 2 ms after draining needs one more, 9 tokens 5 ms after needs one fewer.
    for (const [sinceDrainedMs, n] of [
      [2, 15],
      [5, 9],
    ] as const) {
      const drained = () => {
        const buckets = new TokenBuckets({ ratePerSecond: 0.3, burst: 100, maxKeys: 10 });
        buckets.take('key-a', 100, T0);
        return buckets;
      };
      const now = T0 + sinceDrainedMs;
      const refused = drained().take('key-a', n, now);
      if (refused.ok || refused.reason !== 'RATE_LIMITED') throw new Error('expected RATE_LIMITED');

      const probe = (waitMs: number) => {
        const buckets = drained();
        buckets.take('key-a', n, now);
        return buckets.take('key-a', n, now + waitMs).ok;
      };
      expect(probe(refused.retryAfterMs)).toBe(true);
      expect(probe(refused.retryAfterMs - 1)).toBe(false);
    }
  });

  it('refuses more than the burst as never possible, without touching the bucket', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 10, burst: 100, maxKeys: 10 });

    expect(buckets.take('key-a', 101, T0)).toEqual({ ok: false, reason: 'EXCEEDS_BURST', burst: 100 });
    expect(buckets.size).toBe(0);
    expect(buckets.take('key-a', 100, T0)).toEqual({ ok: true });
  });

  it('keeps each key to its own bucket', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 10, burst: 100, maxKeys: 10 });
    buckets.take('key-a', 100, T0);

    expect(buckets.take('key-b', 100, T0)).toEqual({ ok: true });
    expect(buckets.take('key-a', 1, T0).ok).toBe(false);
  });

  it('neither gains nor loses tokens on a clock that steps back', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 10, burst: 100, maxKeys: 10 });
    buckets.take('key-a', 50, T0);

    expect(buckets.take('key-a', 50, T0 - 60_000)).toEqual({ ok: true });
    expect(buckets.take('key-a', 1, T0 - 60_000).ok).toBe(false);
    // Time is still counted from T0: 100 ms after it, one token is back.
    expect(buckets.take('key-a', 1, T0 + 100)).toEqual({ ok: true });
  });

  it('takes nothing for an empty request', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 10, burst: 100, maxKeys: 10 });
    buckets.take('key-a', 100, T0);

    expect(buckets.take('key-a', 0, T0)).toEqual({ ok: true });
  });

  it('bounds its memory by evicting the least recently used key', () => {
    const buckets = new TokenBuckets({ ratePerSecond: 10, burst: 100, maxKeys: 2 });
    buckets.take('key-a', 100, T0);
    buckets.take('key-b', 100, T0);
    // key-a is used again (refused, still a use): key-b is now the least recently used.
    buckets.take('key-a', 1, T0);

    buckets.take('key-c', 1, T0);

    expect(buckets.size).toBe(2);
    expect(buckets.take('key-a', 1, T0).ok).toBe(false); // kept: still drained
    expect(buckets.take('key-b', 100, T0)).toEqual({ ok: true }); // evicted: starts full again
  });

  it.each([
    [{ ratePerSecond: 0, burst: 1, maxKeys: 1 }],
    [{ ratePerSecond: Number.POSITIVE_INFINITY, burst: 1, maxKeys: 1 }],
    [{ ratePerSecond: 1, burst: 0.5, maxKeys: 1 }],
    [{ ratePerSecond: 1, burst: Number.NaN, maxKeys: 1 }],
    [{ ratePerSecond: 1, burst: 1, maxKeys: 0 }],
    [{ ratePerSecond: 1, burst: 1, maxKeys: 1.5 }],
  ])('refuses the limits %p', (limits) => {
    expect(() => new TokenBuckets(limits)).toThrow(RangeError);
  });

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY]])('refuses to take %p tokens', (n) => {
    const buckets = new TokenBuckets({ ratePerSecond: 10, burst: 100, maxKeys: 10 });
    expect(() => buckets.take('key-a', n, T0)).toThrow(RangeError);
  });
});
