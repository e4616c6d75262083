// Invoice generation on real Kafka and Postgres: one invoice per subscription and period however
// often (and under whichever id) its summary is delivered, the reference scenario's $120 on the
// invoices topic, invoices waiting for a plan version published later, late usage billed on the
// next invoice, the database refusing to change an invoice, external payments, the renderings,
// listing, roles and tenancy.
import { BILLING_ROUTES } from '@usageflow/contracts';
import { waitFor } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { APRIL, lateOf, MARCH, PRO_V1, startBilling, subscriptionCreated, summaryOf, type Billing } from './harness';
import { BASE_LINE, USAGE_LINE } from './reference-invoice';

let b: Billing;
beforeAll(async () => {
  b = await startBilling();
});
afterAll(() => b?.stop());

/** A fresh organization with the reference plan and metric, and one subscription of user_123. */
async function subscribed(customerId = 'user_123') {
  const org = randomUUID();
  const subscriptionId = randomUUID();
  await b.publish('metric.created', b.topics.catalog, org, {
    key: 'API_CALL',
    name: 'API calls',
    unit: 'calls',
    aggregation: 'SUM',
  });
  await b.publish('plan.created', b.topics.catalog, org, PRO_V1);
  await b.publish('customer.created', b.topics.catalog, org, {
    customerId,
    name: 'User <b>123</b>',
    email: 'billing@user123.example',
  });
  await b.publish('subscription.created', b.topics.subscriptions, org, subscriptionCreated(subscriptionId, customerId));
  return { org, subscriptionId, token: await b.tokenFor(org, 'ADMIN'), customerId };
}

const invoicesOf = (subscriptionId: string) => b.db('invoices').where({ subscription_id: subscriptionId });

async function invoiced(subscriptionId: string, count = 1) {
  return waitFor(`${count} invoice(s) of ${subscriptionId}`, async () => {
    const rows = await invoicesOf(subscriptionId).orderBy('period_start');
    return rows.length >= count && rows;
  });
}

