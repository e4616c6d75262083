// GET /v1/events/{id}: one event's way from the usage topic to the invoice line that billed it,
// read in one snapshot from the event store and the projections (subscriptions, closings,
// invoices). The event is found by its identity key, whose row says where its first arrival is
// stored (customer and time: the event store's own index).
import type { EventTrace, HighWaterMark, TracedInvoice } from '@usageflow/contracts';
import { iso, type Knex, type TimestampValue } from '@usageflow/db';
import { defineErrors } from '@usageflow/http';
import { eventKey, hourOf } from '../domain/usage-batch';
import { overallOutcome, traceInSubscription, type InvoiceFacts, type PeriodFacts } from '../domain/trace';
import type { AggregationContext, Caller } from './context';

/** The trace's error codes: stable API, never renamed or reused. */
export const traceErrors = defineErrors({
  EVENT_NOT_FOUND: { status: 404, title: 'No such event in your organization' },
});

interface EventRow {
  customer_id: string;
  metric: string;
  amount: string;
  ts: TimestampValue;
  event_id: string;
  received_at: TimestampValue;
  stored_at: TimestampValue;
  kafka_partition: number;
  kafka_offset: string;
}

/** A billing period of one of the customer's subscriptions: closed (a closing) or current. */
export interface PeriodRow {
  subscription_id: string;
  plan_code: string;
  plan_version: number;
  period_start: TimestampValue;
  period_end: TimestampValue;
  closed_at: TimestampValue | null;
  high_water_marks: HighWaterMark[] | null;
  summarized_at: TimestampValue | null;
  summary_event_id: string | null;
  fingerprint: string | null;
  late_records_through: string | null;
  status: string | null;
}

/**
 * The periods of the organization's subscriptions, closed ones from period_closings and current
 * ones (not closed yet) from the subscriptions projection. `:org` and the caller's filters bind.
 */
export const PERIODS = `
  select c.subscription_id, c.organization_id, c.customer_id, c.plan_code, c.plan_version, c.period_start,
         c.period_end, c.closed_at, c.high_water_marks, c.summarized_at, c.summary_event_id, c.fingerprint,
         c.late_records_through, s.status
    from period_closings c left join subscriptions s on s.id = c.subscription_id
   where c.organization_id = :org
  union all
  select s.id, s.organization_id, s.customer_id, s.plan_code, s.plan_version, s.current_period_start,
         s.current_period_end, null, null, null, null, null, null, s.status
    from subscriptions s
   where s.organization_id = :org and s.current_period_start is not null and s.current_period_end is not null
     and not exists (select 1 from period_closings c
                      where c.subscription_id = s.id and c.period_start = s.current_period_start)`;

interface InvoiceRow {
  id: string;
  number: string;
  status: TracedInvoice['status'];
  period_start: TimestampValue;
  period_end: TimestampValue;
  issued_at: TimestampValue;
  currency: string;
  lines: Array<Record<string, unknown>>;
}

/** An invoice row of the projection as the trace shows it. */
export function invoiceFacts(row: InvoiceRow): InvoiceFacts {
  return {
    invoice: {
      invoiceId: row.id,
      number: row.number,
      status: row.status,
      period: { start: iso(row.period_start), end: iso(row.period_end) },
      issuedAt: iso(row.issued_at),
      currency: row.currency,
    },
    lines: row.lines,
  };
}

async function invoiceOf(trx: Knex, subscriptionId: string, periodStart: TimestampValue) {
  const row = (await trx('invoices').where({ subscription_id: subscriptionId, period_start: periodStart }).first()) as
    InvoiceRow | undefined;
  return row ? invoiceFacts(row) : null;
}

