import {
  calculateInvoice,
  periodLabel,
  type LateUsageInput,
  type PlanTerms,
  type SummaryInput,
} from './invoice-calculator';
import { preciseAmountText, decimal, roundToMinorUnit } from './money';

const march = { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' };
const april = { start: '2025-04-01T00:00:00.000Z', end: '2025-05-01T00:00:00.000Z' };

const pro: PlanTerms = {
  code: 'pro',
  version: 1,
  name: 'Pro',
  currency: 'USD',
  interval: 'MONTHLY',
  basePrice: '100.00',
  planMetrics: [{ metricKey: 'API_CALL', includedUnits: '10000', overageUnitPrice: '0.01' }],
};

function summary(metrics: Array<[string, string, number?]>, period = march): SummaryInput {
  return {
    eventId: '7d2f0f4e-5a4b-4f55-9a0e-0a8f6f1f2c11',
    fingerprint: 'a'.repeat(64),
    period,
    metrics: metrics.map(([metricKey, quantity, eventCount]) => ({
      metricKey,
      aggregation: 'SUM' as const,
      quantity,
      eventCount: eventCount ?? Number(quantity),
    })),
  };
}

const usageLine = (calc: ReturnType<typeof calculateInvoice>, key: string) =>
  calc.lines.find((l) => l.kind === 'usage' && l.metricKey === key)!;

describe('the invoice calculator', () => {
  it('given the reference scenario (12,000 calls, 10,000 included at $0.01), then $120.00 = $100 + 2,000 x $0.01', () => {
    const calc = calculateInvoice({
      terms: pro,
      summary: summary([['API_CALL', '12000']]),
      metricNames: { API_CALL: 'API calls' },
    });
    expect(calc).toEqual({
      currency: 'USD',
      amountCents: 12000,
      amount: 120,
      lines: [
        {
          kind: 'base',
          description: 'Pro (monthly)',
          preciseAmount: '100.00',
          amountCents: 10000,
          amount: 100,
          source: { summaryEventId: expect.any(String), fingerprint: 'a'.repeat(64), planVersion: 1 },
        },
        {
          kind: 'usage',
          description: 'API calls',
          metricKey: 'API_CALL',
          quantity: '12000',
          includedUnits: '10000',
          billableUnits: '2000',
          unitPrice: '0.01',
          preciseAmount: '20.00',
          amountCents: 2000,
          amount: 20,
          source: {
            summaryEventId: '7d2f0f4e-5a4b-4f55-9a0e-0a8f6f1f2c11',
            fingerprint: 'a'.repeat(64),
            aggregation: 'SUM',
            eventCount: 12000,
            planVersion: 1,
          },
        },
      ],
    });
  });

  it.each([
    ['0', '0', 0],
    ['1', '0', 0],
    ['9999', '0', 0],
    ['10000', '0', 0],
    ['10001', '1', 1],
    ['10000.5', '0.5', 1], // 0.005 rounds half-up to a cent
  ])('given %s calls against a 10,000 allowance, then %s are billable (%d cents)', (quantity, billable, cents) => {
    const line = usageLine(calculateInvoice({ terms: pro, summary: summary([['API_CALL', quantity, 1]]) }), 'API_CALL');
    expect([line.kind === 'usage' && line.billableUnits, line.amountCents]).toEqual([billable, cents]);
  });

  it('given usage below the allowance, then the usage line shows it and charges nothing', () => {
    const calc = calculateInvoice({ terms: pro, summary: summary([['API_CALL', '8000']]) });
    expect(usageLine(calc, 'API_CALL')).toMatchObject({
      quantity: '8000',
      billableUnits: '0',
      preciseAmount: '0.00',
      amountCents: 0,
    });
    expect(calc.amountCents).toBe(10000);
  });

  it('given no usage at all (an empty summary), then a "0" line per plan metric and the base fee', () => {
    const calc = calculateInvoice({ terms: pro, summary: summary([]) });
    expect(calc.lines.map((l) => [l.kind, l.kind === 'usage' ? l.quantity : null, l.amountCents])).toEqual([
      ['base', null, 10000],
      ['usage', '0', 0],
    ]);
    expect(usageLine(calc, 'API_CALL').source.eventCount).toBe(0);
  });

  it('given several metrics, a sub-cent price and a decimal quantity, then each line rounds once and the total is their sum', () => {
    const terms: PlanTerms = {
      ...pro,
      basePrice: '49.99',
      planMetrics: [
        { metricKey: 'API_CALL', includedUnits: '10000', overageUnitPrice: '0.01' },
        { metricKey: 'AI_TOKEN', includedUnits: '0', overageUnitPrice: '0.000002' },
        { metricKey: 'STORAGE_GB', includedUnits: '1.5', overageUnitPrice: '0.125' },
      ],
    };
    const calc = calculateInvoice({
      terms,
      summary: summary([
        ['API_CALL', '10003'],
        ['AI_TOKEN', '1234567'],
        ['STORAGE_GB', '2.5', 40],
      ]),
    });
    expect(calc.lines.map((l) => [l.kind === 'base' ? 'base' : l.metricKey, l.preciseAmount, l.amountCents])).toEqual([
      ['base', '49.99', 4999],
      ['API_CALL', '0.03', 3],
      // 1,234,567 x $0.000002 = $2.469134 -> 247 cents (half-up at the cent)
      ['AI_TOKEN', '2.469134', 247],
      // (2.5 - 1.5) GB x $0.125 = $0.125 -> 13 cents (half-up)
      ['STORAGE_GB', '0.125', 13],
    ]);
    expect(calc.amountCents).toBe(4999 + 3 + 247 + 13);
    expect(calc.amount).toBe(52.62);
  });

  it('given a currency without minor units (JPY), then lines round to whole yen half-up', () => {
    const yen: PlanTerms = {
      ...pro,
      currency: 'JPY',
      basePrice: '1000',
      planMetrics: [{ metricKey: 'API_CALL', includedUnits: '100', overageUnitPrice: '0.5' }],
    };
    const calc = calculateInvoice({ terms: yen, summary: summary([['API_CALL', '105']]) });
    // 5 x ¥0.5 = ¥2.5 -> ¥3
    expect(calc.lines.map((l) => [l.preciseAmount, l.amountCents, l.amount])).toEqual([
      ['1000', 1000, 1000],
      ['2.5', 3, 3],
    ]);
    expect([calc.amountCents, calc.amount]).toEqual([1003, 1003]);
  });

  it('given a currency with three minor digits (KWD), then lines round to the fils', () => {
    const dinar: PlanTerms = {
      ...pro,
      currency: 'KWD',
      basePrice: '30',
      planMetrics: [{ metricKey: 'API_CALL', includedUnits: '0', overageUnitPrice: '0.0025' }],
    };
    const calc = calculateInvoice({ terms: dinar, summary: summary([['API_CALL', '7']]) });
    // 7 x 0.0025 = 0.0175 KWD -> 18 fils
    expect(calc.lines.map((l) => [l.preciseAmount, l.amountCents, l.amount])).toEqual([
      ['30.000', 30000, 30],
      ['0.0175', 18, 0.018],
    ]);
    expect(calc.amount).toBe(30.018);
  });

  describe('late usage', () => {
    const lateMarch = (
      quantity: string,
      billedQuantity: string,
      extra: Partial<LateUsageInput> = {},
    ): LateUsageInput => ({
      period: march,
      terms: pro,
      metricKey: 'API_CALL',
      aggregation: 'SUM',
      quantity,
      eventCount: Number(quantity),
      billedQuantity,
      recordEventIds: ['0b1c7bde-6e93-4cf4-8d3c-1b8b5d7e2a01'],
      ...extra,
    });

    it('given 3 late March calls after March was billed for 12,000, then April carries a late line of $0.03 for March', () => {
      const calc = calculateInvoice({
        terms: pro,
        summary: summary([['API_CALL', '8000']], april),
        late: [lateMarch('3', '12000')],
        metricNames: { API_CALL: 'API calls' },
      });
      expect(calc.lines[2]).toEqual({
        kind: 'late_usage',
        description: 'API calls (late, March 2025)',
        metricKey: 'API_CALL',
        period: march,
        quantity: '3',
        includedUnits: '0',
        billableUnits: '3',
        unitPrice: '0.01',
        preciseAmount: '0.03',
        amountCents: 3,
        amount: 0.03,
        source: {
          aggregation: 'SUM',
          eventCount: 3,
          lateRecordEventIds: ['0b1c7bde-6e93-4cf4-8d3c-1b8b5d7e2a01'],
          planVersion: 1,
        },
      });
      expect([calc.amountCents, calc.amount]).toEqual([10003, 100.03]);
    });

    it('given late usage within what was left of the allowance, then only the units beyond it are charged', () => {
      const calc = calculateInvoice({
        terms: pro,
        summary: summary([['API_CALL', '0']], april),
        late: [lateMarch('500', '9800')],
      });
      expect(calc.lines[2]).toMatchObject({
        quantity: '500',
        includedUnits: '200',
        billableUnits: '300',
        amountCents: 300,
      });
    });

    it('priced with the original period plan version, ordered by period then metric', () => {
      const oldTerms: PlanTerms = {
        ...pro,
        version: 1,
        planMetrics: [{ metricKey: 'API_CALL', includedUnits: '0', overageUnitPrice: '0.02' }],
      };
      const february = { start: '2025-02-01T00:00:00.000Z', end: '2025-03-01T00:00:00.000Z' };
      const calc = calculateInvoice({
        terms: { ...pro, version: 2 },
        summary: summary([], april),
        late: [lateMarch('1', '12000'), lateMarch('2', '5', { period: february, terms: oldTerms })],
      });
      expect(calc.lines.slice(2).map((l) => [l.description, l.amountCents, l.source.planVersion])).toEqual([
        ['API_CALL (late, February 2025)', 4, 1],
        ['API_CALL (late, March 2025)', 1, 1],
      ]);
    });

    it('given late usage of a metric the plan never priced, then it has no line', () => {
      const calc = calculateInvoice({
        terms: pro,
        summary: summary([], april),
        late: [lateMarch('4', '0', { metricKey: 'OTHER' })],
      });
      expect(calc.lines.map((l) => l.kind)).toEqual(['base', 'usage']);
    });
  });
});

describe('money', () => {
  it('rounds half-up once, at the minor unit', () => {
    expect(roundToMinorUnit(decimal('0.005'), 'USD')).toBe(1);
    expect(roundToMinorUnit(decimal('0.0049999'), 'USD')).toBe(0);
    expect(roundToMinorUnit(decimal('2.5'), 'JPY')).toBe(3);
    expect(roundToMinorUnit(decimal('0.0005'), 'KWD')).toBe(1);
  });

  it('shows precise amounts with at least the minor digits, never an exponent', () => {
    expect(preciseAmountText(decimal('20'), 'USD')).toBe('20.00');
    expect(preciseAmountText(decimal('0.0000001'), 'USD')).toBe('0.0000001');
    expect(preciseAmountText(decimal('5'), 'JPY')).toBe('5');
  });

  it('names calendar months and other periods', () => {
    expect(periodLabel(march)).toBe('March 2025');
    expect(periodLabel({ start: '2025-03-15T00:00:00.000Z', end: '2025-04-15T00:00:00.000Z' })).toBe(
      '2025-03-15 to 2025-04-15',
    );
  });
});
