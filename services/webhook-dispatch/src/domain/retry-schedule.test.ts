import {
  MAX_ATTEMPTS,
  RETRY_JITTER,
  RETRY_SCHEDULE,
  RETRY_SCHEDULE_TOTAL_MS,
  nextAttemptDelayMs,
} from './retry-schedule';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const fixed = (r: number) => () => r;

describe('retry schedule', () => {
  it('spans about three days, growing at every step', () => {
    expect(RETRY_SCHEDULE_TOTAL_MS).toBe(75 * HOUR + 35 * 60_000 + 5_000);
    expect(RETRY_SCHEDULE_TOTAL_MS).toBeGreaterThan(3 * DAY);
    expect(RETRY_SCHEDULE_TOTAL_MS).toBeLessThan(3.5 * DAY);
    // the jitter is computed in whole milliseconds from nominal / 5
    expect(RETRY_SCHEDULE.filter((d) => d % 5 !== 0)).toEqual([]);
    for (let i = 1; i < RETRY_SCHEDULE.length; i++) {
      expect(RETRY_SCHEDULE[i]).toBeGreaterThan(RETRY_SCHEDULE[i - 1]!);
    }
    // the shortest possible span, every delay at its lowest, still covers more than two days
    expect(RETRY_SCHEDULE_TOTAL_MS * (1 - RETRY_JITTER)).toBeGreaterThan(2 * DAY);
  });

  it('retries 5 s after the first failure and 24 h after the ninth, then gives up', () => {
    expect(MAX_ATTEMPTS).toBe(10);
    expect(nextAttemptDelayMs(1, fixed(0.5))).toBe(5_000);
    expect(nextAttemptDelayMs(9, fixed(0.5))).toBe(24 * HOUR);
    expect(nextAttemptDelayMs(MAX_ATTEMPTS - 1, fixed(0.5))).not.toBeNull();
    expect(nextAttemptDelayMs(MAX_ATTEMPTS, fixed(0.5))).toBeNull();
    expect(nextAttemptDelayMs(MAX_ATTEMPTS + 1, fixed(0.5))).toBeNull();
  });

  it('jitters each delay within ±20%: random() = 0 gives the low end, ~1 the high end', () => {
    RETRY_SCHEDULE.forEach((nominal, i) => {
      const attempt = i + 1;
      expect(nextAttemptDelayMs(attempt, fixed(0))).toBe(nominal - nominal / 5);
      expect(nextAttemptDelayMs(attempt, fixed(0.5))).toBe(nominal);
      const high = nextAttemptDelayMs(attempt, fixed(0.999999))!;
      expect(high).toBeLessThanOrEqual(nominal * 1.2);
      expect(high).toBeGreaterThan(nominal * 1.19);
    });
    expect(nextAttemptDelayMs(1, fixed(0))).toBe(4_000);
    expect(nextAttemptDelayMs(1, fixed(0.999999))).toBe(5_999); // whole ms, never above 1.2x
  });

  it('is deterministic given random, and never negative even for a faulty random', () => {
    expect(nextAttemptDelayMs(4, fixed(0.3))).toBe(nextAttemptDelayMs(4, fixed(0.3)));
    expect(nextAttemptDelayMs(1, fixed(-5))).toBe(4_000);
    expect(nextAttemptDelayMs(1, fixed(NaN))).toBe(4_000);
    expect(nextAttemptDelayMs(1, fixed(7))).toBe(6_000);
  });

  it('refuses an attempt count that is not a positive integer', () => {
    expect(() => nextAttemptDelayMs(0, fixed(0.5))).toThrow(RangeError);
    expect(() => nextAttemptDelayMs(-1, fixed(0.5))).toThrow(RangeError);
    expect(() => nextAttemptDelayMs(1.5, fixed(0.5))).toThrow(RangeError);
  });
});
