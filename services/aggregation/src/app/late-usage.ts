// Late usage: events timestamped in a period that was already summarized. They never change the
// summary (the invoice is immutable); each batch of them becomes one usage.late_recorded per
// plan metric, carrying the increase they make to the period's value, which billing puts on the
// next invoice as a "late usage" line.
import { buildEvent, type Aggregation, type HighWaterMark } from '@usageflow/contracts';
import { appendToOutbox, type Knex } from '@usageflow/db';
import { periodTotals } from '../adapters/db/period-totals';
import { lateIncrease } from '../domain/fold';
import { derivedEventId } from '../domain/summary';
import { PRODUCER } from './context';

/** A summarized period, as period_closings keeps it. */
export interface ClosingRow {
  subscription_id: string;
  period_start: Date;
  period_end: Date;
  organization_id: string;
  customer_id: string;
  plan_code: string;
  plan_version: number;
  high_water_marks: HighWaterMark[];
  closed_at: Date;
}

/** A late event: its identity key, the sender's id and its metric. */
export interface LateEvent {
  key: string;
  eventId: string;
  metric: string;
}

interface BilledRow {
  metric: string;
  aggregation: Aggregation;
  billed_quantity: string;
  unique_property: string | null;
}

const MAX_LISTED_IDS = 1000;

/**
 * Records `events` (all timestamped in `closing`'s period) as late: for each plan metric among
 * them, the period's value is recomputed from every stored event, the increase over what was
 * billed so far is published, and billed moves up to it. Events of metrics not on the plan are
 * not billed by this subscription and are left alone. Returns how many records were emitted.
 */
export async function recordLateUsage(
  trx: Knex.Transaction,
  options: { closing: ClosingRow; events: readonly LateEvent[]; now: Date; topic?: string },
): Promise<number> {
  const { closing, now } = options;
  const byMetric = new Map<string, LateEvent[]>();
  for (const e of options.events) byMetric.set(e.metric, [...(byMetric.get(e.metric) ?? []), e]);
  const { rows: billed } = await trx.raw<{ rows: BilledRow[] }>(
    `select t.metric, t.aggregation, t.billed_quantity::text as billed_quantity, m.unique_property
       from period_metric_totals t
       left join metrics m on m.organization_id = ? and m.key = t.metric
      where t.subscription_id = ? and t.period_start = ? and t.metric = any(?::text[])
      for update of t`,
    [closing.organization_id, closing.subscription_id, closing.period_start, [...byMetric.keys()]],
  );
  const period = { start: closing.period_start.toISOString(), end: closing.period_end.toISOString() };
  const events = [];
  for (const row of billed) {
    const late = byMetric.get(row.metric)!;
    const [total] = await periodTotals(trx, {
      organizationId: closing.organization_id,
      customerId: closing.customer_id,
      ...period,
      metrics: [{ key: row.metric, aggregation: row.aggregation, uniqueProperty: row.unique_property }],
    });
    const increase = lateIncrease(row.billed_quantity, total!.quantity);
    const keys = late.map((e) => e.key).sort();
    const id = derivedEventId('usage.late_recorded', closing.subscription_id, period.start, row.metric, ...keys);
    await trx.raw(
      `update period_metric_totals
          set billed_quantity = greatest(billed_quantity, ?::numeric), late_events = late_events + ?
        where subscription_id = ? and period_start = ? and metric = ?`,
      [total!.quantity, late.length, closing.subscription_id, closing.period_start, row.metric],
    );
    await trx.raw(
      `insert into late_events (key, subscription_id, period_start, metric, late_event_id, detected_at)
       select k, ?, ?, ?, ?, ? from unnest(?::uuid[]) as k on conflict do nothing`,
      [closing.subscription_id, closing.period_start, row.metric, id, now, keys],
    );
    events.push(
      buildEvent('usage.late_recorded', {
        id,
        organizationId: closing.organization_id,
        occurredAt: now,
        producer: PRODUCER,
        data: {
          subscriptionId: closing.subscription_id,
          customerId: closing.customer_id,
          planCode: closing.plan_code,
          planVersion: closing.plan_version,
          metricKey: row.metric,
          aggregation: row.aggregation,
          period,
          quantity: increase,
          eventCount: late.length,
          ...(late.length <= MAX_LISTED_IDS ? { eventIds: late.map((e) => e.eventId) } : {}),
          detectedAt: now.toISOString(),
        },
      }),
    );
  }
  await appendToOutbox(trx, events, { topic: options.topic });
  return events.length;
}

/**
 * The summarized periods that the given (organization, customer, time span) touch: the candidates
 * for late usage in a batch. Almost always none, found by the customer index of period_closings.
 */
export async function summarizedPeriodsTouching(
  trx: Knex.Transaction,
  spans: ReadonlyArray<{ organizationId: string; customerId: string; from: Date; to: Date }>,
): Promise<ClosingRow[]> {
  if (spans.length === 0) return [];
  const { rows } = await trx.raw<{ rows: ClosingRow[] }>(
    `select c.* from period_closings c
       join unnest(?::uuid[], ?::text[], ?::timestamptz[], ?::timestamptz[]) as b(o, cu, lo, hi)
         on c.organization_id = b.o and c.customer_id = b.cu and c.period_start <= b.hi and c.period_end > b.lo
      where c.summarized_at is not null`,
    [
      spans.map((s) => s.organizationId),
      spans.map((s) => s.customerId),
      spans.map((s) => s.from),
      spans.map((s) => s.to),
    ],
  );
  return rows;
}
