import { hasReached, NO_EVENTS_SHA256, summaryFingerprint, type MetricTotal } from './summary';

const marks = [
  { partition: 0, offset: '10' },
  { partition: 1, offset: '0' },
  { partition: 2, offset: '5' },
];
const period = { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' };
const apiCalls: MetricTotal = {
  metricKey: 'API_CALL',
  aggregation: 'SUM',
  quantity: '12000',
  eventCount: 12000,
  eventIdsSha256: 'ab'.repeat(32),
};
const users: MetricTotal = {
  metricKey: 'ACTIVE_USERS',
  aggregation: 'UNIQUE_COUNT',
  quantity: '3',
  eventCount: 40,
  eventIdsSha256: NO_EVENTS_SHA256,
};

describe('period summaries', () => {
  it('are due only once every partition reached its high-water mark', () => {
    expect(
      hasReached(
        marks,
        new Map([
          [0, 10n],
          [2, 5n],
        ]),
      ),
    ).toBe(true);
    expect(
      hasReached(
        marks,
        new Map([
          [0, 10n],
          [2, 4n],
        ]),
      ),
    ).toBe(false);
    expect(
      hasReached(
        marks,
        new Map([
          [0, 9n],
          [2, 5n],
        ]),
      ),
    ).toBe(false);
    // a partition that was empty at closing needs no progress at all
    expect(hasReached([{ partition: 1, offset: '0' }], new Map())).toBe(true);
  });

  it('fingerprint the same summary identically whatever the order of its parts', () => {
    const a = summaryFingerprint({ subscriptionId: 's', period, highWaterMarks: marks, metrics: [apiCalls, users] });
    const b = summaryFingerprint({
      subscriptionId: 's',
      period,
      highWaterMarks: [...marks].reverse(),
      metrics: [users, apiCalls],
    });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fingerprint differently when one counted event differs, or a quantity, or the period', () => {
    const base = summaryFingerprint({ subscriptionId: 's', period, highWaterMarks: marks, metrics: [apiCalls] });
    const otherIds = summaryFingerprint({
      subscriptionId: 's',
      period,
      highWaterMarks: marks,
      metrics: [{ ...apiCalls, eventIdsSha256: 'cd'.repeat(32) }],
    });
    const otherQuantity = summaryFingerprint({
      subscriptionId: 's',
      period,
      highWaterMarks: marks,
      metrics: [{ ...apiCalls, quantity: '12001' }],
    });
    const otherPeriod = summaryFingerprint({
      subscriptionId: 's',
      period: { ...period, start: '2025-03-02T00:00:00.000Z' },
      highWaterMarks: marks,
      metrics: [apiCalls],
    });
    expect(new Set([base, otherIds, otherQuantity, otherPeriod]).size).toBe(4);
  });
});
