// GET /v1/reconciliation and GET /v1/reconciliation/unbilled: every metric of every subscription
// period, from the events received to the invoice lines that billed them, and the stored usage no
// subscription bills. One snapshot; the counts of a page are taken in a few set-based statements.
import type {
  Aggregation,
  HighWaterMark,
  PageOf,
  PageRequest,
  PeriodReconciliation,
  UnbilledUsage,
} from '@usageflow/contracts';
import { iso, type Knex, type TimestampValue } from '@usageflow/db';
import { commonErrors, decodeCursor, keysetPage, toPage } from '@usageflow/http';
import Big from 'big.js';
import { periodTotals } from '../adapters/db/period-totals';
import { canonicalDecimal } from '../domain/fold';
import { reconcile } from '../domain/reconciliation';
import { findLine } from '../domain/trace';
import type { AggregationContext, Caller } from './context';
import { invoiceFacts, PERIODS, type PeriodRow } from './trace';

/** `GET /v1/reconciliation`'s filters, as validated against the declared query. */
export interface ReconciliationQuery {
  customerId?: string;
  metric?: string;
  period?: string;
  from?: string;
  to?: string;
}

interface RowBase extends PeriodRow {
  customer_id: string;
  metric: string;
  aggregation: Aggregation | null;
  unique_property: string | null;
}

interface CountRow {
  i: number;
  stored: string;
  summarized: string;
  summarized_sum: string;
  duplicates: string;
  summary_quantity: string | null;
  summary_events: string | null;
}

interface LateRow {
  subscription_id: string;
  period_start: TimestampValue;
  metric: string;
  quantity: string | null;
  billed_period_start: TimestampValue | null;
  invoice_id: string | null;
}

const key = (subscriptionId: string, start: TimestampValue, metric: string) =>
  `${subscriptionId}|${iso(start)}|${metric}`;

/** The page's rows: each (period, plan metric) of the caller's subscriptions that the filters keep. */
function rowsQuery(trx: Knex.Transaction, org: string, q: ReconciliationQuery) {
  const filters: string[] = [];
  const bindings: Record<string, unknown> = { org };
  if (q.customerId !== undefined) {
    filters.push('p.customer_id = :customer');
    bindings.customer = q.customerId;
  }
  if (q.metric !== undefined) {
    filters.push('k.metric = :metric');
    bindings.metric = q.metric;
  }
  if (q.period !== undefined) {
    filters.push('p.period_start <= :at and p.period_end > :at');
    bindings.at = q.period;
  }
  if (q.from !== undefined) {
    filters.push('p.period_start >= :from');
    bindings.from = q.from;
  }
  if (q.to !== undefined) {
    filters.push('p.period_start < :to');
    bindings.to = q.to;
  }
  const rows = trx.raw(
    `(select p.*, k.metric, m.aggregation, m.unique_property
        from (${PERIODS}) p
        join plan_versions v on v.organization_id = :org and v.code = p.plan_code and v.version = p.plan_version
       cross join lateral unnest(v.metric_keys) as k(metric)
        left join metrics m on m.organization_id = :org and m.key = k.metric
       ${filters.length ? `where ${filters.join(' and ')}` : ''}) as r`,
    bindings,
  );
  return trx.select('*').from(rows);
}

/** Per row: events stored, read before the marks (and their sum), and arrivals dropped. */
async function countsOf(trx: Knex.Transaction, org: string, rows: readonly RowBase[]): Promise<CountRow[]> {
  const { rows: counts } = await trx.raw<{ rows: CountRow[] }>(
    `select r.i, ev.stored, ev.summarized, ev.summarized_sum,
            (select count(*) from usage_duplicates d
              where d.organization_id = ? and d.customer_id = r.customer and d.metric = r.metric
                and d.ts >= r.lo and d.ts < r.hi) as duplicates,
            t.summary_quantity::text as summary_quantity, t.summary_events
       from unnest(?::int[], ?::uuid[], ?::text[], ?::text[], ?::timestamptz[], ?::timestamptz[], ?::jsonb[])
         as r(i, sub, customer, metric, lo, hi, marks)
      cross join lateral (
        select count(*) as stored,
               count(*) filter (where e.kafka_offset < hw.o) as summarized,
               coalesce(sum(e.amount) filter (where e.kafka_offset < hw.o), 0)::text as summarized_sum
          from usage_events e
          left join lateral (select (m ->> 'offset')::bigint as o from jsonb_array_elements(r.marks) m
                              where (m ->> 'partition')::int = e.kafka_partition) hw on true
         where e.organization_id = ? and e.customer_id = r.customer and e.ts >= r.lo and e.ts < r.hi
           and e.metric = r.metric
      ) ev
      left join period_metric_totals t on t.subscription_id = r.sub and t.period_start = r.lo and t.metric = r.metric
      order by r.i`,
    [
      org,
      rows.map((_, i) => i),
      rows.map((r) => r.subscription_id),
      rows.map((r) => r.customer_id),
      rows.map((r) => r.metric),
      rows.map((r) => iso(r.period_start)),
      rows.map((r) => iso(r.period_end)),
      // No marks before a summary: nothing counts as summarized yet.
      rows.map((r) => JSON.stringify(r.summarized_at ? r.high_water_marks : [])),
      org,
    ],
  );
  return counts;
}