describe('invoice generation', () => {
  it('the reference scenario: 12,000 calls in March give one $120.00 invoice, even when the summary arrives twice', async () => {
    const { org, subscriptionId, token } = await subscribed();
    const summaryId = randomUUID();
    await b.publish('usage.period_summarized', b.topics.summaries, org, summaryOf(subscriptionId, 12_000), summaryId);
    await b.publish('usage.period_summarized', b.topics.summaries, org, summaryOf(subscriptionId, 12_000), summaryId);
    // a second summary of the same period under another id (a producer bug) is not a second invoice
    const extra = await b.publish(
      'usage.period_summarized',
      b.topics.summaries,
      org,
      summaryOf(subscriptionId, 99_999),
    );
    const [row] = await invoiced(subscriptionId);

    const created = await b.invoiceEvents(org, 1, 'invoice.created');
    expect(created).toHaveLength(1);
    const data = created[0]!.data as Record<string, unknown>;
    expect(data).toMatchObject({
      invoiceId: row.id,
      number: 'INV-000001',
      subscriptionId,
      customerId: 'user_123',
      planCode: 'pro',
      planVersion: 1,
      period: MARCH,
      currency: 'USD',
      amountCents: 12000,
      amount: 120,
      // the reference invoice's lines as the event carries them (no position, no source)
      lines: [BASE_LINE, USAGE_LINE].map(({ position: _position, source: _source, ...line }) => line),
    });
    expect(created[0]!.producer).toBe('billing');
    // The other summary was consumed and skipped: still one invoice, the first summary's.
    await waitFor('the extra summary to be consumed', () => b.db('inbox').where({ event_id: extra.id }).first());
    expect(await b.db('usage_summaries').where({ subscription_id: subscriptionId }).pluck('event_id')).toEqual([
      summaryId,
    ]);
    expect(await invoicesOf(subscriptionId)).toHaveLength(1);

    const got = await b.api('GET', `/v1/invoices/${row.id}`, { token });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: row.id, status: 'PENDING', amountCents: 12000, amount: 120, payments: [] });
    // each line keeps what it was computed from
    expect(got.body.lines[1]).toMatchObject({
      position: 2,
      quantity: '12000',
      source: { summaryEventId: summaryId, aggregation: 'SUM', eventCount: 12000, planVersion: 1 },
    });
  });

  it('a summary that arrives before its plan version is invoiced once the plan is published', async () => {
    const org = randomUUID();
    const subscriptionId = randomUUID();
    await b.publish('subscription.created', b.topics.subscriptions, org, subscriptionCreated(subscriptionId));
    await b.publish('usage.period_summarized', b.topics.summaries, org, summaryOf(subscriptionId, 500));
    await waitFor('the summary to be stored', () =>
      b.db('usage_summaries').where({ subscription_id: subscriptionId }).first(),
    );
    expect(await invoicesOf(subscriptionId)).toHaveLength(0);

    await b.publish('plan.created', b.topics.catalog, org, PRO_V1);
    const [row] = await invoiced(subscriptionId);
    expect([row.number, row.amount_cents]).toEqual(['INV-000001', '10000']);
  });

  it('a summary that cannot be invoiced is set aside with its reason, without holding up or numbering the others', async () => {
    const { org, subscriptionId } = await subscribed();
    const other = randomUUID();
    await b.publish('subscription.created', b.topics.subscriptions, org, subscriptionCreated(other));
    // first, 10^30 calls: an amount beyond what minor units can hold exactly
    await b.publish('usage.period_summarized', b.topics.summaries, org, {
      ...summaryOf(other, 0, MARCH),
      metrics: [{ metricKey: 'API_CALL', aggregation: 'SUM', quantity: `1${'0'.repeat(30)}`, eventCount: 1 }],
    });
    const valid = await b.publish(
      'usage.period_summarized',
      b.topics.summaries,
      org,
      summaryOf(subscriptionId, 0, MARCH),
    );
    const [row] = await invoiced(subscriptionId);
    const aside = await waitFor('the summary to be set aside', async () => {
      const r = await b.db('usage_summaries').where({ subscription_id: other }).first();
      return r?.unbillable_reason && r;
    });
    expect(aside.unbillable_reason).toMatch(/not a billable amount/);
    expect(await invoicesOf(other)).toEqual([]);
    expect([row.number, row.summary_event_id]).toEqual(['INV-000001', valid.id]);
  });

  it('late usage of March is billed on the April invoice as its own line, priced as if on time', async () => {
    const { org, subscriptionId, token } = await subscribed();
    await b.publish('usage.period_summarized', b.topics.summaries, org, summaryOf(subscriptionId, 9_998));
    await invoiced(subscriptionId);
    // 5 late calls: 2 still within March's allowance (9,998 of 10,000 billed), 3 beyond it
    for (const quantity of ['2', '3']) {
      await b.publish(
        'usage.late_recorded',
        b.topics.summaries,
        org,
        lateOf(subscriptionId, quantity, '2025-04-02T08:00:00.000Z'),
      );
    }
    await waitFor(
      'the late records',
      async () => (await b.db('late_usage').where({ subscription_id: subscriptionId })).length === 2,
    );
    await b.publish('usage.period_summarized', b.topics.summaries, org, summaryOf(subscriptionId, 100, APRIL));
    const [, april] = await invoiced(subscriptionId, 2);

    const body = (await b.api('GET', `/v1/invoices/${april.id}`, { token })).body;
    expect(body.lines.map((l: { kind: string }) => l.kind)).toEqual(['base', 'usage', 'late_usage']);
    expect(body.lines[2]).toMatchObject({
      description: 'API calls (late, March 2025)',
      period: MARCH,
      quantity: '5',
      includedUnits: '2',
      billableUnits: '3',
      preciseAmount: '0.03',
      amountCents: 3,
      source: { eventCount: 5, planVersion: 1 },
    });
    expect(body.lines[2].source.lateRecordEventIds).toHaveLength(2);
    expect([body.number, body.amountCents]).toEqual(['INV-000002', 10003]);
    const linked = await b.db('late_usage').where({ subscription_id: subscriptionId }).pluck('invoice_id');
    expect(linked).toEqual([april.id, april.id]);

    // A later late record of March bills against what March was billed so far (10,003 calls).
    await b.publish(
      'usage.late_recorded',
      b.topics.summaries,
      org,
      lateOf(subscriptionId, '1', '2025-05-02T08:00:00.000Z'),
    );
    await waitFor(
      'the third late record',
      async () => (await b.db('late_usage').where({ subscription_id: subscriptionId })).length === 3,
    );
    const may = { start: APRIL.end, end: '2025-06-01T00:00:00.000Z' };
    await b.publish('usage.period_summarized', b.topics.summaries, org, summaryOf(subscriptionId, 0, may));
    const [, , mayRow] = await invoiced(subscriptionId, 3);
    const mayBody = (await b.api('GET', `/v1/invoices/${mayRow.id}`, { token })).body;
    expect(mayBody.lines[2]).toMatchObject({ quantity: '1', includedUnits: '0', billableUnits: '1', amountCents: 1 });
  });
});

