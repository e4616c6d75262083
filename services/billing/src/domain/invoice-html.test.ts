import type { InvoiceLineRecord } from '@usageflow/contracts';
import { escapeHtml, renderInvoiceHtml } from './invoice-html';
import {
  BASE_LINE,
  DECLINED_PAYMENT,
  documentOf,
  INVOICE,
  TOKENS_LINE,
  USAGE_LINE,
} from '../../test/reference-invoice';

// The reference scenario: INV-000001, plan pro v1, March 2025, 100.00 base + 2,000 billable API calls at 0.01.

const HOSTILE = '<script>alert("pwned")</script>';
const HOSTILE_ESCAPED = '&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;';

describe('invoice HTML', () => {
  it('given the reference invoice, when rendered, then it is a complete UTF-8 page titled with the number', () => {
    const page = renderInvoiceHtml(documentOf(INVOICE));

    expect(page.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(page).toContain('<meta charset="utf-8">');
    expect(page).toContain('<title>Invoice INV-000001</title>');
    expect(page.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('given the reference invoice, when rendered, then it shows issuer, customer, dates, lines and total', () => {
    const page = renderInvoiceHtml(documentOf(INVOICE));

    for (const text of [
      'Cloud AI Inc.',
      'Invoice INV-000001',
      'Pending',
      'Acme Corp',
      'billing@acme.test',
      'Customer ID cust_42',
      '<dt>Issued</dt><dd>Apr 1, 2025</dd>',
      '<dt>Due</dt><dd>Apr 15, 2025</dd>',
      '<dt>Billing period</dt><dd>Mar 1 – Mar 31, 2025</dd>',
      'Pro (monthly)',
      '<td class="num">12,000</td>',
      '<td class="num">10,000</td>',
      '<td class="num">2,000</td>',
      '<td class="num">USD 0.01</td>',
      '<td class="num">USD 100.00</td>',
      '<td class="num">USD 20.00</td>',
      '<td class="num">USD 120.00</td>',
      '<dt>Amount due</dt><dd>USD 120.00</dd>',
    ]) {
      expect(page).toContain(text);
    }
  });

  it('given the reference invoice, when rendered, then the page has no script and loads nothing', () => {
    const page = renderInvoiceHtml(documentOf(INVOICE));

    expect(page).not.toMatch(/<script|<link|<img|<iframe|\ssrc=|\shref=|url\(|@import|https?:/i);
    // the policy passes through the escaping like every value; attribute values are entity-decoded
    expect(page).toContain(`content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:"`);
  });

  it('given hostile names and descriptions, when rendered, then every one is escaped', () => {
    const hostileLine: InvoiceLineRecord = { ...USAGE_LINE, description: HOSTILE };
    const page = renderInvoiceHtml(
      documentOf(
        { ...INVOICE, lines: [BASE_LINE, hostileLine], customerId: `c"'&<` },
        {
          organization: { name: HOSTILE },
          customer: { customerId: `c"'&<`, name: HOSTILE, email: `${HOSTILE}@x.test` },
          metrics: { API_CALL: { name: HOSTILE, unit: '<b>' } },
        },
      ),
    );

    expect(page).not.toContain('<script');
    expect(page).not.toContain('<b>');
    // issuer, customer name, email, line description, metric name
    expect(page.split(HOSTILE_ESCAPED)).toHaveLength(6);
    expect(page).toContain('Customer ID c&quot;&#39;&amp;&lt;');
  });

  it('given a sub-cent usage line, then its unit price is shown exactly', () => {
    const tokens = TOKENS_LINE;
    const page = renderInvoiceHtml(documentOf({ ...INVOICE, amountCents: 247, amount: 2.47, lines: [tokens] }));

    expect(page).toContain('<td class="num">USD 0.000002</td>');
    expect(page).toContain('<td class="num">1,234,567</td>');
    expect(page).toContain('<td class="num">USD 2.47</td>');
    expect(page).toContain('Exact amount USD 2.469134 before rounding');
  });

  it('given a late usage line, then the earlier period it bills is shown', () => {
    const late: InvoiceLineRecord = {
      ...USAGE_LINE,
      position: 3,
      kind: 'late_usage',
      description: 'API calls (late)',
      period: { start: '2025-02-01T00:00:00.000Z', end: '2025-03-01T00:00:00.000Z' },
    };
    const page = renderInvoiceHtml(documentOf({ ...INVOICE, lines: [BASE_LINE, USAGE_LINE, late] }));

    expect(page).toContain('API calls (late)<span class="note">Metric: API calls (per call)</span>');
    expect(page).toContain('<span class="note">Usage of Feb 1 – Feb 28, 2025</span>');
  });

  it('given a failed invoice with a retry scheduled, then the failure, the next attempt and the attempts are shown', () => {
    const page = renderInvoiceHtml(
      documentOf({
        ...INVOICE,
        status: 'FAILED',
        failedAt: '2025-04-08T00:00:00.000Z',
        paymentAttempts: 1,
        nextPaymentAttemptAt: '2025-04-10T12:30:00.000Z',
        payments: [DECLINED_PAYMENT],
      }),
    );

    expect(page).toContain('<span class="status status-FAILED">Payment failed</span>');
    expect(page).toContain('<dt>Payment failed at</dt><dd>Apr 8, 2025, 00:00 UTC</dd>');
    expect(page).toContain('<dt>Next payment attempt</dt><dd>Apr 10, 2025, 12:30 UTC</dd>');
    expect(page).toContain('<td class="description">Declined</td>');
    expect(page).toContain('<td class="description">card_declined</td>');
  });

  it('given a paid invoice, then when it was paid is shown and nothing is due', () => {
    const page = renderInvoiceHtml(documentOf({ ...INVOICE, status: 'PAID', paidAt: '2025-04-02T09:05:00.000Z' }));

    expect(page).toContain('<dt>Paid at</dt><dd>Apr 2, 2025, 09:05 UTC</dd>');
    expect(page).not.toContain('Amount due');
  });

  it('given JPY and KWD invoices, then amounts use the currency minor digits', () => {
    const jpy = renderInvoiceHtml(
      documentOf({ ...INVOICE, currency: 'JPY', amountCents: 1235, lines: [{ ...BASE_LINE, amountCents: 1235 }] }),
    );
    const kwd = renderInvoiceHtml(
      documentOf({ ...INVOICE, currency: 'KWD', amountCents: 12345, lines: [{ ...BASE_LINE, amountCents: 12345 }] }),
    );

    expect(jpy).toContain('<td class="num">JPY 1,235</td>');
    expect(kwd).toContain('<td class="num">KWD 12.345</td>');
  });

  it('given no issuer name and an anonymous customer, then only the customer id is shown', () => {
    const page = renderInvoiceHtml(
      documentOf(INVOICE, {
        organization: { name: null },
        customer: { customerId: 'cust_42', name: null, email: null },
      }),
    );

    expect(page).not.toContain('class="issuer"');
    expect(page).not.toContain('<strong>');
    expect(page).toContain('Customer ID cust_42');
  });

  it('given every character HTML gives a meaning, then each is escaped', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});
