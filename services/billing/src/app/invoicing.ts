// Invoice generation: each received usage summary becomes one immutable invoice, once billing
// knows the summary's plan version and subscription (and its test clock) and holds the late
// records it counts. A step takes a batch of pending summaries in one transaction: it loads their
// pricing terms and the late usage each bills, computes the invoices (pure), numbers them per
// organization without gaps, inserts invoices and lines, links the summaries and late records to
// them, schedules the first charge where the customer has a payment provider, and appends
// invoice.created to the outbox. Everything commits together or not at all.
import { buildEvent, type DataOf, type EventOf, type UsagePeriodSummarizedData } from '@usageflow/contracts';
import { appendToOutbox, derivedEventId, iso, type Knex } from '@usageflow/db';
import type { Static } from '@sinclair/typebox';
import { randomUUID } from 'node:crypto';
import {
  calculateInvoice,
  type InvoiceCalculation,
  type LateUsageInput,
  type PlanTerms,
} from '../domain/invoice-calculator';
import { decimal, decimalText } from '../domain/money';
import { PRODUCER, type BillingContext } from './context';

type SummaryData = Static<typeof UsagePeriodSummarizedData>;

interface PendingRow {
  event_id: string;
  organization_id: string;
  subscription_id: string;
  data: SummaryData;
  terms: PlanTerms;
  customer_id: string;
  test_clock_id: string | null;
  frozen_time: Date | null;
}

interface LateRow {
  event_id: string;
  organization_id: string;
  subscription_id: string;
  period_start: Date;
  period_end: Date;
  plan_code: string;
  plan_version: number;
  metric_key: string;
  aggregation: LateUsageInput['aggregation'];
  quantity: string;
  event_count: number;
}

/** One invoice about to be inserted. */
interface Issued {
  id: string;
  row: PendingRow;
  /** invoice.created, checked against its contract before numbers are taken; numbered after. */
  event: EventOf<'invoice.created'>;
  calc: InvoiceCalculation;
  lateEventIds: string[];
  number: string;
  seq: number;
  issuedAt: Date;
  dueAt: Date;
  chargeable: boolean;
}

const DAY_MS = 86_400_000;

/** The invoice number shown to customers: sequential per organization ("INV-000042"). */
export function invoiceNumber(seq: number): string {
  return `INV-${String(seq).padStart(6, '0')}`;
}

/** The invoice's id: derived from its subscription and period, so it is the same on every replay. */
export function invoiceIdOf(subscriptionId: string, periodStart: string): string {
  return derivedEventId('invoice', subscriptionId, periodStart);
}

