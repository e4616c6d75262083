import { findLine, includedInSummary, overallOutcome, traceInSubscription, type PeriodFacts } from './trace';

const MARCH = { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' };
const APRIL = { start: '2025-04-01T00:00:00.000Z', end: '2025-05-01T00:00:00.000Z' };
const line = (kind: string, quantity: string, period?: typeof MARCH) => ({
  kind,
  description: 'API calls',
  metricKey: 'API_CALL',
  quantity,
  includedUnits: '10000',
  billableUnits: '0',
  amountCents: 0,
  amount: 0,
  ...(period ? { period } : {}),
});
const invoice = (period: typeof MARCH, lines: Array<Record<string, unknown>>) => ({
  invoice: {
    invoiceId: '00000000-0000-4000-8000-000000000001',
    number: 'INV-000001',
    status: 'PENDING' as const,
    period,
    issuedAt: period.end,
    currency: 'USD',
  },
  lines,
});
const summary = {
  summaryId: '00000000-0000-4000-8000-000000000002',
  fingerprint: 'a'.repeat(64),
  summarizedAt: '2025-04-01T01:00:00.000Z',
  marks: [
    { partition: 0, offset: '100' },
    { partition: 1, offset: '7' },
  ],
};
const facts = (over: Partial<PeriodFacts> = {}): PeriodFacts => ({
  subscriptionId: '00000000-0000-4000-8000-000000000003',
  planCode: 'pro',
  planVersion: 1,
  period: MARCH,
  now: new Date('2025-04-02T00:00:00.000Z'),
  metricKey: 'API_CALL',
  metricDefined: true,
  planMetrics: ['API_CALL'],
  closing: { closedAt: '2025-04-01T01:00:00.000Z', summary },
  position: { partition: 0, offset: '99' },
  late: null,
  invoice: null,
  lateBilledWithPeriod: null,
  subscriptionEnded: false,
  ...over,
});

describe('includedInSummary', () => {
  it("counts an event read before its partition's mark, not at or after it, nor on a partition without one", () => {
    expect(includedInSummary(summary.marks, { partition: 0, offset: '99' })).toEqual({ included: true, mark: '100' });
    expect(includedInSummary(summary.marks, { partition: 0, offset: '100' }).included).toBe(false);
    expect(includedInSummary(summary.marks, { partition: 2, offset: '0' })).toEqual({ included: false, mark: null });
  });
});

describe('traceInSubscription', () => {
  it('says why an event is not billed, step by step', () => {
    const code = (over: Partial<PeriodFacts>) => {
      const t = traceInSubscription(facts(over));
      return [t.outcome, t.waiting?.code];
    };
    expect(code({ metricDefined: false })).toEqual(['UNBILLED', 'METRIC_UNKNOWN']);
    expect(code({ planMetrics: null })).toEqual(['PENDING', 'AWAITING_PLAN']);
    expect(code({ planMetrics: ['SEATS'] })).toEqual(['UNBILLED', 'METRIC_NOT_ON_PLAN']);
    expect(code({ closing: null, now: new Date('2025-03-20T00:00:00.000Z') })).toEqual(['PENDING', 'PERIOD_OPEN']);
    expect(code({ closing: null })).toEqual(['PENDING', 'AWAITING_CLOSING']);
    expect(code({ closing: { closedAt: MARCH.end, summary: null } })).toEqual(['PENDING', 'AWAITING_SUMMARY']);
    expect(code({})).toEqual(['PENDING', 'AWAITING_INVOICE']);
  });

  it("bills a summarized event on its period's usage line", () => {
    const t = traceInSubscription(facts({ invoice: invoice(MARCH, [line('base', '0'), line('usage', '12000')]) }));
    expect(t).toMatchObject({
      outcome: 'BILLED',
      summary: { included: true, highWaterMark: '100' },
      line: { position: 1, kind: 'usage', quantity: '12000', period: MARCH },
    });
    expect(t.waiting).toBeUndefined();
  });

  it('follows a late event to the late usage line of the invoice its record is billed on', () => {
    const late = { lateRecordId: summary.summaryId, sequence: 3, quantity: '2', detectedAt: APRIL.start };
    const position = { partition: 0, offset: '150' };
    expect(traceInSubscription(facts({ position, late })).waiting?.code).toBe('AWAITING_NEXT_SUMMARY');
    expect(traceInSubscription(facts({ position, late, subscriptionEnded: true })).outcome).toBe('UNBILLED');
    expect(traceInSubscription(facts({ position, late, lateBilledWithPeriod: APRIL })).waiting?.code).toBe(
      'AWAITING_INVOICE',
    );
    const april = invoice(APRIL, [line('base', '0'), line('usage', '5'), line('late_usage', '2', MARCH)]);
    expect(traceInSubscription(facts({ position, late, lateBilledWithPeriod: APRIL, invoice: april }))).toMatchObject({
      outcome: 'BILLED',
      late: { sequence: 3 },
      line: { position: 2, kind: 'late_usage', period: MARCH },
    });
  });

  it("does not take another period's late line, or another metric's line, for the event's", () => {
    const april = invoice(APRIL, [line('late_usage', '2', { start: '2025-02-01T00:00:00.000Z', end: MARCH.start })]);
    expect(findLine(april, 'API_CALL', MARCH)).toBeNull();
    expect(findLine(invoice(MARCH, [{ ...line('usage', '1'), metricKey: 'SEATS' }]), 'API_CALL', null)).toBeNull();
  });
});

describe('overallOutcome', () => {
  it('is SUBSCRIPTION_MISSING without a subscription, else the best of its subscriptions', () => {
    expect(overallOutcome([], 'user_1', MARCH.start)).toMatchObject({
      outcome: 'UNBILLED',
      waiting: { code: 'SUBSCRIPTION_MISSING' },
    });
    const billed = traceInSubscription(facts({ invoice: invoice(MARCH, [line('usage', '1')]) }));
    const pending = traceInSubscription(facts());
    expect(overallOutcome([pending, billed], 'user_1', MARCH.start)).toEqual({ outcome: 'BILLED' });
    expect(overallOutcome([pending], 'user_1', MARCH.start).outcome).toBe('PENDING');
  });
});
