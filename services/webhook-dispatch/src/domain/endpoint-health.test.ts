import { shouldDisable } from './endpoint-health';

const DAY = 86_400_000;
const disableAfterMs = 5 * DAY;
const firstFailureAt = new Date('2025-04-01T00:00:00Z');
const at = (ms: number) => new Date(firstFailureAt.getTime() + ms);

describe('shouldDisable', () => {
  it('disables once every attempt has failed for exactly the configured time, not a millisecond before', () => {
    const failing = { firstFailureAt, lastSuccessAt: null, disableAfterMs };
    expect(shouldDisable({ ...failing, now: at(disableAfterMs - 1) })).toBe(false);
    expect(shouldDisable({ ...failing, now: at(disableAfterMs) })).toBe(true);
    expect(shouldDisable({ ...failing, now: at(disableAfterMs + DAY) })).toBe(true);
  });

  it('keeps an endpoint that is not failing', () => {
    expect(shouldDisable({ firstFailureAt: null, lastSuccessAt: null, now: at(10 * DAY), disableAfterMs })).toBe(false);
  });

  it('counts only the current streak: a success since its first failure keeps the endpoint', () => {
    const now = at(10 * DAY);
    expect(shouldDisable({ firstFailureAt, lastSuccessAt: at(DAY), now, disableAfterMs })).toBe(false);
    expect(shouldDisable({ firstFailureAt, lastSuccessAt: firstFailureAt, now, disableAfterMs })).toBe(false);
    expect(shouldDisable({ firstFailureAt, lastSuccessAt: at(-1), now, disableAfterMs })).toBe(true);
  });
});