/** Issues the invoices of up to `batchSize` pending summaries; returns how many were issued. */
export async function issuePendingInvoices(ctx: BillingContext): Promise<number> {
  return ctx.db.transaction(async (trx) => {
    const candidates = await pendingSummaries(trx, ctx.settings.batchSize);
    if (candidates.length === 0) return 0;
    // One invoice per subscription per step: a second pending period of the same subscription
    // waits for the next step, where the first one's invoice counts for its late usage.
    const seen = new Set<string>();
    const rows = candidates.filter((r) => !seen.has(r.subscription_id) && seen.add(r.subscription_id));
    const late = await unbilledLateUsage(trx, rows);
    const names = await metricNames(trx, rows);
    const chargeable = await customersWithProvider(ctx, trx, rows);
    const issued: Issued[] = [];
    const unbillable: Array<{ eventId: string; reason: string }> = [];
    for (const row of rows) {
      const issuedAt = row.frozen_time ?? ctx.clock();
      const lateHere = late.get(row.subscription_id) ?? [];
      try {
        const calc = calculateInvoice({
          terms: row.terms,
          summary: {
            eventId: row.event_id,
            fingerprint: row.data.fingerprint,
            period: row.data.period,
            metrics: row.data.metrics,
          },
          late: lateHere.map((l) => l.input),
          metricNames: names.get(row.organization_id),
        });
        const invoice: Omit<Issued, 'event'> = {
          id: invoiceIdOf(row.subscription_id, row.data.period.start),
          row,
          calc,
          lateEventIds: lateHere.flatMap((l) => l.input.recordEventIds),
          number: invoiceNumber(1),
          seq: 0,
          issuedAt,
          dueAt: new Date(issuedAt.getTime() + ctx.settings.paymentTermsDays * DAY_MS),
          chargeable: chargeable.has(`${row.organization_id}\u0000${row.customer_id}`),
        };
        // The event is built (and checked against its contract) now, with a placeholder number,
        // so a summary whose invoice could not be published is set aside before numbers are taken.
        issued.push({ ...invoice, event: invoiceCreated(invoice) });
      } catch (err) {
        ctx.logger.error(
          { err, organizationId: row.organization_id, subscriptionId: row.subscription_id, eventId: row.event_id },
          'a usage summary cannot be invoiced; set aside',
        );
        unbillable.push({ eventId: row.event_id, reason: String((err as Error).message ?? err).slice(0, 1000) });
      }
    }
    if (unbillable.length > 0) {
      await trx.raw(
        `update usage_summaries s set unbillable_reason = v.reason
           from unnest(?::uuid[], ?::text[]) as v(event_id, reason) where s.event_id = v.event_id`,
        [unbillable.map((u) => u.eventId), unbillable.map((u) => u.reason)],
      );
    }
    if (issued.length === 0) return 0;
    await allocateNumbers(trx, issued);
    await insertInvoices(trx, issued);
    await trx.raw(
      `update usage_summaries s set invoice_id = v.invoice_id
         from unnest(?::uuid[], ?::uuid[]) as v(event_id, invoice_id) where s.event_id = v.event_id`,
      [issued.map((i) => i.row.event_id), issued.map((i) => i.id)],
    );
    const lateLinks = issued.flatMap((i) => i.lateEventIds.map((eventId) => [eventId, i.id] as const));
    if (lateLinks.length) {
      await trx.raw(
        `update late_usage l set invoice_id = v.invoice_id
           from unnest(?::uuid[], ?::uuid[]) as v(event_id, invoice_id) where l.event_id = v.event_id`,
        [lateLinks.map(([e]) => e), lateLinks.map(([, i]) => i)],
      );
    }
    await appendToOutbox(
      trx,
      issued.map((i) => i.event),
      { topic: ctx.invoicesTopic },
    );
    return issued.length;
  });
}

/**
 * The summaries ready to be invoiced, oldest first. A summary waits (is not selected, so it holds
 * up no other) while its plan version, subscription or test clock is unknown here, or while billing
 * holds fewer than its `late_records_through` of the subscription's late records: they come
 * before it on the same partition, and its invoice must bill all of them that are not billed yet.
 * Records made before sequences existed count among them: aggregation numbered those first.
 */
async function pendingSummaries(trx: Knex.Transaction, limit: number): Promise<PendingRow[]> {
  const { rows } = await trx.raw<{ rows: PendingRow[] }>(
    `select s.event_id, s.organization_id, s.subscription_id, s.data, p.terms, sub.customer_id,
            sub.test_clock_id, c.frozen_time
       from usage_summaries s
       join plan_versions p
         on p.organization_id = s.organization_id and p.code = s.plan_code and p.version = s.plan_version
       join subscriptions sub on sub.id = s.subscription_id and sub.organization_id = s.organization_id
       left join test_clocks c on c.id = sub.test_clock_id
      where s.invoice_id is null and s.unbillable_reason is null
        and (sub.test_clock_id is null or c.id is not null)
        and not exists (select 1 from invoices i
                         where i.subscription_id = s.subscription_id
                           and i.period_start = s.period_start and i.period_end = s.period_end)
        and (coalesce(s.late_records_through, 0) = 0
             or s.late_records_through <=
                  (select count(*) from late_usage l
                    where l.subscription_id = s.subscription_id and l.sequence <= s.late_records_through)
                + (select count(*) from late_usage l
                    where l.subscription_id = s.subscription_id and l.sequence is null))
      order by s.received_seq
      limit ?
        for update of s skip locked`,
    [limit],
  );
  return rows;
}

