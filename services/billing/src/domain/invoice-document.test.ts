import type { InvoiceLineRecord } from '@usageflow/contracts';
import {
  formatDate,
  formatDateTime,
  formatMoney,
  formatPeriod,
  formatQuantity,
  formatUnitPrice,
  invoiceView,
  INVOICE_STATUS_LABELS,
} from './invoice-document';
import { documentOf, INVOICE, TOKENS_LINE, USAGE_LINE } from '../../test/reference-invoice';

describe('money', () => {
  it('given USD minor units, then the amount has 2 decimals and thousands separators', () => {
    expect(formatMoney(123450, 'USD')).toBe('USD 1,234.50');
    expect(formatMoney(12000, 'USD')).toBe('USD 120.00');
    expect(formatMoney(123456789012, 'USD')).toBe('USD 1,234,567,890.12');
  });

  it('given JPY (no minor unit), then the amount has no decimals', () => {
    expect(formatMoney(1235, 'JPY')).toBe('JPY 1,235');
    expect(formatMoney(0, 'JPY')).toBe('JPY 0');
  });

  it('given KWD (3 minor digits), then the amount has 3 decimals', () => {
    expect(formatMoney(12345, 'KWD')).toBe('KWD 12.345');
    expect(formatMoney(1234567, 'KWD')).toBe('KWD 1,234.567');
  });

  it('given fewer digits than the minor unit, then the amount is zero-padded', () => {
    expect(formatMoney(0, 'USD')).toBe('USD 0.00');
    expect(formatMoney(1, 'USD')).toBe('USD 0.01');
    expect(formatMoney(5, 'KWD')).toBe('KWD 0.005');
  });

  it('given a negative amount, then the sign follows the currency', () => {
    expect(formatMoney(-150, 'USD')).toBe('USD -1.50');
  });

  it('given a non-integer amount, then it is refused rather than rounded', () => {
    expect(() => formatMoney(12.5, 'USD')).toThrow(RangeError);
    expect(() => formatMoney(Number.NaN, 'USD')).toThrow(RangeError);
  });
});

describe('quantities and prices', () => {
  it('given a decimal string, then the integer part is grouped by thousands and the fraction kept', () => {
    expect(formatQuantity('12000')).toBe('12,000');
    expect(formatQuantity('2.5')).toBe('2.5');
    expect(formatQuantity('1234567')).toBe('1,234,567');
    expect(formatQuantity('999')).toBe('999');
    expect(formatQuantity('0')).toBe('0');
    expect(formatQuantity('1234.000001')).toBe('1,234.000001');
  });

  it('given something that is not a plain decimal, then it is shown unchanged', () => {
    expect(formatQuantity('1e6')).toBe('1e6');
  });

  it('given a sub-cent unit price, then it is shown exactly, never rounded', () => {
    expect(formatUnitPrice('0.000002', 'USD')).toBe('USD 0.000002');
    expect(formatUnitPrice('0.01', 'USD')).toBe('USD 0.01');
    expect(formatUnitPrice('0.5', 'JPY')).toBe('JPY 0.5');
  });
});