/**
 * The late records of the rows (period and metric), each with the invoice that billed it
 * (billing's rule). Joined on all three: a period's rows are one per plan metric.
 */
async function lateRecordsOf(trx: Knex.Transaction, rows: readonly RowBase[]): Promise<LateRow[]> {
  const periods = rows.filter((r) => r.summarized_at);
  if (periods.length === 0) return [];
  const { rows: late } = await trx.raw<{ rows: LateRow[] }>(
    `select l.subscription_id, l.period_start, l.metric, l.quantity::text as quantity,
            b.period_start as billed_period_start, i.id as invoice_id
       from late_events l
       join unnest(?::uuid[], ?::timestamptz[], ?::text[]) as r(sub, lo, metric)
         on l.subscription_id = r.sub and l.period_start = r.lo and l.metric = r.metric
       left join lateral (select c.period_start from period_closings c
                           where c.subscription_id = l.subscription_id and c.late_records_through >= l.sequence
                           order by c.period_start limit 1) b on true
       left join invoices i on i.subscription_id = l.subscription_id and i.period_start = b.period_start`,
    [periods.map((r) => r.subscription_id), periods.map((r) => iso(r.period_start)), periods.map((r) => r.metric)],
  );
  return late;
}

/** The stored events of a summarized row read after its marks that have no late record. */
async function unrecordedLate(trx: Knex.Transaction, org: string, row: RowBase) {
  const { rows } = await trx.raw<{ rows: Array<{ event_id: string; total: string }> }>(
    `select e.event_id, count(*) over () as total
       from usage_events e
       left join lateral (select (m ->> 'offset')::bigint as o from jsonb_array_elements(?::jsonb) m
                           where (m ->> 'partition')::int = e.kafka_partition) hw on true
      where e.organization_id = ? and e.customer_id = ? and e.ts >= ? and e.ts < ? and e.metric = ?
        and (hw.o is null or e.kafka_offset >= hw.o)
        and not exists (select 1 from late_events l where l.key = e.key and l.subscription_id = ?)
      order by e.kafka_partition, e.kafka_offset
      limit 20`,
    [
      JSON.stringify(row.high_water_marks),
      org,
      row.customer_id,
      iso(row.period_start),
      iso(row.period_end),
      row.metric,
      row.subscription_id,
    ],
  );
  return { count: Number(rows[0]?.total ?? 0), eventIds: rows.map((r) => r.event_id) };
}

/** What the events read before the marks add up to, by the metric's aggregation. */
async function summarizedQuantity(trx: Knex.Transaction, org: string, row: RowBase, counts: CountRow) {
  if (!row.summarized_at || !row.aggregation) return '0';
  if (row.aggregation === 'SUM') return canonicalDecimal(new Big(counts.summarized_sum));
  if (row.aggregation === 'COUNT') return counts.summarized;
  const [total] = await periodTotals(trx, {
    organizationId: org,
    customerId: row.customer_id,
    start: iso(row.period_start),
    end: iso(row.period_end),
    metrics: [{ key: row.metric, aggregation: row.aggregation, uniqueProperty: row.unique_property }],
    marks: row.high_water_marks as HighWaterMark[],
  });
  return total!.quantity;
}

