// Invoice numbers under concurrent generation on real Postgres: several invoicers issue the same
// organizations' invoices at once, in small batches, while some of their transactions fail
// half-way (after the numbers were taken). Every organization's numbers still run 1..N with no
// gap and no repeat, and every summary has exactly one invoice.
import { waitFor } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { invoiceIdOf, issuePendingInvoices } from '../src/app/invoicing';
import { MARCH, PRO_V1, startBilling, subscriptionCreated, summaryOf, type Billing } from './harness';

let b: Billing;
beforeAll(async () => {
  b = await startBilling({ invoicer: false, config: { batchSize: 7 } });
});
afterAll(() => b?.stop());

const FAILURES = 12;

it('invoice numbers are gap-free per organization under concurrent generation with failing transactions', async () => {
  const orgs = [
    { id: randomUUID(), subscriptions: 120 },
    { id: randomUUID(), subscriptions: 60 },
  ];
  const all: Array<{ org: string; subscriptionId: string }> = [];
  for (const { id, subscriptions } of orgs) {
    await b.publish('plan.created', b.topics.catalog, id, PRO_V1);
    for (let i = 0; i < subscriptions; i++) {
      const subscriptionId = randomUUID();
      all.push({ org: id, subscriptionId });
      await b.publish('subscription.created', b.topics.subscriptions, id, subscriptionCreated(subscriptionId, `c${i}`));
      await b.publish(
        'usage.period_summarized',
        b.topics.summaries,
        id,
        summaryOf(subscriptionId, 10_000 + i, MARCH, `c${i}`),
      );
    }
  }
  await waitFor(
    'every summary, subscription and plan projected',
    async () => {
      const [s, sub, p] = await Promise.all(
        ['usage_summaries', 'subscriptions', 'plan_versions'].map(async (t) =>
          Number((await b.db(t).count('* as n').first())!.n),
        ),
      );
      return s === all.length && sub === all.length && p === orgs.length;
    },
    { timeoutMs: 60_000 },
  );

  // Every 10th invoice's lines fail to insert, FAILURES times in all: those transactions roll
  // back after taking their numbers (a sequence, unlike a table, does not roll back: the budget).
  const doomed = all.filter((_, i) => i % 10 === 3).map((s) => invoiceIdOf(s.subscriptionId, MARCH.start));
  await b.db.raw(`create table doomed (id uuid primary key); create sequence failures`);
  await b.db('doomed').insert(doomed.map((id) => ({ id })));
  await b.db.raw(`
    create function fail_doomed() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from doomed where id = new.invoice_id) then
        if nextval('failures') <= ${FAILURES} then
          raise exception 'injected failure for invoice %', new.invoice_id;
        end if;
      end if;
      return new;
    end $$;
    create trigger fail_doomed before insert on invoice_lines for each row execute function fail_doomed();
  `);

  let failed = 0;
  const pending = async () =>
    Number((await b.db('usage_summaries').whereNull('invoice_id').count('* as n').first())!.n);
  const invoicer = async () => {
    while ((await pending()) > 0) {
      try {
        await issuePendingInvoices(b.ctx);
      } catch (err) {
        if (!/injected failure/.test(String(err))) throw err;
        failed++;
      }
    }
  };
  await Promise.all([invoicer(), invoicer(), invoicer(), invoicer()]);

  expect(failed).toBeGreaterThanOrEqual(FAILURES);
  for (const { id, subscriptions } of orgs) {
    const rows = await b.db('invoices').where({ organization_id: id }).orderBy('seq').select('seq', 'number');
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: subscriptions }, (_, i) => i + 1));
    expect(rows.map((r) => r.number)).toEqual(
      Array.from({ length: subscriptions }, (_, i) => `INV-${String(i + 1).padStart(6, '0')}`),
    );
    const events = await b.db('outbox').where({ topic: b.topics.invoices }).select('payload');
    const created = events.filter((e) => e.payload.organizationId === id && e.payload.type === 'invoice.created');
    expect(new Set(created.map((e) => e.payload.data.number)).size).toBe(subscriptions);
    expect(created).toHaveLength(subscriptions);
  }
  // every summary has its invoice, and it is the one derived from its subscription and period
  const links = await b.db('usage_summaries').select('subscription_id', 'invoice_id');
  expect(links.every((l) => l.invoice_id === invoiceIdOf(l.subscription_id, MARCH.start))).toBe(true);
});
