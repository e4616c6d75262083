import type { InvoiceDetail, InvoiceLineRecord } from '@usageflow/contracts';
import { pdfText, renderInvoicePdf } from './invoice-pdf';
import { DECLINED_PAYMENT, documentOf, INVOICE, TOKENS_LINE, USAGE_LINE } from '../../../test/reference-invoice';

// The reference scenario: INV-000001, plan pro v1, March 2025, 100.00 base + 2,000 billable API calls at 0.01.

const A4_HEIGHT = 841.89;
const MARGIN = 50;

/**
 * The strings an uncompressed PDF draws, one per TJ operator, with the height they are drawn at
 * (PDF user space, from the bottom of the page). pdfkit positions each line with a Tm operator
 * and writes its text as hex strings (`[<494e56> 0 <2d> 15] TJ`), split where kerning moves a
 * glyph; the pieces are joined.
 */
function drawn(pdf: Buffer): { text: string; y: number }[] {
  const operators = pdf.toString('latin1').matchAll(/1 0 0 1 [-\d.]+ ([-\d.]+) Tm[^[]*\[([^\]]*)\] TJ/g);
  return [...operators].map(([, y, parts]) => ({
    y: Number(y),
    text: [...(parts ?? '').matchAll(/<([0-9a-f]*)>/g)]
      .map(([, hex]) => Buffer.from(hex ?? '', 'hex').toString('latin1'))
      .join(''),
  }));
}

const drawnText = (pdf: Buffer): string[] => drawn(pdf).map(({ text }) => text);

function pageCount(pdf: Buffer): number {
  return pdf.toString('latin1').match(/\/Type \/Page\b(?!s)/g)?.length ?? 0;
}

const manyLines = (count: number): InvoiceLineRecord[] =>
  Array.from({ length: count }, (_, i) => ({
    ...USAGE_LINE,
    position: i + 1,
    description: `Metered line ${i + 1}`,
    amountCents: 200,
    preciseAmount: '2.00',
    amount: 2,
  }));

describe('invoice PDF', () => {
  it('given the reference invoice, when rendered, then it is a complete PDF document', async () => {
    const pdf = await renderInvoicePdf(documentOf(INVOICE));

    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
    expect(pageCount(pdf)).toBe(1);
  });

  it('given the same invoice twice, when rendered, then the bytes are identical', async () => {
    const first = await renderInvoicePdf(documentOf(INVOICE));
    const second = await renderInvoicePdf(documentOf(INVOICE));

    expect(first.equals(second)).toBe(true);
  });

  it('given the reference invoice, then its metadata carries the title, issuer and issue date', async () => {
    const text = (await renderInvoicePdf(documentOf(INVOICE))).toString('latin1');

    expect(text).toContain('(Invoice INV-000001)');
    expect(text).toContain('(Cloud AI Inc.)');
    // issuedAt 2025-04-01T00:05:00Z, as both dates: the clock never enters the document
    expect(text.match(/\(D:20250401000500Z\)/g)).toHaveLength(2);
  });

  it('given the reference invoice uncompressed, then the drawn text shows number, lines and total', async () => {
    const text = drawnText(await renderInvoicePdf(documentOf(INVOICE), { compress: false }));

    for (const expected of [
      'Cloud AI Inc.',
      'Invoice INV-000001',
      'Pending',
      'Acme Corp',
      'billing@acme.test',
      'Customer ID cust_42',
      'Mar 1 – Mar 31, 2025'.replace('–', '\x96'), // WinAnsi's en dash
      'Pro (monthly)',
      'API calls',
      'Metric: API calls (per call)',
      '12,000',
      '10,000',
      '2,000',
      'USD 0.01',
      'USD 100.00',
      'USD 20.00',
      'USD 120.00',
      'INV-000001 \xb7 Page 1 of 1',
    ]) {
      expect(text).toContain(expected);
    }
  });

  it('given a sub-cent line uncompressed, then its unit price is drawn exactly', async () => {
    const tokens = TOKENS_LINE;

    const text = drawnText(
      await renderInvoicePdf(documentOf({ ...INVOICE, amountCents: 247, lines: [tokens] }), { compress: false }),
    );

    expect(text).toEqual(expect.arrayContaining(['1,234,567', 'USD 0.000002', 'USD 2.47']));
  });

  it('given 60 lines, when rendered, then they continue on further pages, all drawn inside the page', async () => {
    const invoice = { ...INVOICE, amountCents: 12000, lines: manyLines(60) };
    const pdf = await renderInvoicePdf(documentOf(invoice), { compress: false });
    const text = drawnText(pdf);

    expect(pageCount(pdf)).toBeGreaterThan(1);
    expect(text).toEqual(expect.arrayContaining(['Metered line 1', 'Metered line 60', 'USD 120.00']));
    // the column titles are repeated on every page
    expect(text.filter((t) => t === 'Unit price')).toHaveLength(pageCount(pdf));
    expect(text).toContain(`INV-000001 \xb7 Page ${pageCount(pdf)} of ${pageCount(pdf)}`);
    // body text stays within the margins; only the footer sits in the bottom one
    for (const { text: t, y } of drawn(pdf).filter(({ text: t }) => !t.startsWith('INV-000001 \xb7 Page'))) {
      expect({ t, y: y >= MARGIN && y <= A4_HEIGHT - MARGIN }).toEqual({ t, y: true });
    }
  });

  it('given a failed invoice with attempts, then the failure and the next attempt are drawn', async () => {
    const failed: InvoiceDetail = {
      ...INVOICE,
      status: 'FAILED',
      failedAt: '2025-04-08T00:00:00.000Z',
      paymentAttempts: 1,
      nextPaymentAttemptAt: '2025-04-10T12:30:00.000Z',
      payments: [DECLINED_PAYMENT],
    };
    const text = drawnText(await renderInvoicePdf(documentOf(failed), { compress: false }));

    expect(text).toEqual(
      expect.arrayContaining([
        'Payment failed',
        'Payment failed at',
        'Apr 8, 2025, 00:00 UTC',
        'Next payment attempt',
        'Apr 10, 2025, 12:30 UTC',
        'Declined',
        'card_declined',
      ]),
    );
  });

  it('given characters the built-in fonts lack, then they are drawn as "?" and controls as spaces', () => {
    expect(pdfText('Müller – 5 €')).toBe('Müller – 5 €');
    expect(pdfText('山田 Corp')).toBe('?? Corp');
    expect(pdfText('a\nb\tc')).toBe('a b c');
  });
});