describe('projections', () => {
  it('a test clock only moves forward, whatever order its advances arrive in, and a redelivery changes nothing', async () => {
    const org = randomUUID();
    const testClockId = randomUUID();
    await b.publish('test_clock.created', b.topics.subscriptions, org, {
      testClockId,
      frozenTime: '2025-03-01T00:00:00.000Z',
    });
    const later = await b.publish('test_clock.advanced', b.topics.subscriptions, org, {
      testClockId,
      from: '2025-03-01T00:00:00.000Z',
      to: '2025-04-10T00:00:00.000Z',
    });
    // an older advance delivered late, and the later one again
    const stale = await b.publish('test_clock.advanced', b.topics.subscriptions, org, {
      testClockId,
      from: '2025-03-01T00:00:00.000Z',
      to: '2025-04-01T00:00:00.000Z',
    });
    await b.publish('test_clock.advanced', b.topics.subscriptions, org, later.data, later.id);
    await waitFor('the stale advance to be consumed', () => b.db('inbox').where({ event_id: stale.id }).first());
    const clock = await b.db('test_clocks').where({ id: testClockId }).first();
    expect(clock.frozen_time.toISOString()).toBe('2025-04-10T00:00:00.000Z');
    expect(await b.db('inbox').where({ event_id: later.id })).toHaveLength(1);
  });
});

describe('immutability', () => {
  it('the database refuses to change an invoice amount, its lines, its status backwards or when it was paid, and to delete it', async () => {
    const { org, subscriptionId } = await subscribed();
    await b.publish('usage.period_summarized', b.topics.summaries, org, summaryOf(subscriptionId, 12_000));
    const [row] = await invoiced(subscriptionId);
    await expect(b.db.raw('update invoices set amount_cents = 1 where id = ?', [row.id])).rejects.toThrow(
      /INVOICE_IMMUTABLE/,
    );
    await expect(
      b.db.raw(`update invoice_lines set amount_cents = 0, quantity = 0 where invoice_id = ?`, [row.id]),
    ).rejects.toThrow(/INVOICE_IMMUTABLE/);
    await expect(b.db.raw('delete from invoice_lines where invoice_id = ?', [row.id])).rejects.toThrow(
      /INVOICE_IMMUTABLE/,
    );
    await expect(b.db.raw('delete from invoices where id = ?', [row.id])).rejects.toThrow(/INVOICE_IMMUTABLE/);
    await expect(b.db.raw(`update invoices set status = 'PENDING' where id = ?`, [row.id])).resolves.toBeDefined();
    await b.db.raw(`update invoices set status = 'PAID', paid_at = now() where id = ?`, [row.id]);
    await expect(b.db.raw(`update invoices set status = 'PENDING' where id = ?`, [row.id])).rejects.toThrow(
      /INVOICE_STATUS_TRANSITION/,
    );
    await expect(b.db.raw(`update invoices set status = 'FAILED' where id = ?`, [row.id])).rejects.toThrow(
      /INVOICE_STATUS_TRANSITION/,
    );
    await expect(
      b.db.raw(`update invoices set paid_at = paid_at - interval '1 day' where id = ?`, [row.id]),
    ).rejects.toThrow(/INVOICE_IMMUTABLE/);
    await expect(b.db.raw(`update invoices set paid_at = null where id = ?`, [row.id])).rejects.toThrow(
      /INVOICE_IMMUTABLE/,
    );
    const after = await b.db('invoices').where({ id: row.id }).first();
    expect([after.amount_cents, after.status]).toEqual(['12000', 'PAID']);
    expect(await b.db('invoice_lines').where({ invoice_id: row.id }).sum('amount_cents as total').first()).toEqual({
      total: '12000',
    });
  });
});

