// Which invoice bills a late record, on real Kafka and Postgres: the first whose summary's
// lateRecordsThrough reaches the record's sequence, however many records billing already holds
// when it issues it; a summary waits for the records it counts. The invoicer does not run on its
// own here: each test lets billing read every event first, then issues invoices step by step,
// which is the timing that used to move a late record onto an earlier invoice.
import type { DataOf, DomainEvent } from '@usageflow/contracts';
import { waitFor } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { issuePendingInvoices } from '../src/app/invoicing';
import { APRIL, lateOf, MARCH, PRO_V1, startBilling, subscriptionCreated, summaryOf, type Billing } from './harness';

let b: Billing;
beforeAll(async () => {
  b = await startBilling({ invoicer: false });
});
afterAll(() => b?.stop());

const MAY = { start: APRIL.end, end: '2025-06-01T00:00:00.000Z' };

/** Waits until billing applied `event` (and so everything before it on its partition). */
const applied = (event: DomainEvent) =>
  waitFor(`${event.type} ${event.id} applied`, () => b.db('inbox').where({ event_id: event.id }).first());

/** A fresh organization with the reference plan and metric, and `count` subscriptions of it, applied. */
async function subscribed(count = 1) {
  const org = randomUUID();
  const subscriptionIds = Array.from({ length: count }, () => randomUUID());
  await b.publish('metric.created', b.topics.catalog, org, {
    key: 'API_CALL',
    name: 'API calls',
    unit: 'calls',
    aggregation: 'SUM',
  });
  await applied(await b.publish('plan.created', b.topics.catalog, org, PRO_V1));
  for (const id of subscriptionIds) {
    await applied(await b.publish('subscription.created', b.topics.subscriptions, org, subscriptionCreated(id)));
  }
  return { org, subscriptionIds };
}

const summarized = (org: string, data: DataOf<'usage.period_summarized'>) =>
  b.publish('usage.period_summarized', b.topics.summaries, org, data);
const lateRecorded = (org: string, data: DataOf<'usage.late_recorded'>, id?: string) =>
  b.publish('usage.late_recorded', b.topics.summaries, org, data, id);

/** Issues invoices step by step until the subscription has `count`; returns them by period. */
async function invoicedUpTo(subscriptionId: string, count: number) {
  return waitFor(`${count} invoice(s) of ${subscriptionId}`, async () => {
    await issuePendingInvoices(b.ctx);
    const rows = await b.db('invoices').where({ subscription_id: subscriptionId }).orderBy('period_start');
    return rows.length >= count && rows;
  });
}

const invoiceCount = async (subscriptionId: string) =>
  (await b.db('invoices').where({ subscription_id: subscriptionId })).length;

/** An invoice's late usage lines: quantity, included and billable units, amount in cents. */
async function lateLines(invoiceId: string) {
  const lines = await b.db('invoice_lines').where({ invoice_id: invoiceId, kind: 'late_usage' }).orderBy('position');
  return lines.map((l) => [l.quantity, l.included_units, l.billable_units, l.amount_cents]);
}

/** The invoice each of the subscription's late records was billed on, by quantity. */
async function billedOn(subscriptionId: string) {
  const rows = await b.db('late_usage').where({ subscription_id: subscriptionId }).orderBy('received_seq');
  return rows.map((r) => [r.quantity, r.invoice_id]);
}

