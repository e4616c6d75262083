import { reconcile, type ReconciliationFacts } from './reconciliation';

const MARCH = { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' };
const lined = (over: Partial<ReconciliationFacts> = {}): ReconciliationFacts => ({
  state: 'SUMMARIZED',
  now: new Date('2025-05-02T00:00:00.000Z'),
  period: MARCH,
  stored: 12_001,
  summarized: 12_000,
  summarizedQuantity: '12000',
  summary: { quantity: '12000', eventCount: 12_000 },
  invoice: { number: 'INV-000001', line: { quantity: '12000' } },
  unrecordedLate: { count: 0, eventIds: [] },
  lateBilled: [{ number: 'INV-000002', quantity: '1', lineQuantity: '1' }],
  lateUnbilled: { count: 0, billedWithPeriod: null, subscriptionEnded: false },
  ...over,
});

describe('reconcile', () => {
  it('lines up when every count agrees', () => {
    expect(reconcile(lined())).toEqual({ differences: [], waiting: [] });
  });

  it('lists each difference, with the events that explain it', () => {
    const { differences } = reconcile(
      lined({
        summarized: 11_999,
        summarizedQuantity: '11999.5',
        invoice: { number: 'INV-000001', line: { quantity: '11000' } },
        unrecordedLate: { count: 1, eventIds: ['req_9'] },
        lateBilled: [{ number: 'INV-000002', quantity: '1', lineQuantity: '3' }],
      }),
    );
    expect(differences.map((d) => [d.code, d.eventIds])).toEqual([
      ['SUMMARY_COUNT_MISMATCH', []],
      ['SUMMARY_QUANTITY_MISMATCH', []],
      ['LATE_NOT_RECORDED', ['req_9']],
      ['INVOICE_QUANTITY_MISMATCH', []],
      ['LATE_LINE_MISMATCH', []],
    ]);
  });

  it('compares decimal quantities exactly, not as text', () => {
    expect(
      reconcile(
        lined({
          summary: { quantity: '2.50', eventCount: 12_000 },
          summarizedQuantity: '2.5',
          invoice: { number: 'INV-000001', line: { quantity: '2.5' } },
        }),
      ).differences,
    ).toEqual([]);
  });

  it('says what is still waiting, which is not a difference', () => {
    const waiting = (over: Partial<ReconciliationFacts>) => reconcile(lined(over)).waiting.map((w) => w.code);
    expect(waiting({ state: 'OPEN', summary: null, now: new Date('2025-03-10T00:00:00.000Z') })).toEqual([
      'PERIOD_OPEN',
    ]);
    expect(waiting({ state: 'OPEN', summary: null })).toEqual(['AWAITING_CLOSING']);
    expect(waiting({ state: 'CLOSED', summary: null })).toEqual(['AWAITING_SUMMARY']);
    expect(waiting({ invoice: null })).toEqual(['AWAITING_INVOICE']);
    expect(waiting({ lateUnbilled: { count: 2, billedWithPeriod: null, subscriptionEnded: false } })).toEqual([
      'AWAITING_NEXT_SUMMARY',
    ]);
    expect(
      waiting({ lateUnbilled: { count: 2, billedWithPeriod: '2025-04-01T00:00:00.000Z', subscriptionEnded: false } }),
    ).toEqual(['AWAITING_INVOICE']);
    expect(waiting({ lateUnbilled: { count: 2, billedWithPeriod: null, subscriptionEnded: true } })).toEqual([
      'SUBSCRIPTION_ENDED',
    ]);
    expect(reconcile(lined({ invoice: null })).differences).toEqual([]);
  });

  it('takes an issued invoice without a line for the metric for a difference, not a wait', () => {
    const { differences, waiting } = reconcile(lined({ invoice: { number: 'INV-000001', line: null } }));
    expect([differences.map((d) => d.code), waiting]).toEqual([['INVOICE_QUANTITY_MISMATCH'], []]);
  });
});