/**
 * The late usage the given invoices bill, folded per earlier period and metric, with what each
 * period was billed for so far. Late usage of a period not invoiced yet (or not earlier than the
 * invoice's period) waits.
 *
 * Which invoice bills a late record follows from the events alone, so that a replay of the topic
 * puts it on the same invoice and aggregation can trace it there by the same rule: a summary
 * whose `late_records_through` is T bills the subscription's unbilled late records of sequence
 * <= T (pendingSummaries made it wait until billing holds them all); one of sequence > T was
 * recorded after the summary was taken, and waits for the first later summary whose T reaches
 * it, even when billing already holds it. Records made before sequences existed (null sequence)
 * are billed on the next invoice, as before. A summary taken before the field existed (null T)
 * bills only those: a sequenced record belongs to the first summary whose T reaches it.
 * NOTE: a record the rule gives to an invoice but whose period has no invoice here (its summary
 * was set aside) still waits, as above: then it lands later than the rule says, or never.
 */
async function unbilledLateUsage(
  trx: Knex.Transaction,
  rows: readonly PendingRow[],
): Promise<Map<string, Array<{ input: LateUsageInput }>>> {
  const bySubscription = new Map(rows.map((r) => [r.subscription_id, r]));
  const { rows: lateRows } = await trx.raw<{ rows: LateRow[] }>(
    `select l.event_id, l.organization_id, l.subscription_id, l.period_start, l.period_end, l.plan_code,
            l.plan_version, l.metric_key, l.aggregation, l.quantity::text as quantity, l.event_count
       from late_usage l join usage_summaries s on s.subscription_id = l.subscription_id
      where s.event_id = any(?::uuid[])
        and l.invoice_id is null and (l.sequence is null or l.sequence <= s.late_records_through)
      order by l.received_seq
        for update of l`,
    [rows.map((r) => r.event_id)],
  );
  const out = new Map<string, Array<{ input: LateUsageInput }>>();
  if (lateRows.length === 0) return out;
  const subscriptions = [...new Set(lateRows.map((l) => l.subscription_id))];
  // What each (subscription, period, metric) was billed for so far: its invoice's usage line
  // plus the late usage lines billed since.
  const { rows: billed } = await trx.raw<{
    rows: Array<{ subscription_id: string; period_start: Date; metric_key: string; billed: string }>;
  }>(
    `select i.subscription_id, coalesce(l.period_start, i.period_start) as period_start, l.metric_key,
            sum(l.quantity)::text as billed
       from invoices i join invoice_lines l on l.invoice_id = i.id
      where i.subscription_id = any(?::uuid[]) and l.kind in ('usage', 'late_usage')
      group by 1, 2, 3`,
    [subscriptions],
  );
  const { rows: invoiced } = await trx.raw<{ rows: Array<{ subscription_id: string; period_start: Date }> }>(
    `select subscription_id, period_start from invoices where subscription_id = any(?::uuid[])`,
    [subscriptions],
  );
  const invoicedPeriods = new Set(invoiced.map((r) => `${r.subscription_id}|${iso(r.period_start)}`));
  const billedOf = new Map(
    billed.map((b) => [`${b.subscription_id}|${iso(b.period_start)}|${b.metric_key}`, b.billed]),
  );
  const terms = await termsOf(trx, lateRows);
  const groups = new Map<string, { input: LateUsageInput; subscriptionId: string }>();
  for (const l of lateRows) {
    const invoice = bySubscription.get(l.subscription_id)!;
    const start = iso(l.period_start);
    const planTerms = terms.get(`${l.organization_id}|${l.plan_code}|${l.plan_version}`);
    const earlier = l.period_end.getTime() <= new Date(invoice.data.period.start).getTime();
    if (!earlier || !planTerms || !invoicedPeriods.has(`${l.subscription_id}|${start}`)) continue;
    if (planTerms.currency !== invoice.terms.currency) continue;
    const key = `${l.subscription_id}|${start}|${l.metric_key}`;
    const group = groups.get(key);
    if (group) {
      group.input.quantity = decimalText(decimal(group.input.quantity).plus(decimal(l.quantity)));
      group.input.eventCount += l.event_count;
      (group.input.recordEventIds as string[]).push(l.event_id);
    } else {
      groups.set(key, {
        subscriptionId: l.subscription_id,
        input: {
          period: { start, end: iso(l.period_end) },
          terms: planTerms,
          metricKey: l.metric_key,
          aggregation: l.aggregation,
          quantity: decimalText(decimal(l.quantity)),
          eventCount: l.event_count,
          billedQuantity: billedOf.get(key) ?? '0',
          recordEventIds: [l.event_id],
        },
      });
    }
  }
  for (const g of groups.values()) {
    const list = out.get(g.subscriptionId) ?? [];
    list.push({ input: g.input });
    out.set(g.subscriptionId, list);
  }
  return out;
}

