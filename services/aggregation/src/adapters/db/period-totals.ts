// A period's exact totals, computed from the event store (never from the hourly rollups: a period
// may start and end mid-hour, and a summary must count only events before the closing's marks).
import type { Aggregation, HighWaterMark } from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';
import { quantityFrom } from '../../domain/fold';
import { NO_EVENTS_SHA256, type MetricTotal } from '../../domain/summary';

/** A metric to total, with how it aggregates. */
export interface MetricDefinition {
  key: string;
  aggregation: Aggregation;
  uniqueProperty: string | null;
}

interface TotalRow {
  metric: string;
  event_count: string;
  amount_sum: string;
  amount_max: string;
  latest_amount: string;
  unique_count: string;
  ids_sha256: string;
}

/**
 * Each metric's total over [start, end) for one customer. With `marks`, only events read from
 * the topic before them count (partition by partition): what was accepted before the closing.
 * One statement; it walks the customer's events of the period by the (organization, customer,
 * ts) index.
 */
export async function periodTotals(
  db: Knex | Knex.Transaction,
  input: {
    organizationId: string;
    customerId: string;
    start: string;
    end: string;
    metrics: readonly MetricDefinition[];
    marks?: readonly HighWaterMark[];
  },
): Promise<MetricTotal[]> {
  if (input.metrics.length === 0) return [];
  const bounded = input.marks !== undefined;
  const { rows } = await db.raw<{ rows: TotalRow[] }>(
    `select e.metric,
            count(*) as event_count,
            sum(e.amount)::text as amount_sum,
            max(e.amount)::text as amount_max,
            (array_agg(e.amount order by e.ts desc, e.event_id desc))[1]::text as latest_amount,
            count(distinct (e.properties -> nullif(d.unique_property, ''))::text) as unique_count,
            encode(sha256(convert_to(string_agg(e.event_id, E'\\n' order by e.event_id), 'UTF8')), 'hex') as ids_sha256
       from usage_events e
       join unnest(?::text[], ?::text[]) as d(metric, unique_property) on d.metric = e.metric
       ${bounded ? 'join unnest(?::int[], ?::bigint[]) as hw(p, o) on hw.p = e.kafka_partition and e.kafka_offset < hw.o' : ''}
      where e.organization_id = ? and e.customer_id = ? and e.ts >= ? and e.ts < ?
      group by e.metric`,
    [
      input.metrics.map((m) => m.key),
      // '' for none: property names are never empty, and knex's types take no null inside arrays
      input.metrics.map((m) => m.uniqueProperty ?? ''),
      ...(bounded ? [input.marks!.map((m) => m.partition), input.marks!.map((m) => m.offset)] : []),
      input.organizationId,
      input.customerId,
      input.start,
      input.end,
    ],
  );
  const byMetric = new Map(rows.map((r) => [r.metric, r]));
  return input.metrics.map((m): MetricTotal => {
    const row = byMetric.get(m.key);
    if (!row)
      return {
        metricKey: m.key,
        aggregation: m.aggregation,
        quantity: '0',
        eventCount: 0,
        eventIdsSha256: NO_EVENTS_SHA256,
      };
    const quantity = quantityFrom(m.aggregation, {
      eventCount: row.event_count,
      sum: row.amount_sum,
      max: row.amount_max,
      latest: row.latest_amount,
      distinctValues: row.unique_count,
    });
    return {
      metricKey: m.key,
      aggregation: m.aggregation,
      quantity,
      eventCount: Number(row.event_count),
      eventIdsSha256: row.ids_sha256,
    };
  });
}