describe('payments reported by the organization', () => {
  it('an external payment marks the invoice PAID and publishes payment.attempted and invoice.paid, once per reference', async () => {
    const { org, subscriptionId, token } = await subscribed();
    await b.publish('usage.period_summarized', b.topics.summaries, org, summaryOf(subscriptionId, 12_000));
    const [row] = await invoiced(subscriptionId);
    const body = {
      reference: 'wire-2025-0042',
      amountCents: 12000,
      currency: 'USD',
      paidAt: '2025-04-09T10:00:00.000Z',
    };

    const wrong = await b.api('POST', `/v1/invoices/${row.id}/payments`, {
      token,
      body: { ...body, amountCents: 11999 },
    });
    expect([wrong.status, wrong.body.code]).toEqual([422, 'PAYMENT_AMOUNT_MISMATCH']);
    const viewer = await b.api('POST', `/v1/invoices/${row.id}/payments`, {
      token: await b.tokenFor(org, 'VIEWER'),
      body,
    });
    expect(viewer.status).toBe(403);
    const stranger = await b.api('POST', `/v1/invoices/${row.id}/payments`, {
      token: await b.tokenFor(randomUUID(), 'OWNER'),
      body,
    });
    expect([stranger.status, stranger.body.code]).toEqual([404, 'INVOICE_NOT_FOUND']);

    const paid = await b.api('POST', `/v1/invoices/${row.id}/payments`, { token, body });
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ status: 'PAID', paidAt: '2025-04-09T10:00:00.000Z', paymentAttempts: 1 });
    expect(paid.body.payments).toEqual([
      expect.objectContaining({ attempt: 1, provider: 'external', outcome: 'succeeded', reference: 'wire-2025-0042' }),
    ]);
    // the same report again (a retry of the organization's system) records nothing new
    const again = await b.api('POST', `/v1/invoices/${row.id}/payments`, { token, body });
    expect([again.status, again.body.payments.length]).toEqual([200, 1]);
    const other = await b.api('POST', `/v1/invoices/${row.id}/payments`, {
      token,
      body: { ...body, reference: 'wire-2' },
    });
    expect([other.status, other.body.code]).toEqual([409, 'INVOICE_ALREADY_PAID']);

    const events = await b.invoiceEvents(org, 3);
    expect(events.map((e) => e.type)).toEqual(['invoice.created', 'payment.attempted', 'invoice.paid']);
    expect(events[2]!.data).toEqual({
      invoiceId: row.id,
      subscriptionId,
      customerId: 'user_123',
      paymentId: paid.body.payments[0].id,
      currency: 'USD',
      amountCents: 12000,
      amount: 120,
      paidAt: '2025-04-09T10:00:00.000Z',
    });
  });

  it('an API key with billing:manage may report a payment; one with billing:read only may not', async () => {
    const { org, subscriptionId } = await subscribed();
    await b.publish('usage.period_summarized', b.topics.summaries, org, summaryOf(subscriptionId, 1));
    const [row] = await invoiced(subscriptionId);
    const body = { reference: 'erp-1', amountCents: 10000, currency: 'USD' };
    const reader = await b.apiKeyFor(org, ['billing:read']);
    expect((await b.api('POST', `/v1/invoices/${row.id}/payments`, { apiKey: reader, body })).status).toBe(403);
    const settler = await b.apiKeyFor(org, ['billing:manage']);
    expect((await b.api('POST', `/v1/invoices/${row.id}/payments`, { apiKey: settler, body })).status).toBe(201);
  });
});

describe('the sandbox provider', () => {
  it('charges a customer set to succeed right after issue, and retries one set to error on the schedule', async () => {
    const { org, subscriptionId, token } = await subscribed('cust_ok');
    const failing = await subscribed('cust_err');
    expect(
      (await b.api('PUT', '/v1/payment-sandbox/customers/cust_ok', { token, body: { outcome: 'succeed' } })).status,
    ).toBe(200);
    await b.api('PUT', '/v1/payment-sandbox/customers/cust_err', { token: failing.token, body: { outcome: 'error' } });
    await b.publish(
      'usage.period_summarized',
      b.topics.summaries,
      org,
      summaryOf(subscriptionId, 10, MARCH, 'cust_ok'),
    );
    await b.publish(
      'usage.period_summarized',
      b.topics.summaries,
      failing.org,
      summaryOf(failing.subscriptionId, 10, MARCH, 'cust_err'),
    );

    const paid = await waitFor('the invoice to be paid by the sandbox', async () => {
      const row = await invoicesOf(subscriptionId).first();
      return row?.status === 'PAID' && row;
    });
    const events = await b.invoiceEvents(org, 3);
    expect(events.map((e) => [e.type, (e.data as { provider?: string }).provider])).toEqual([
      ['invoice.created', undefined],
      ['payment.attempted', 'sandbox'],
      ['invoice.paid', undefined],
    ]);
    expect(paid.paid_at.getTime()).toBeGreaterThanOrEqual(paid.issued_at.getTime());

    const erred = await waitFor('the erroring charge', async () => {
      const row = await invoicesOf(failing.subscriptionId).first();
      return row?.payment_attempts === 1 && row;
    });
    const [attempt] = await b.db('payments').where({ invoice_id: erred.id });
    expect([attempt.outcome, attempt.failure_reason]).toEqual(['error', 'processing_error']);
    // the first retry is due a day after the failed charge
    expect([erred.status, erred.next_attempt_at.getTime() - attempt.attempted_at.getTime()]).toEqual([
      'PENDING',
      86_400_000,
    ]);
  });

  it('a retry of an invoice whose customer has no provider is refused; so is a retry of a paid one', async () => {
    const { org, subscriptionId, token } = await subscribed('cust_none');
    await b.publish(
      'usage.period_summarized',
      b.topics.summaries,
      org,
      summaryOf(subscriptionId, 1, MARCH, 'cust_none'),
    );
    const [row] = await invoiced(subscriptionId);
    expect(row.next_attempt_at).toBeNull();
    const refused = await b.api('POST', `/v1/invoices/${row.id}/retry`, { token });
    expect([refused.status, refused.body.code]).toEqual([409, 'NO_PAYMENT_PROVIDER']);
    expect(await b.db('payments').where({ invoice_id: row.id })).toEqual([]);
    await b.api('POST', `/v1/invoices/${row.id}/payments`, {
      token,
      body: { reference: 'cash', amountCents: 10000, currency: 'USD' },
    });
    await b.api('PUT', '/v1/payment-sandbox/customers/cust_none', { token, body: { outcome: 'succeed' } });
    const again = await b.api('POST', `/v1/invoices/${row.id}/retry`, { token });
    expect([again.status, again.body.code]).toEqual([409, 'INVOICE_ALREADY_PAID']);
  });
});

