// Late usage: events timestamped in a period that was already summarized. They never change the
// summary (the invoice is immutable); each becomes a usage.late_recorded carrying the increase it
// makes to the period's value, which billing puts on the next invoice as a "late usage" line.
import { buildEvent, type Aggregation, type HighWaterMark } from '@usageflow/contracts';
import { appendToOutbox, derivedEventId, type Knex } from '@usageflow/db';
import { periodTotals } from '../adapters/db/period-totals';
import Big from 'big.js';
import { canonicalDecimal, lateIncrease } from '../domain/fold';
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
  closing_event_id: string;
}

/** What every summary and late record says of the subscription whose period it is. */
export function subscriptionRef(closing: ClosingRow) {
  return {
    subscriptionId: closing.subscription_id,
    customerId: closing.customer_id,
    planCode: closing.plan_code,
    planVersion: closing.plan_version,
  };
}

/** A late event: its identity key, the sender's id, its metric and amount, and where it was read. */
export interface LateEvent {
  key: string;
  eventId: string;
  metric: string;
  amount: string;
  partition: number;
  offset: string;
}

interface BilledRow {
  metric: string;
  aggregation: Aggregation;
  billed_quantity: string;
  unique_property: string | null;
}

/**
 * Records `events` (all timestamped in `closing`'s period) as late usage: one usage.late_recorded
 * per event of a plan metric, carrying the increase it makes to the period's value over what was
 * billed so far. Events of metrics not on the plan are not billed by this subscription.
 *
 * NOTE: one record per event, taken in topic order, is what makes late usage reproducible: a
 * customer's events all sit on one partition (the topic is keyed by organization and customer),
 * so a replay meets them in the same order however it batches them, computes the same increases,
 * and derives the same ids, which the outbox then already holds. Returns the records emitted.
 */
export async function recordLateUsage(
  trx: Knex.Transaction,
  options: { closing: ClosingRow; events: readonly LateEvent[]; now: Date; topic?: string },
): Promise<number> {
  const { closing, now } = options;
  const ordered = [...options.events].sort(
    (a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)),
  );
  const { rows: billed } = await trx.raw<{ rows: BilledRow[] }>(
    `select t.metric, t.aggregation, t.billed_quantity::text as billed_quantity, m.unique_property
       from period_metric_totals t
       left join metrics m on m.organization_id = ? and m.key = t.metric
      where t.subscription_id = ? and t.period_start = ? and t.metric = any(?::text[])
      for update of t`,
    [
      closing.organization_id,
      closing.subscription_id,
      closing.period_start,
      [...new Set(ordered.map((e) => e.metric))],
    ],
  );
  const plan = new Map(billed.map((row) => [row.metric, { ...row, late: 0 }]));
  const period = { start: closing.period_start.toISOString(), end: closing.period_end.toISOString() };
  // The subscription's late records are numbered 1, 2, 3, ... in the order they are recorded
  // here. Recording runs under the event store's write lock, which the summarizer takes in SHARE
  // mode, so a summary's late_records_through counts exactly the records before it.
  const { rows: last } = await trx.raw<{ rows: Array<{ n: string }> }>(
    `select coalesce(max(sequence), 0)::text as n from late_events where subscription_id = ?`,
    [closing.subscription_id],
  );
  let sequence = Number(last[0]!.n);
  const events = [];
  for (const e of ordered) {
    const metric = plan.get(e.metric);
    if (!metric) continue;
    // The period's value with every stored event up to this one (its customer's events share
    // its partition); SUM and COUNT need no query: the event adds its amount, or one.
    const through =
      metric.aggregation === 'SUM'
        ? canonicalDecimal(new Big(metric.billed_quantity).plus(e.amount))
        : metric.aggregation === 'COUNT'
          ? canonicalDecimal(new Big(metric.billed_quantity).plus(1))
          : (
              await periodTotals(trx, {
                organizationId: closing.organization_id,
                customerId: closing.customer_id,
                ...period,
                metrics: [{ key: e.metric, aggregation: metric.aggregation, uniqueProperty: metric.unique_property }],
                marks: [{ partition: e.partition, offset: (BigInt(e.offset) + 1n).toString() }],
              })
            )[0]!.quantity;
    const increase = lateIncrease(metric.billed_quantity, through);
    if (new Big(through).gt(metric.billed_quantity)) metric.billed_quantity = through;
    metric.late += 1;
    const id = derivedEventId('usage.late_recorded', closing.subscription_id, period.start, e.key);
    const { rows: recorded } = await trx.raw<{ rows: Array<{ sequence: string }> }>(
      `insert into late_events (key, subscription_id, period_start, metric, late_event_id, detected_at, sequence, quantity)
       values (?, ?, ?, ?, ?, ?, ?, ?) on conflict (key, subscription_id) do nothing returning sequence`,
      [e.key, closing.subscription_id, closing.period_start, e.metric, id, now, sequence + 1, increase],
    );
    if (recorded.length === 0) continue; // recorded before: its record went out then
    sequence += 1;
    events.push(
      buildEvent('usage.late_recorded', {
        id,
        organizationId: closing.organization_id,
        occurredAt: now,
        producer: PRODUCER,
        data: {
          ...subscriptionRef(closing),
          metricKey: e.metric,
          aggregation: metric.aggregation,
          period,
          quantity: increase,
          eventCount: 1,
          eventIds: [e.eventId],
          detectedAt: now.toISOString(),
          sequence,
        },
      }),
    );
  }
  for (const metric of plan.values()) {
    if (metric.late === 0) continue;
    await trx.raw(
      `update period_metric_totals set billed_quantity = ?::numeric, late_events = late_events + ?
        where subscription_id = ? and period_start = ? and metric = ?`,
      [metric.billed_quantity, metric.late, closing.subscription_id, closing.period_start, metric.metric],
    );
  }
  await appendToOutbox(trx, events, { topic: options.topic, skipExistingIds: true });
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
