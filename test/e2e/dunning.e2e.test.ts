// Dunning end to end through the topics, on real Kafka and Postgres: the subscription service
// (catalog, a subscription on a test clock) and the billing service run side by side, talking only
// through Kafka. A March summary (as aggregation publishes it) becomes a $120 invoice; the sandbox
// declines every charge; advancing the test clock replays the retries of the schedule (1, 3, 5
// days) at their own times; the last decline fails the invoice, invoice.failed reaches the
// subscription service, and it suspends the subscription. A later successful retry pays the
// FAILED invoice, and the subscription service reactivates the subscription.
import { TOPICS } from '@usageflow/contracts';
import { waitFor } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { startBilling, summaryOf, type Billing } from '../../services/billing/test/harness';
import { PRO_PLAN, startSubscription, type Subscription } from '../../services/subscription/test/harness';

let s: Subscription;
let b: Billing;
beforeAll(async () => {
  s = await startSubscription();
  b = await startBilling({
    topics: { catalog: TOPICS.catalog, subscriptions: TOPICS.subscriptions, invoices: s.invoicesTopic },
    config: { dunningScheduleMs: [1, 3, 5].map((days) => days * 86_400_000) },
  });
});
afterAll(async () => {
  await b?.stop();
  await s?.stop();
});