describe('reading invoices', () => {
  it('lists newest first with filters and pages, renders HTML and PDF, and never shows another organization', async () => {
    const { org, token, subscriptionId } = await subscribed('cust_list');
    const second = randomUUID();
    await b.publish('subscription.created', b.topics.subscriptions, org, subscriptionCreated(second, 'cust_list'));
    await b.publish(
      'usage.period_summarized',
      b.topics.summaries,
      org,
      summaryOf(subscriptionId, 12_000, MARCH, 'cust_list'),
    );
    await invoiced(subscriptionId);
    await b.publish('usage.period_summarized', b.topics.summaries, org, summaryOf(second, 10, MARCH, 'cust_list'));
    const [other] = await invoiced(second);

    const page1 = await b.api('GET', '/v1/invoices?limit=1', { token });
    expect(page1.status).toBe(200);
    expect(page1.body.data).toHaveLength(1);
    const page2 = await b.api('GET', `/v1/invoices?limit=1&cursor=${encodeURIComponent(page1.body.nextCursor)}`, {
      token,
    });
    expect([...page1.body.data, ...page2.body.data].map((i: { number: string }) => i.number).sort()).toEqual([
      'INV-000001',
      'INV-000002',
    ]);
    const bySubscription = await b.api('GET', `/v1/invoices?subscriptionId=${second}`, { token });
    expect(bySubscription.body.data.map((i: { id: string }) => i.id)).toEqual([other.id]);
    const paidOnes = await b.api('GET', '/v1/invoices?status=PAID', { token });
    expect(paidOnes.body.data).toEqual([]);
    const inApril = await b.api('GET', `/v1/invoices?periodFrom=${APRIL.start}`, { token });
    expect(inApril.body.data).toEqual([]);
    expect((await b.api('GET', '/v1/invoices?status=LOST', { token })).status).toBe(400);

    await b.publish('organization.created', b.topics.identity, org, { name: 'CloudAI', createdBy: randomUUID() });
    await waitFor('the organization name', () => b.db('organizations').where({ id: org }).first());
    const html = await b.api('GET', `/v1/invoices/${other.id}/html`, { token: await b.tokenFor(org, 'VIEWER') });
    expect(html.status).toBe(200);
    expect(html.text).toContain('CloudAI');
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    expect(html.text).toContain('INV-000002');
    expect(html.text).toContain('User &lt;b&gt;123&lt;/b&gt;');
    const pdf = await b.api('GET', `/v1/invoices/${other.id}/pdf`, { token });
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const stranger = await b.tokenFor(randomUUID(), 'OWNER');
    expect((await b.api('GET', '/v1/invoices', { token: stranger })).body.data).toEqual([]);
    for (const path of [`/v1/invoices/${other.id}`, `/v1/invoices/${other.id}/html`, `/v1/invoices/${other.id}/pdf`]) {
      const res = await b.api('GET', path, { token: stranger });
      expect([path, res.status, res.body?.code]).toEqual([path, 404, 'INVOICE_NOT_FOUND']);
    }
  });
});

describe('the API document', () => {
  it('serves every declared route in its OpenAPI document', async () => {
    const doc = (await b.api('GET', '/openapi.json')).body;
    const operations = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap(
      (item) => Object.values(item).map((op) => op.operationId),
    );
    expect(operations.sort()).toEqual(BILLING_ROUTES.map((r) => r.operationId).sort());
  });
});