async function termsOf(trx: Knex.Transaction, lateRows: readonly LateRow[]): Promise<Map<string, PlanTerms>> {
  const unique = new Map(lateRows.map((l) => [`${l.organization_id}|${l.plan_code}|${l.plan_version}`, l]));
  const parts = [...unique.values()];
  const { rows } = await trx.raw<{
    rows: Array<{ organization_id: string; code: string; version: number; terms: PlanTerms }>;
  }>(
    `select p.organization_id, p.code, p.version, p.terms
       from plan_versions p join unnest(?::uuid[], ?::text[], ?::int[]) as k(org, code, version)
         on p.organization_id = k.org and p.code = k.code and p.version = k.version`,
    [parts.map((p) => p.organization_id), parts.map((p) => p.plan_code), parts.map((p) => p.plan_version)],
  );
  return new Map(rows.map((r) => [`${r.organization_id}|${r.code}|${r.version}`, r.terms]));
}

async function metricNames(trx: Knex.Transaction, rows: readonly PendingRow[]) {
  const orgs = [...new Set(rows.map((r) => r.organization_id))];
  const { rows: found } = await trx.raw<{ rows: Array<{ organization_id: string; key: string; name: string }> }>(
    `select organization_id, key, name from metrics where organization_id = any(?::uuid[])`,
    [orgs],
  );
  const names = new Map<string, Record<string, string>>();
  for (const m of found) {
    const own = names.get(m.organization_id) ?? {};
    own[m.key] = m.name;
    names.set(m.organization_id, own);
  }
  return names;
}

/** The customers (organization NUL customerId) the payment provider can charge, in one query. */
async function customersWithProvider(ctx: BillingContext, trx: Knex.Transaction, rows: readonly PendingRow[]) {
  const unique = [...new Map(rows.map((r) => [`${r.organization_id}\u0000${r.customer_id}`, r])).values()];
  const found = await ctx.provider.chargeable(
    trx,
    unique.map((r) => ({ organizationId: r.organization_id, customerId: r.customer_id })),
  );
  return new Set(found.map((c) => `${c.organizationId}\u0000${c.customerId}`));
}

/**
 * Numbers the invoices: one counter row per organization, advanced by the batch's count inside
 * this transaction (organizations in a fixed order, so two batches cannot deadlock). A rollback
 * gives the numbers back, so there are no gaps; concurrent batches of one organization queue on
 * its row.
 */