describe('dates and periods', () => {
  it('given instants, then dates are formatted in UTC', () => {
    expect(formatDate('2025-03-31T23:59:59.999Z')).toBe('Mar 31, 2025');
    expect(formatDateTime('2025-04-02T09:05:00.000Z')).toBe('Apr 2, 2025, 09:05 UTC');
  });

  it('given a calendar month ending at midnight, then the last day shown is the day before the end', () => {
    expect(formatPeriod({ start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' })).toBe(
      'Mar 1 – Mar 31, 2025',
    );
    expect(formatPeriod({ start: '2024-02-01T00:00:00.000Z', end: '2024-03-01T00:00:00.000Z' })).toBe(
      'Feb 1 – Feb 29, 2024',
    );
  });

  it('given a period across a new year, then both dates carry their year', () => {
    expect(formatPeriod({ start: '2024-12-15T00:00:00.000Z', end: '2025-01-15T00:00:00.000Z' })).toBe(
      'Dec 15, 2024 – Jan 14, 2025',
    );
  });

  it('given an anniversary period ending later in a day, then that day is the last one shown', () => {
    expect(formatPeriod({ start: '2025-03-15T10:00:00.000Z', end: '2025-04-15T10:00:00.000Z' })).toBe(
      'Mar 15 – Apr 15, 2025',
    );
  });

  it('given a one-day period, then a single date is shown', () => {
    expect(formatPeriod({ start: '2025-03-01T00:00:00.000Z', end: '2025-03-02T00:00:00.000Z' })).toBe('Mar 1, 2025');
  });

  it('given an instant that is not a date, then it is refused', () => {
    expect(() => formatDate('not a date')).toThrow(RangeError);
  });
});

describe('invoice view', () => {
  it('given the reference invoice, when viewed, then lines are in position order with usage columns', () => {
    const view = invoiceView(documentOf(INVOICE));

    expect(view.title).toBe('Invoice INV-000001');
    expect(view.total).toBe('USD 120.00');
    expect(view.lines.map((line) => line.description)).toEqual(['Pro (monthly)', 'API calls']);
    expect(view.lines[0]).toMatchObject({ quantity: '', unitPrice: '', amount: 'USD 100.00', notes: [] });
    expect(view.lines[1]).toMatchObject({
      quantity: '12,000',
      included: '10,000',
      billable: '2,000',
      unitPrice: 'USD 0.01',
      amount: 'USD 20.00',
      notes: ['Metric: API calls (per call)'],
    });
    expect(view.facts).toEqual([
      { label: 'Issued', value: 'Apr 1, 2025' },
      { label: 'Due', value: 'Apr 15, 2025' },
      { label: 'Billing period', value: 'Mar 1 – Mar 31, 2025' },
      { label: 'Plan', value: 'pro (version 1)' },
    ]);
    expect(view.payment).toEqual([{ label: 'Amount due', value: 'USD 120.00' }]);
  });

  it('given a sub-cent line, then the price is exact and the unrounded amount is noted', () => {
    const tokens = TOKENS_LINE;
    const [line] = invoiceView(documentOf({ ...INVOICE, lines: [tokens] })).lines;

    expect(line).toMatchObject({ quantity: '1,234,567', unitPrice: 'USD 0.000002', amount: 'USD 2.47' });
    // the metric is unknown to the document (deleted since), so its key stands in for the name
    expect(line?.notes).toEqual(['Metric: TOKENS', 'Exact amount USD 2.469134 before rounding']);
  });

  it('given a late usage line, then the earlier period it bills is noted', () => {
    const late: InvoiceLineRecord = {
      ...USAGE_LINE,
      kind: 'late_usage',
      period: { start: '2025-02-01T00:00:00.000Z', end: '2025-03-01T00:00:00.000Z' },
    };
    const [line] = invoiceView(documentOf({ ...INVOICE, lines: [late] })).lines;

    expect(line?.notes).toContain('Usage of Feb 1 – Feb 28, 2025');
  });

  it('given a paid invoice, then the payment shows when it was paid and nothing is due', () => {
    const view = invoiceView(
      documentOf({
        ...INVOICE,
        status: 'PAID',
        paidAt: '2025-04-02T09:05:00.000Z',
        paymentAttempts: 1,
        payments: [
          {
            id: '00000000-0000-4000-8000-000000000003',
            invoiceId: INVOICE.id,
            attempt: 1,
            provider: 'external',
            outcome: 'succeeded',
            failureReason: null,
            reference: 'wire-778',
            currency: 'USD',
            amountCents: 12000,
            amount: 120,
            attemptedAt: '2025-04-02T09:05:00.000Z',
            nextAttemptAt: null,
          },
        ],
      }),
    );

    expect(view.statusLabel).toBe('Paid');
    expect(view.payment).toEqual([
      { label: 'Paid at', value: 'Apr 2, 2025, 09:05 UTC' },
      { label: 'Payment attempts', value: '1' },
    ]);
    expect(view.attempts).toEqual([
      {
        attempt: '#1',
        attemptedAt: 'Apr 2, 2025, 09:05 UTC',
        outcome: 'Succeeded',
        detail: 'wire-778',
        amount: 'USD 120.00',
      },
    ]);
  });

  it('given every status, then each has a customer-facing label', () => {
    expect(INVOICE_STATUS_LABELS).toEqual({ PENDING: 'Pending', PAID: 'Paid', FAILED: 'Payment failed' });
  });
});