describe('which invoice bills a late record', () => {
  it("April's summary with lateRecordsThrough 1 bills late record 1 only, though billing holds 1 and 2; May's (2) bills 2", async () => {
    const { org, subscriptionIds } = await subscribed();
    const [sub] = subscriptionIds as [string];
    await summarized(org, summaryOf(sub, 9_998, MARCH, 'user_123', 0));
    const [march] = await invoicedUpTo(sub, 1);
    // In the order aggregation publishes them: record 1 before April's summary was taken, record
    // 2 after it. Billing reads all of them before it issues April's invoice.
    await lateRecorded(org, lateOf(sub, '2', '2025-04-02T08:00:00.000Z', 1));
    await summarized(org, summaryOf(sub, 100, APRIL, 'user_123', 1));
    await lateRecorded(org, lateOf(sub, '3', '2025-05-02T08:00:00.000Z', 2));
    await applied(await summarized(org, summaryOf(sub, 0, MAY, 'user_123', 2)));

    const [, april, may] = await invoicedUpTo(sub, 3);
    // 2 late calls of March within its allowance (9,998 of 10,000 billed): free on April's invoice
    expect(await lateLines(april.id)).toEqual([['2', '2', '0', '0']]);
    // 3 more on May's, against what March was billed so far (10,000 calls): all beyond it
    expect(await lateLines(may.id)).toEqual([['3', '0', '3', '3']]);
    expect(await billedOn(sub)).toEqual([
      ['2', april.id],
      ['3', may.id],
    ]);
    expect([march.amount_cents, april.amount_cents, may.amount_cents]).toEqual(['10000', '10000', '10003']);
  });

  it('a summary waits until billing holds the late records it counts, without holding up another subscription', async () => {
    const { org, subscriptionIds } = await subscribed(2);
    const [sub, other] = subscriptionIds as [string, string];
    await summarized(org, summaryOf(sub, 9_998, MARCH, 'user_123', 0));
    await invoicedUpTo(sub, 1);
    // April's summary counts 2 late records; billing holds only the first (the second is not
    // applied yet)
    await lateRecorded(org, lateOf(sub, '2', '2025-04-02T08:00:00.000Z', 1));
    await applied(await summarized(org, summaryOf(sub, 100, APRIL, 'user_123', 2)));
    await applied(await summarized(org, summaryOf(other, 10, MARCH, 'user_123', 0)));

    // The other subscription's summary, received after it, is invoiced; April's is not.
    expect(await issuePendingInvoices(b.ctx)).toBe(1);
    expect([await invoiceCount(other), await invoiceCount(sub)]).toEqual([1, 1]);
    expect(await issuePendingInvoices(b.ctx)).toBe(0);
    expect(await invoiceCount(sub)).toBe(1);

    await applied(await lateRecorded(org, lateOf(sub, '3', '2025-04-02T09:00:00.000Z', 2)));
    const [, april] = await invoicedUpTo(sub, 2);
    expect(await lateLines(april.id)).toEqual([['5', '2', '3', '3']]);
    expect(await billedOn(sub)).toEqual([
      ['2', april.id],
      ['3', april.id],
    ]);
  });

  it('records made before sequences existed count toward lateRecordsThrough and are billed as before; a summary without it bills no numbered record', async () => {
    const { org, subscriptionIds } = await subscribed();
    const [sub] = subscriptionIds as [string];
    await summarized(org, summaryOf(sub, 9_998));
    await invoicedUpTo(sub, 1);
    // Before aggregation numbered its late records: a record without sequence and April's summary
    // without lateRecordsThrough. Since (aggregation numbered the first record 1): record 2, and
    // May's summary counting both.
    await lateRecorded(org, lateOf(sub, '2', '2025-04-02T08:00:00.000Z'));
    await summarized(org, summaryOf(sub, 100, APRIL));
    await lateRecorded(org, lateOf(sub, '3', '2025-05-02T08:00:00.000Z', 2));
    await applied(await summarized(org, summaryOf(sub, 0, MAY, 'user_123', 2)));

    const [, april, may] = await invoicedUpTo(sub, 3);
    expect(await lateLines(april.id)).toEqual([['2', '2', '0', '0']]);
    expect(await lateLines(may.id)).toEqual([['3', '0', '3', '3']]);
    expect(await billedOn(sub)).toEqual([
      ['2', april.id],
      ['3', may.id],
    ]);
  });

  it('a second late record of the same sequence, under another id, is ignored', async () => {
    const { org, subscriptionIds } = await subscribed();
    const [sub] = subscriptionIds as [string];
    const first = await lateRecorded(org, lateOf(sub, '2', '2025-04-02T08:00:00.000Z', 1));
    await applied(await lateRecorded(org, lateOf(sub, '7', '2025-04-02T09:00:00.000Z', 1)));
    expect(await b.db('late_usage').where({ subscription_id: sub }).select('event_id', 'quantity')).toEqual([
      { event_id: first.id, quantity: '2' },
    ]);
  });
});