async function allocateNumbers(trx: Knex.Transaction, issued: Issued[]): Promise<void> {
  const counts = new Map<string, number>();
  for (const i of issued) counts.set(i.row.organization_id, (counts.get(i.row.organization_id) ?? 0) + 1);
  const orgs = [...counts.keys()].sort();
  const { rows } = await trx.raw<{ rows: Array<{ organization_id: string; last_number: string }> }>(
    `insert into invoice_sequences (organization_id, last_number)
     select * from unnest(?::uuid[], ?::bigint[])
     on conflict (organization_id) do update set last_number = invoice_sequences.last_number + excluded.last_number
     returning organization_id, last_number`,
    [orgs, orgs.map((o) => counts.get(o)!)],
  );
  const next = new Map(
    rows.map((r) => [r.organization_id, Number(r.last_number) - counts.get(r.organization_id)! + 1]),
  );
  for (const i of issued) {
    const seq = next.get(i.row.organization_id)!;
    next.set(i.row.organization_id, seq + 1);
    i.seq = seq;
    i.number = invoiceNumber(seq);
    i.event.data.number = i.number;
  }
}

const LINE_CHUNK = 2000;

async function insertInvoices(trx: Knex.Transaction, issued: readonly Issued[]): Promise<void> {
  await trx('invoices').insert(
    issued.map((i) => ({
      id: i.id,
      organization_id: i.row.organization_id,
      seq: i.seq,
      number: i.number,
      subscription_id: i.row.subscription_id,
      customer_id: i.row.customer_id,
      plan_code: i.row.data.planCode,
      plan_version: i.row.data.planVersion,
      period_start: i.row.data.period.start,
      period_end: i.row.data.period.end,
      currency: i.calc.currency,
      amount_cents: i.calc.amountCents,
      issued_at: i.issuedAt,
      due_at: i.dueAt,
      summary_event_id: i.row.event_id,
      fingerprint: i.row.data.fingerprint,
      test_clock_id: i.row.test_clock_id,
      status: 'PENDING',
      // NOTE: a customer with a payment provider is charged at once; dunning takes it from there.
      next_attempt_at: i.chargeable ? i.issuedAt : null,
    })),
  );
  const lines = issued.flatMap((i) =>
    i.calc.lines.map((line, index) => ({
      invoice_id: i.id,
      position: index + 1,
      kind: line.kind,
      description: line.description,
      metric_key: line.kind === 'base' ? null : line.metricKey,
      quantity: line.kind === 'base' ? null : line.quantity,
      included_units: line.kind === 'base' ? null : line.includedUnits,
      billable_units: line.kind === 'base' ? null : line.billableUnits,
      unit_price: line.kind === 'base' ? null : line.unitPrice,
      period_start: line.kind === 'late_usage' ? line.period.start : null,
      period_end: line.kind === 'late_usage' ? line.period.end : null,
      precise_amount: line.preciseAmount,
      amount_cents: line.amountCents,
      source: JSON.stringify(line.source),
    })),
  );
  for (let at = 0; at < lines.length; at += LINE_CHUNK) {
    await trx('invoice_lines').insert(lines.slice(at, at + LINE_CHUNK));
  }
}

function invoiceCreated(i: Omit<Issued, 'event'>): EventOf<'invoice.created'> {
  const data: DataOf<'invoice.created'> = {
    invoiceId: i.id,
    number: i.number,
    subscriptionId: i.row.subscription_id,
    customerId: i.row.customer_id,
    planCode: i.row.data.planCode,
    planVersion: i.row.data.planVersion,
    period: i.row.data.period,
    currency: i.calc.currency,
    amountCents: i.calc.amountCents,
    amount: i.calc.amount,
    // The published line is the invoice line without its source (that stays in billing's API).
    lines: i.calc.lines.map(({ source: _source, ...line }) => line),
    issuedAt: i.issuedAt.toISOString(),
    dueAt: i.dueAt.toISOString(),
  };
  return buildEvent('invoice.created', {
    id: randomUUID(),
    organizationId: i.row.organization_id,
    occurredAt: i.issuedAt,
    producer: PRODUCER,
    data,
  });
}