/** Checks a `GET /v1/reconciliation` query: `period` names one instant, `from`/`to` a range. */
function checkQuery(q: ReconciliationQuery): void {
  const errors = [];
  if (q.period !== undefined && (q.from !== undefined || q.to !== undefined))
    errors.push({ field: 'query.period', message: 'cannot be combined with from/to' });
  if (q.from !== undefined && q.to !== undefined && Date.parse(q.to) <= Date.parse(q.from))
    errors.push({ field: 'query.to', message: 'must be after from' });
  if (errors.length)
    throw commonErrors.VALIDATION_FAILED(errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
}

/** `GET /v1/reconciliation`: a page of (period, metric) rows, oldest period first. */
export async function reconciliation(
  ctx: AggregationContext,
  caller: Caller,
  page: PageRequest,
  query: ReconciliationQuery,
): Promise<PageOf<PeriodReconciliation>> {
  checkQuery(query);
  const org = caller.organizationId;
  return ctx.db.transaction(
    async (trx) => {
      const result = await keysetPage<RowBase, RowBase>(
        rowsQuery(trx, org, query),
        page,
        [
          { column: 'period_start', field: 'period_start', type: 'timestamptz' },
          { column: 'subscription_id', field: 'subscription_id', type: 'uuid' },
          { column: 'metric', field: 'metric', type: 'text' },
        ],
        (r) => r,
      );
      const rows = result.data;
      if (rows.length === 0) return { data: [], nextCursor: result.nextCursor };
      const counts = await countsOf(trx, org, rows);
      const late = await lateRecordsOf(trx, rows);
      const subscriptions = [...new Set(rows.map((r) => r.subscription_id))];
      // Only the invoices the page names: its periods' own, and those that billed their late records.
      const invoiceRows = await trx('invoices')
        .where({ organization_id: org })
        .andWhere((q) =>
          q
            .whereIn(
              ['subscription_id', 'period_start'],
              rows.map((r) => [r.subscription_id, iso(r.period_start)]),
            )
            .orWhereIn(
              'id',
              late.flatMap((l) => (l.invoice_id ? [l.invoice_id] : [])),
            ),
        )
        .select();
      const invoices = new Map(invoiceRows.map((i) => [i.id as string, invoiceFacts(i)]));
      const invoiceOfPeriod = new Map(invoiceRows.map((i) => [`${i.subscription_id}|${iso(i.period_start)}`, i.id]));
      const unsummarized = new Set(
        (
          (await trx('period_closings')
            .whereIn('subscription_id', subscriptions)
            .whereNull('summarized_at')
            .select('subscription_id')) as Array<{ subscription_id: string }>
        ).map((r) => r.subscription_id),
      );
      const lateByRow = new Map<string, LateRow[]>();
      for (const l of late) {
        const k = key(l.subscription_id, l.period_start, l.metric);
        lateByRow.set(k, [...(lateByRow.get(k) ?? []), l]);
      }
      const data: PeriodReconciliation[] = [];
      for (const [i, row] of rows.entries()) {
        const c = counts[i]!;
        const period = { start: iso(row.period_start), end: iso(row.period_end) };
        const state = row.summarized_at ? 'SUMMARIZED' : row.closed_at ? 'CLOSED' : 'OPEN';
        const stored = Number(c.stored);
        const summarized = Number(c.summarized);
        const records = lateByRow.get(key(row.subscription_id, row.period_start, row.metric)) ?? [];
        const lateTotal = records.reduce((sum, r) => sum.plus(r.quantity ?? 0), new Big(0));
        const byInvoice = new Map<string, { records: number; quantity: Big }>();
        for (const r of records.filter((r) => r.invoice_id)) {
          const entry = byInvoice.get(r.invoice_id!) ?? { records: 0, quantity: new Big(0) };
          entry.records += 1;
          entry.quantity = entry.quantity.plus(r.quantity ?? 0);
          byInvoice.set(r.invoice_id!, entry);
        }
        const lateBilled = [...byInvoice].map(([invoiceId, entry]) => {
          const invoice = invoices.get(invoiceId)!;
          const line = findLine(invoice, row.metric, period);
          return {
            invoiceId,
            number: invoice.invoice.number,
            position: line?.position ?? -1,
            records: entry.records,
            quantity: canonicalDecimal(entry.quantity),
            lineQuantity: line?.quantity ?? null,
          };
        });
        const unbilled = records.filter((r) => !r.invoice_id);
        const invoiceId = invoiceOfPeriod.get(`${row.subscription_id}|${period.start}`);
        const invoice = invoiceId ? invoices.get(invoiceId)! : null;
        const line = invoice ? findLine(invoice, row.metric, null) : null;
        const summary =
          row.summarized_at && c.summary_quantity !== null
            ? { quantity: c.summary_quantity, eventCount: Number(c.summary_events) }
            : null;
        const lateCount = summary ? stored - summarized : 0;
        const { differences, waiting } = reconcile({
          state,
          now: ctx.clock(),
          period,
          stored,
          summarized,
          summarizedQuantity: await summarizedQuantity(trx, org, row, c),
          summary,
          invoice: invoice ? { number: invoice.invoice.number, line } : null,
          unrecordedLate:
            summary && lateCount !== records.length ? await unrecordedLate(trx, org, row) : { count: 0, eventIds: [] },
          lateBilled,
          lateUnbilled: {
            count: unbilled.length,
            billedWithPeriod: unbilled.find((r) => r.billed_period_start)
              ? iso(unbilled.find((r) => r.billed_period_start)!.billed_period_start!)
              : null,
            subscriptionEnded: row.status === 'CANCELLED' && !unsummarized.has(row.subscription_id),
          },
        });
        data.push({
          subscriptionId: row.subscription_id,
          customerId: row.customer_id,
          planCode: row.plan_code,
          planVersion: row.plan_version,
          metricKey: row.metric,
          aggregation: row.aggregation,
          period,
          state,
          events: {
            received: stored + Number(c.duplicates),
            duplicatesDropped: Number(c.duplicates),
            stored,
            summarized,
            late: lateCount,
          },
          summary:
            summary && row.summary_event_id && row.fingerprint
              ? {
                  summaryId: row.summary_event_id,
                  fingerprint: row.fingerprint,
                  ...summary,
                  lateRecordsThrough: row.late_records_through === null ? null : Number(row.late_records_through),
                }
              : null,
          invoice:
            invoice && line
              ? {
                  ...invoice.invoice,
                  position: line.position,
                  quantity: line.quantity,
                  includedUnits: line.includedUnits,
                  billableUnits: line.billableUnits,
                  amountCents: line.amountCents,
                  amount: line.amount,
                }
              : null,
          lateRecords: {
            count: records.length,
            quantity: canonicalDecimal(lateTotal),
            billed: lateBilled.flatMap((b) =>
              b.lineQuantity === null ? [] : [{ ...b, lineQuantity: b.lineQuantity }],
            ),
            unbilled: unbilled.length,
          },
          linesUp: differences.length === 0,
          differences,
          waiting,
        });
      }
      return { data, nextCursor: result.nextCursor };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

/** `GET /v1/reconciliation/unbilled`'s filters. */
export interface UnbilledQuery {
  from?: string;
  to?: string;
  customerId?: string;
}

interface UnbilledRow {
  customer_id: string;
  metric: string;
  reason: UnbilledUsage['reason'];
  event_count: string;
  amount: string;
  first_ts: TimestampValue;
  last_ts: TimestampValue;
  sample: string[];
}

const UNBILLED_DETAIL: Record<UnbilledUsage['reason'], (r: UnbilledRow) => string> = {
  SUBSCRIPTION_MISSING: (r) => `No subscription of customer ${r.customer_id} has a period holding these events`,
  METRIC_UNKNOWN: (r) => `${r.metric} is not a metric of your organization, so no plan bills it`,
  METRIC_NOT_ON_PLAN: (r) => `${r.metric} is not on the plan of the subscription whose period holds these events`,
};

/**
 * `GET /v1/reconciliation/unbilled`: the stored events of [from, to) that no subscription bills,
 * per customer, metric and reason. It reads every event of the range: ask for a range you need.
 */
export async function unbilledUsage(
  ctx: AggregationContext,
  caller: Caller,
  page: PageRequest,
  query: UnbilledQuery,
): Promise<PageOf<UnbilledUsage>> {
  const missing = (['from', 'to'] as const).filter((name) => query[name] === undefined);
  if (missing.length) {
    const errors = missing.map((name) => ({ field: `query.${name}`, message: 'is required' }));
    throw commonErrors.VALIDATION_FAILED(errors.map((e) => `${e.field} ${e.message}`).join('; '), { errors });
  }
  if (Date.parse(query.to!) <= Date.parse(query.from!))
    throw commonErrors.VALIDATION_FAILED('query.to must be after from', {
      errors: [{ field: 'query.to', message: 'must be after from' }],
    });
  const org = caller.organizationId;
  const cursor = page.cursor ? decodeCursor(page.cursor, 3) : null;
  if (cursor && !cursor.every((v) => typeof v === 'string'))
    throw commonErrors.INVALID_CURSOR('the cursor was not issued by this API');
  const after = cursor as [string, string, string] | null;
  return ctx.db.transaction(
    async (trx) => {
      const range = [org, query.from!, query.to!];
      const rows: UnbilledRow[] = [];
      // NOTE: a page classifies the events of a few customers at a time, in customer order, until
      // it has its rows: grouping every event of the range for each page would read the whole
      // range again per page (10,000 customers without a subscription are 50 pages).
      let from: { customer: string; inclusive: boolean } = after
        ? { customer: after[0], inclusive: true }
        : { customer: '', inclusive: true };
      // A few customers a step: a customer is usually a row per metric, so a page of 200 rows
      // fills from about 50 of them.
      const chunk = Math.max(1, Math.ceil((page.limit + 1) / 4));
      for (let done = false; !done && rows.length <= page.limit;) {
        let ids: string[];
        if (query.customerId !== undefined) {
          ids = from.customer <= query.customerId ? [query.customerId] : [];
          done = true;
        } else {
          // The next customers with events in the range, one index probe each (a loose index
          // scan of usage_events_customer): DISTINCT over the range would read every event in it.
          const probe = `(select min(e.customer_id) from usage_events e
                           where e.organization_id = ? and e.ts >= ? and e.ts < ? and e.customer_id`;
          const { rows: customers } = await trx.raw<{ rows: Array<{ customer_id: string }> }>(
            `with recursive next(customer_id, n) as (
               select ${probe} ${from.inclusive ? '>=' : '>'} ?), 1
               union all
               select ${probe} > next.customer_id), next.n + 1 from next
                where next.customer_id is not null and next.n < ?
             )
             select customer_id from next where customer_id is not null`,
            [...range, from.customer, ...range, chunk],
          );
          ids = customers.map((c) => c.customer_id);
          done = ids.length < chunk;
          if (ids.length > 0) from = { customer: ids[ids.length - 1]!, inclusive: false };
        }
        if (ids.length === 0) break;
        const { rows: grouped } = await trx.raw<{ rows: UnbilledRow[] }>(
          `with periods as (select * from (${PERIODS}) p where p.customer_id = any(cast(:ids as text[]))),
           classified as (
             select e.customer_id, e.metric, e.amount, e.ts, e.event_id,
                    case when m.key is null then 'METRIC_UNKNOWN'
                         when not exists (select 1 from periods p
                                           where p.customer_id = e.customer_id and p.period_start <= e.ts
                                             and p.period_end > e.ts) then 'SUBSCRIPTION_MISSING'
                         when not exists (select 1 from periods p
                                            join plan_versions v on v.organization_id = e.organization_id
                                                                and v.code = p.plan_code and v.version = p.plan_version
                                           where p.customer_id = e.customer_id and p.period_start <= e.ts
                                             and p.period_end > e.ts and e.metric = any(v.metric_keys))
                           then 'METRIC_NOT_ON_PLAN'
                    end as reason
               from usage_events e
               left join metrics m on m.organization_id = e.organization_id and m.key = e.metric
              where e.organization_id = :org and e.ts >= :from and e.ts < :to
                and e.customer_id = any(cast(:ids as text[]))
           )
           select customer_id, metric, reason, count(*) as event_count, sum(amount)::text as amount,
                  min(ts) as first_ts, max(ts) as last_ts,
                  (array_agg(event_id order by ts, event_id))[1:5] as sample
             from classified
            where reason is not null
              ${after ? 'and (customer_id, metric, reason) > (:afterCustomer, :afterMetric, :afterReason)' : ''}
            group by customer_id, metric, reason
            order by customer_id, metric, reason`,
          {
            org,
            from: query.from!,
            to: query.to!,
            ids,
            ...(after ? { afterCustomer: after[0], afterMetric: after[1], afterReason: after[2] } : {}),
          },
        );
        rows.push(...grouped);
      }
      const result = toPage(rows, page.limit, (r) => [r.customer_id, r.metric, r.reason]);
      return {
        nextCursor: result.nextCursor,
        data: result.data.map((r) => ({
          customerId: r.customer_id,
          metricKey: r.metric,
          reason: r.reason,
          detail: UNBILLED_DETAIL[r.reason](r),
          eventCount: Number(r.event_count),
          amount: canonicalDecimal(new Big(r.amount)),
          firstTimestamp: iso(r.first_ts),
          lastTimestamp: iso(r.last_ts),
          sampleEventIds: r.sample,
        })),
      };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}