/** The facts of the event in one subscription's period. */
async function periodFacts(
  trx: Knex,
  ctx: AggregationContext,
  org: string,
  event: EventRow & { key: string },
  period: PeriodRow,
  metricDefined: boolean,
): Promise<PeriodFacts> {
  const plan = (await trx('plan_versions')
    .where({ organization_id: org, code: period.plan_code, version: period.plan_version })
    .first('metric_keys')) as { metric_keys: string[] } | undefined;
  const late = (await trx('late_events')
    .where({ key: event.key, subscription_id: period.subscription_id })
    .first('late_event_id', 'sequence', 'quantity', 'detected_at')) as
    | { late_event_id: string; sequence: string | null; quantity: string | null; detected_at: TimestampValue }
    | undefined;
  let invoice: InvoiceFacts | null = null;
  let lateBilledWithPeriod: PeriodFacts['lateBilledWithPeriod'] = null;
  let subscriptionEnded = false;
  if (late?.sequence != null) {
    // The first summary whose lateRecordsThrough reaches the record bills it (billing's rule).
    const billing = (await trx('period_closings')
      .where({ subscription_id: period.subscription_id })
      .where('late_records_through', '>=', late.sequence)
      .orderBy('period_start')
      .first('period_start', 'period_end')) as { period_start: TimestampValue; period_end: TimestampValue } | undefined;
    if (billing) {
      lateBilledWithPeriod = { start: iso(billing.period_start), end: iso(billing.period_end) };
      invoice = await invoiceOf(trx, period.subscription_id, billing.period_start);
    } else if (period.status === 'CANCELLED') {
      const unsummarized = await trx('period_closings')
        .where({ subscription_id: period.subscription_id })
        .whereNull('summarized_at')
        .first('period_start');
      subscriptionEnded = !unsummarized;
    }
  } else if (period.summarized_at) {
    invoice = await invoiceOf(trx, period.subscription_id, period.period_start);
  }
  return {
    subscriptionId: period.subscription_id,
    planCode: period.plan_code,
    planVersion: period.plan_version,
    period: { start: iso(period.period_start), end: iso(period.period_end) },
    now: ctx.clock(),
    metricKey: event.metric,
    metricDefined,
    planMetrics: plan?.metric_keys ?? null,
    closing: period.closed_at
      ? {
          closedAt: iso(period.closed_at),
          summary: period.summarized_at
            ? {
                summaryId: period.summary_event_id!,
                fingerprint: period.fingerprint!,
                summarizedAt: iso(period.summarized_at),
                marks: period.high_water_marks ?? [],
              }
            : null,
        }
      : null,
    position: { partition: event.kafka_partition, offset: String(event.kafka_offset) },
    late: late
      ? {
          lateRecordId: late.late_event_id,
          sequence: late.sequence == null ? null : Number(late.sequence),
          quantity: late.quantity,
          detectedAt: iso(late.detected_at),
        }
      : null,
    invoice,
    lateBilledWithPeriod,
    subscriptionEnded,
  };
}

/** `GET /v1/events/{id}`: the trace of the caller's event `eventId`; 404 when it was not consumed. */
export async function traceEvent(
  ctx: AggregationContext,
  caller: Caller,
  eventId: string,
  options: { usageTopic: string },
): Promise<EventTrace> {
  const org = caller.organizationId;
  const key = eventKey(org, eventId);
  return ctx.db.transaction(
    async (trx) => {
      const located = (await trx('usage_event_keys').where({ key }).first('customer_id', 'ts')) as
        { customer_id: string; ts: TimestampValue } | undefined;
      const event = located
        ? ((await trx('usage_events')
            .where({ organization_id: org, customer_id: located.customer_id, ts: located.ts, key })
            .first(
              'customer_id',
              'metric',
              trx.raw('amount::text as amount'),
              'ts',
              'event_id',
              'received_at',
              'stored_at',
              'kafka_partition',
              'kafka_offset',
            )) as EventRow | undefined)
        : undefined;
      if (!event)
        throw traceErrors.EVENT_NOT_FOUND(
          `No event ${JSON.stringify(eventId)} has been consumed in your organization. An event accepted in the ` +
            'last moments may not be consumed yet; an id the gateway assigned is in its answer.',
        );
      const counted = (await trx('usage_duplicates').where({ key }).count({ count: '*' })) as Array<{ count: string }>;
      const count = counted[0]?.count ?? 0;
      const arrivals = (await trx('usage_duplicates')
        .where({ key })
        .orderBy(['kafka_partition', 'kafka_offset'])
        .limit(100)
        .select('kafka_partition', 'kafka_offset', 'received_at', 'dropped_at')) as Array<{
        kafka_partition: number;
        kafka_offset: string;
        received_at: TimestampValue;
        dropped_at: TimestampValue;
      }>;
      const metricDefined = !!(await trx('metrics').where({ organization_id: org, key: event.metric }).first('key'));
      const periods = (
        await trx.raw(
          `select * from (${PERIODS}) p
            where p.customer_id = :customer and p.period_start <= :ts and p.period_end > :ts
            order by p.period_start, p.subscription_id`,
          { org, customer: event.customer_id, ts: event.ts },
        )
      ).rows as PeriodRow[];
      const subscriptions = [];
      for (const period of periods)
        subscriptions.push(
          traceInSubscription(await periodFacts(trx, ctx, org, { ...event, key }, period, metricDefined)),
        );
      const timestamp = iso(event.ts);
      const hour = hourOf(Date.parse(timestamp));
      return {
        eventId: event.event_id,
        customerId: event.customer_id,
        metricKey: event.metric,
        amount: event.amount,
        timestamp,
        ...overallOutcome(subscriptions, event.customer_id, timestamp),
        accepted: {
          topic: options.usageTopic,
          partition: event.kafka_partition,
          offset: String(event.kafka_offset),
          acceptedAt: iso(event.received_at),
        },
        stored: { storedAt: iso(event.stored_at) },
        duplicates: {
          count: Number(count),
          arrivals: arrivals.map((a) => ({
            topic: options.usageTopic,
            partition: a.kafka_partition,
            offset: String(a.kafka_offset),
            receivedAt: iso(a.received_at),
            droppedAt: iso(a.dropped_at),
          })),
        },
        rollup: {
          metricKey: event.metric,
          hour: { start: new Date(hour).toISOString(), end: new Date(hour + 3_600_000).toISOString() },
        },
        subscriptions,
      };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}
