import { ContractViolationError } from './errors';
import { EVENT_CATALOG, EVENT_TYPES } from './event-catalog';
import { currencyMinorDigits, toMajorAmount } from './money';

describe('toMajorAmount', () => {
  it.each([
    [12000, 'USD', 120],
    [10003, 'USD', 100.03],
    [3, 'USD', 0.03],
    [0, 'USD', 0],
    [1, 'EUR', 0.01],
    [500, 'JPY', 500],
    [1234, 'KWD', 1.234],
    [5, 'BHD', 0.005],
    [9007199254740991, 'USD', 90071992547409.91],
  ])('%p minor units of %s is %p', (minor, currency, major) => {
    expect(toMajorAmount(minor, currency)).toBe(major);
  });

  it('is what every catalog example publishes beside amountCents', () => {
    // given every amountCents/amount pair of the examples (totals and invoice lines)
    const pairs: Array<{ amountCents: number; amount: number; currency: string }> = [];
    for (const type of EVENT_TYPES) {
      for (const example of EVENT_CATALOG[type].examples) {
        const data = example.data as { currency?: string; amountCents?: number; amount?: number; lines?: unknown[] };
        if (data.currency === undefined) continue;
        const currency = data.currency;
        for (const item of [data, ...((data.lines ?? []) as Array<typeof data>)]) {
          if (item.amountCents !== undefined && item.amount !== undefined) {
            pairs.push({ amountCents: item.amountCents, amount: item.amount, currency });
          }
        }
      }
    }
    // then each amount is derived from its minor units
    expect(pairs.length).toBeGreaterThan(5);
    for (const { amountCents, amount, currency } of pairs) expect(toMajorAmount(amountCents, currency)).toBe(amount);
  });

  it.each([[-1], [1.5], [Number.NaN]])('refuses %p', (minor) => {
    expect(() => toMajorAmount(minor, 'USD')).toThrow(ContractViolationError);
  });

  it('knows the minor digits of currencies with 0, 2 and 3 of them', () => {
    expect(currencyMinorDigits('JPY')).toBe(0);
    expect(currencyMinorDigits('USD')).toBe(2);
    expect(currencyMinorDigits('KWD')).toBe(3);
  });
});
