import { isBlocked, retryAfterSeconds, windowStart } from './login-limits';

const limits = { windowMs: 900_000, maxFailuresPerEmail: 5, maxFailuresPerAddress: 50 };

describe('login limits', () => {
  it('block at the limit per e-mail or per address, not before', () => {
    expect(isBlocked({ email: 4, address: 0 }, limits)).toBe(false);
    expect(isBlocked({ email: 5, address: 0 }, limits)).toBe(true);
    expect(isBlocked({ email: 0, address: 50 }, limits)).toBe(true);
  });

  it('count in fixed windows and say when the window ends', () => {
    const now = new Date('2025-03-01T10:07:30Z');
    expect(windowStart(now, limits.windowMs)).toEqual(new Date('2025-03-01T10:00:00Z'));
    expect(retryAfterSeconds(now, limits.windowMs)).toBe(450);
    expect(retryAfterSeconds(new Date('2025-03-01T10:14:59.999Z'), limits.windowMs)).toBe(1);
  });
});