it('a declined customer is retried after 1, 3 and 5 days of test-clock time, then FAILED and suspended; paying reactivates', async () => {
  const org = randomUUID();
  const sub = await s.tokenFor(org, 'ADMIN');
  const bill = await b.tokenFor(org, 'ADMIN');
  await s.api('POST', '/v1/metrics', { token: sub, body: { key: 'API_CALL', name: 'API calls', unit: 'calls' } });
  await s.api('POST', '/v1/plans', { token: sub, body: PRO_PLAN });
  const clock = await s.api('POST', '/v1/test-clocks', {
    token: sub,
    body: { frozenTime: '2025-03-01T00:00:00.000Z' },
  });
  const testClockId = clock.body.id as string;
  await s.api('POST', '/v1/customers', { token: sub, body: { customerId: 'user_123', name: 'User 123', testClockId } });
  const created = await s.api('POST', '/v1/subscriptions', {
    token: sub,
    body: { customerId: 'user_123', planCode: 'pro' },
  });
  expect(created.status).toBe(201);
  const subscriptionId = created.body.id as string;
  const sandbox = await b.api('PUT', '/v1/payment-sandbox/customers/user_123', {
    token: bill,
    body: { outcome: 'decline', failureReason: 'card_declined' },
  });
  expect([sandbox.status, sandbox.body.outcome]).toEqual([200, 'decline']);

  // March ends (and its grace hour passes) on the test clock
  const advance = (frozenTime: string) =>
    s.api('POST', `/v1/test-clocks/${testClockId}/advance`, { token: sub, body: { frozenTime } });
  expect((await advance('2025-04-01T02:00:00.000Z')).status).toBe(200);
  // NOTE: billing replays the real subscriptions topic from offset 0 (its group is new), which on a
  // long-lived local broker may hold a lot of history: allow minutes, not seconds.
  await waitFor(
    'billing to see the subscription on its test clock at April 1st, 02:00',
    async () => {
      const row = await b
        .db('subscriptions')
        .join('test_clocks', 'test_clocks.id', 'subscriptions.test_clock_id')
        .where('subscriptions.id', subscriptionId)
        .first('frozen_time');
      return row?.frozen_time?.toISOString() === '2025-04-01T02:00:00.000Z';
    },
    { timeoutMs: 170_000 },
  );
  // aggregation's part: March's usage summarized
  await b.publish('usage.period_summarized', b.topics.summaries, org, summaryOf(subscriptionId, 12_000));

  const invoice = await waitFor('the invoice and its first (declined) charge', async () => {
    const row = await b.db('invoices').where({ subscription_id: subscriptionId }).first();
    return row?.payment_attempts === 1 && row;
  });
  expect([invoice.amount_cents, invoice.status, invoice.issued_at.toISOString()]).toEqual([
    '12000',
    'PENDING',
    '2025-04-01T02:00:00.000Z',
  ]);

  // ten days later on the test clock: the three retries happen, each at its own time
  await advance('2025-04-11T00:00:00.000Z');
  const failed = await waitFor('the invoice to fail', async () => {
    const row = await b.db('invoices').where({ id: invoice.id }).first();
    return row?.status === 'FAILED' && row;
  });
  expect(failed.failed_at.toISOString()).toBe('2025-04-10T02:00:00.000Z');
  const detail = (await b.api('GET', `/v1/invoices/${invoice.id}`, { token: bill })).body;
  expect(
    detail.payments.map((p: Record<string, unknown>) => [p.attempt, p.outcome, p.attemptedAt, p.nextAttemptAt]),
  ).toEqual([
    [1, 'declined', '2025-04-01T02:00:00.000Z', '2025-04-02T02:00:00.000Z'],
    [2, 'declined', '2025-04-02T02:00:00.000Z', '2025-04-05T02:00:00.000Z'],
    [3, 'declined', '2025-04-05T02:00:00.000Z', '2025-04-10T02:00:00.000Z'],
    [4, 'declined', '2025-04-10T02:00:00.000Z', null],
  ]);

  const events = await b.invoiceEvents(org, 6);
  expect(events.map((e) => e.type)).toEqual([
    'invoice.created',
    'payment.attempted',
    'payment.attempted',
    'payment.attempted',
    'payment.attempted',
    'invoice.failed',
  ]);
  expect(events[5]!.data).toMatchObject({ invoiceId: invoice.id, reason: 'card_declined', attempts: 4 });

  // the subscription service read invoice.failed from the invoices topic and suspended
  await waitFor('the subscription to be suspended', async () => {
    const res = await s.api('GET', `/v1/subscriptions/${subscriptionId}`, { token: sub });
    return res.body.status === 'SUSPENDED';
  });
  const suspended = (await s.db('outbox').where({ key: subscriptionId }).orderBy('seq'))
    .map((r) => r.payload)
    .filter((e) => e.type === 'subscription.suspended');
  expect(suspended.map((e) => e.data)).toEqual([
    {
      subscriptionId,
      customerId: 'user_123',
      reason: 'PAYMENT_FAILED',
      invoiceId: invoice.id,
      effectiveAt: '2025-04-10T02:00:00.000Z',
    },
  ]);

  // the customer fixes their card: a manual retry pays the FAILED invoice
  await b.api('PUT', '/v1/payment-sandbox/customers/user_123', { token: bill, body: { outcome: 'succeed' } });
  const retried = await b.api('POST', `/v1/invoices/${invoice.id}/retry`, { token: bill });
  expect([retried.status, retried.body.status, retried.body.paidAt]).toEqual([200, 'PAID', '2025-04-11T00:00:00.000Z']);
  const paid = await b.invoiceEvents(org, 1, 'invoice.paid');
  expect(paid[0]!.data).toMatchObject({ invoiceId: invoice.id, amountCents: 12000, amount: 120 });
  const again = await b.api('POST', `/v1/invoices/${invoice.id}/retry`, { token: bill });
  expect([again.status, again.body.code]).toEqual([409, 'INVOICE_ALREADY_PAID']);
  // ...and invoice.paid reactivates the subscription its failure suspended
  await waitFor('the subscription to be active again', async () => {
    const res = await s.api('GET', `/v1/subscriptions/${subscriptionId}`, { token: sub });
    return res.body.status === 'ACTIVE';
  });
  const reactivated = (await s.db('outbox').where({ key: subscriptionId }).orderBy('seq'))
    .map((r) => r.payload)
    .filter((e) => e.type === 'subscription.reactivated');
  expect(reactivated.map((e) => e.data)).toEqual([
    {
      subscriptionId,
      customerId: 'user_123',
      reason: 'PAYMENT_SUCCEEDED',
      invoiceId: invoice.id,
      effectiveAt: '2025-04-11T00:00:00.000Z',
    },
  ]);
});
