// Live usage: a customer's current periods and one metric's buckets over a range, read from the
// hourly rollups. A period need not start or end on the hour (anniversary billing, test clocks):
// its whole hours come from the rollups and the partial hours at its ends from the raw events,
// so the live number is exact: the one the period's summary computes from the events themselves.
import {
  MAX_USAGE_BUCKETS,
  type Aggregation,
  type CurrentPeriodUsage,
  type CustomerUsage,
  type MetricKey,
  type UsageGranularity,
  type UsageRange,
} from '@usageflow/contracts';
import { iso, type Knex, type TimestampValue } from '@usageflow/db';
import { commonErrors, defineErrors, type FieldProblem } from '@usageflow/http';
import { quantityFrom, type QuantityParts } from '../domain/fold';
import type { AggregationContext, Caller } from './context';

/** The usage queries' error codes: stable API, never renamed or reused. */
export const usageQueryErrors = defineErrors({
  METRIC_NOT_FOUND: { status: 404, title: 'No such metric in your organization' },
  USAGE_RANGE_NOT_ALIGNED: { status: 400, title: 'The range does not start and end on bucket boundaries' },
  USAGE_RANGE_EMPTY: { status: 400, title: 'The range must end after it starts' },
  USAGE_RANGE_TOO_LONG: { status: 400, title: 'The range has more buckets than one query returns' },
});

const STEP_MS: Readonly<Record<UsageGranularity, number>> = { HOUR: 3_600_000, DAY: 86_400_000 };

/** `GET /v1/usage`'s query as validated against its declared schemas (every field optional there). */
export interface UsageRangeQuery {
  metric?: MetricKey;
  from?: string;
  to?: string;
  granularity?: UsageGranularity;
  customerId?: string;
}

/** A range checked for `usageRange`: aligned, non-empty and within the bucket limit. */
export interface CheckedUsageRange {
  metric: MetricKey;
  from: Date;
  to: Date;
  granularity: UsageGranularity;
  customerId?: string;
}

/**
 * Checks a range query: the four parameters are present, `from` and `to` fall on bucket
 * boundaries (UTC hours, UTC midnights), `from < to`, and there are at most MAX_USAGE_BUCKETS.
 * Pure; a refusal is a 400 with a stable code and the offending fields.
 */
export function checkUsageRange(query: UsageRangeQuery): CheckedUsageRange {
  const { metric, from, to, granularity, customerId } = query;
  if (metric === undefined || from === undefined || to === undefined || granularity === undefined) {
    const missing = (['metric', 'from', 'to', 'granularity'] as const).filter((name) => query[name] === undefined);
    const errors = missing.map((name) => ({ field: `query.${name}`, message: 'is required' }));
    throw commonErrors.VALIDATION_FAILED(errors.map((e) => `${e.field}: ${e.message}`).join('; '), { errors });
  }
  const step = STEP_MS[granularity];
  const boundary = granularity === 'HOUR' ? 'a whole UTC hour' : 'a UTC midnight';
  const misaligned: FieldProblem[] = [];
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    // A fraction beyond milliseconds is lost by Date.parse: look at the text itself too.
    if (Date.parse(value) % step !== 0 || /\.\d*[1-9]/.test(value))
      misaligned.push({ field: `query.${name}`, message: `must be ${boundary} for ${granularity} buckets` });
  }
  if (misaligned.length > 0)
    throw usageQueryErrors.USAGE_RANGE_NOT_ALIGNED(misaligned.map((e) => `${e.field} ${e.message}`).join('; '), {
      errors: misaligned,
    });
  const start = new Date(from);
  const end = new Date(to);
  if (end.getTime() <= start.getTime())
    throw usageQueryErrors.USAGE_RANGE_EMPTY(`to (${to}) must be after from (${from})`, {
      errors: [{ field: 'query.to', message: 'must be after from' }],
    });
  const buckets = (end.getTime() - start.getTime()) / step;
  const limit = MAX_USAGE_BUCKETS[granularity];
  if (buckets > limit)
    throw usageQueryErrors.USAGE_RANGE_TOO_LONG(
      `${buckets} ${granularity} buckets asked for; at most ${limit} per query: split the range`,
      { errors: [{ field: 'query.to', message: `at most ${limit} ${granularity} buckets after from` }] },
    );
  return { metric, from: start, to: end, granularity, ...(customerId === undefined ? {} : { customerId }) };
}

interface MetricRow {
  key: string;
  aggregation: Aggregation;
}

async function definedMetric(db: Knex, organizationId: string, key: string): Promise<MetricRow> {
  const row = (await db('metrics').where({ organization_id: organizationId, key }).first('key', 'aggregation')) as
    MetricRow | undefined;
  if (!row) throw usageQueryErrors.METRIC_NOT_FOUND(`${key} is not a metric of your organization`);
  return row;
}

/** The candidate columns of QuantityParts, as the queries below name them. */
interface PartsRow {
  event_count: string;
  amount_sum: string;
  amount_max: string;
  latest_amount: string;
  distinct_values: string;
}

const partsOf = (r: PartsRow): QuantityParts => ({
  eventCount: r.event_count,
  sum: r.amount_sum,
  max: r.amount_max,
  latest: r.latest_amount,
  distinctValues: r.distinct_values,
});

// The answer columns as exact text (numeric never passes through a JS number), "0" where
// nothing happened.
const PARTS_COLUMNS = `
  coalesce(t.event_count, 0)::text     as event_count,
  coalesce(t.amount_sum, 0)::text      as amount_sum,
  coalesce(t.amount_max, 0)::text      as amount_max,
  coalesce(l.latest_amount, 0)::text   as latest_amount,
  coalesce(u.distinct_values, 0)::text as distinct_values`;

// The customer's subscriptions that have a current period. A period is the half-open
// [lo, hi); its whole hours are [inner_lo, inner_hi), empty when it starts and ends inside one
// hour. date_trunc is told UTC: the session's zone could be one with a half-hour offset.
const CURRENT_PERIODS = `
  select s.id as subscription_id, s.plan_code, s.plan_version,
         s.current_period_start as lo, s.current_period_end as hi,
         case when date_trunc('hour', s.current_period_start, 'UTC') = s.current_period_start
              then s.current_period_start
              else date_trunc('hour', s.current_period_start, 'UTC') + interval '1 hour' end as inner_lo,
         date_trunc('hour', s.current_period_end, 'UTC') as inner_hi
    from subscriptions s
   where s.organization_id = :org and s.customer_id = :customer and s.status <> 'CANCELLED'
     and s.current_period_start is not null and s.current_period_end is not null
     and s.current_period_start < s.current_period_end`;

// Per (period, defined metric): whole hours from the rollups, the edges from the events. An edge
// is [lo, ceilHour(lo)) or [floorHour(hi), hi), clipped so a period inside one hour is read
// once, as a single edge. LATEST is the greatest (ts, event_id), event ids compared bytewise as
// the rollups compare them; UNIQUE_COUNT counts the union of the values, each as jsonb text
// (the form usage_unique_values keeps).
const PERIOD_USAGE = `
  with periods as (${CURRENT_PERIODS}),
  defined as (
    select key, aggregation, unique_property from metrics
     where organization_id = :org and (cast(:metric as text) is null or key = :metric)
  ),
  edges as (
    select subscription_id, lo as edge_lo, least(inner_lo, hi) as edge_hi from periods
    union all
    select subscription_id, greatest(inner_hi, inner_lo), hi from periods
  ),
  edge_events as (
    select g.subscription_id, e.metric, e.amount, e.ts, e.event_id, e.properties
      from edges g
      join usage_events e
        on e.organization_id = :org and e.customer_id = :customer and e.ts >= g.edge_lo and e.ts < g.edge_hi
     where g.edge_lo < g.edge_hi and e.metric in (select key from defined)
  ),
  pieces as (
    select p.subscription_id, r.metric, r.event_count, r.amount_sum, r.amount_max,
           r.latest_ts, r.latest_event_id, r.latest_amount
      from periods p
      join usage_rollups r
        on r.organization_id = :org and r.customer_id = :customer and r.hour >= p.inner_lo and r.hour < p.inner_hi
     where r.metric in (select key from defined)
    union all
    select subscription_id, metric, 1, amount, amount, ts, event_id, amount from edge_events
  ),
  totals as (
    select subscription_id, metric, sum(event_count) as event_count, sum(amount_sum) as amount_sum,
           max(amount_max) as amount_max
      from pieces group by subscription_id, metric
  ),
  latest as (
    select distinct on (subscription_id, metric) subscription_id, metric, latest_amount
      from pieces
     where metric in (select key from defined where aggregation = 'LATEST')
     order by subscription_id, metric, latest_ts desc, latest_event_id collate "C" desc
  ),
  uniques as (
    select subscription_id, metric, count(distinct value) as distinct_values
      from (
        select p.subscription_id, v.metric, v.value
          from periods p
          join usage_unique_values v
            on v.organization_id = :org and v.customer_id = :customer and v.hour >= p.inner_lo and v.hour < p.inner_hi
         where v.metric in (select key from defined where aggregation = 'UNIQUE_COUNT')
        union all
        select x.subscription_id, x.metric, (x.properties -> d.unique_property)::text
          from edge_events x join defined d on d.key = x.metric and d.aggregation = 'UNIQUE_COUNT'
      ) value_sets
     group by subscription_id, metric
  )
  select p.subscription_id, d.key, d.aggregation, ${PARTS_COLUMNS}
    from periods p
   cross join defined d
    left join totals t on t.subscription_id = p.subscription_id and t.metric = d.key
    left join latest l on l.subscription_id = p.subscription_id and l.metric = d.key
    left join uniques u on u.subscription_id = p.subscription_id and u.metric = d.key
   where t.subscription_id is not null or cast(:metric as text) is not null
   order by p.subscription_id, d.key`;

interface PeriodRow {
  subscription_id: string;
  plan_code: string;
  plan_version: number;
  lo: TimestampValue;
  hi: TimestampValue;
}

interface PeriodMetricRow extends PartsRow {
  subscription_id: string;
  key: string;
  aggregation: Aggregation;
}

/**
 * `GET /v1/customers/{customerId}/usage`: the usage so far in the current period of each of the
 * customer's subscriptions that has one, per defined metric with usage (or only `metric`, listed
 * even at zero). A customer this organization does not know has no periods: the same 200 as one
 * without a subscription, so an id reveals nothing.
 */
export async function customerUsage(
  ctx: AggregationContext,
  caller: Caller,
  customerId: string,
  options: { metric?: string } = {},
): Promise<CustomerUsage> {
  const org = caller.organizationId;
  // One snapshot: the periods answered are the ones the usage was read for, even if the
  // subscriptions projection moves a period on between the two statements.
  return ctx.db.transaction(
    async (trx) => {
      if (options.metric !== undefined) await definedMetric(trx, org, options.metric);
      const bindings = { org, customer: customerId, metric: options.metric ?? null };
      const periods = (await trx.raw(`${CURRENT_PERIODS} order by s.current_period_start, s.id`, bindings))
        .rows as PeriodRow[];
      if (periods.length === 0) return { customerId, periods: [] };
      const usage = (await trx.raw(PERIOD_USAGE, bindings)).rows as PeriodMetricRow[];
      return {
        customerId,
        periods: periods.map((p): CurrentPeriodUsage => ({
          subscriptionId: p.subscription_id,
          planCode: p.plan_code,
          planVersion: p.plan_version,
          period: { start: iso(p.lo), end: iso(p.hi) },
          metrics: usage
            .filter((m) => m.subscription_id === p.subscription_id)
            .map((m) => ({
              metricKey: m.key,
              aggregation: m.aggregation,
              quantity: quantityFrom(m.aggregation, partsOf(m)),
              eventCount: Number(m.event_count),
            })),
        })),
      };
    },
    { isolationLevel: 'repeatable read', readOnly: true },
  );
}

/**
 * The buckets of an aligned range from the rollups alone (no edges to read). Buckets are bins
 * of fixed length from `from`, which is a UTC hour or midnight; across customers a bucket sums,
 * takes the greatest maximum and latest event, and counts distinct values over all of them.
 */
function rangeQuery(aggregation: Aggregation, byCustomer: boolean): string {
  const customer = byCustomer ? 'and customer_id = :customer' : '';
  const bucket = (column: string) => `date_bin(cast(:step as interval), ${column}, cast(:from as timestamptz))`;
  const rollups = `from usage_rollups
     where organization_id = :org and metric = :metric ${customer}
       and hour >= cast(:from as timestamptz) and hour < cast(:to as timestamptz)`;
  return `
  with buckets as (
    select generate_series(cast(:from as timestamptz), cast(:to as timestamptz) - cast(:step as interval),
                           cast(:step as interval)) as start
  ),
  totals as (
    select ${bucket('hour')} as start, sum(event_count) as event_count, sum(amount_sum) as amount_sum,
           max(amount_max) as amount_max
      ${rollups}
     group by 1
  ),
  latest as (
    ${
      aggregation === 'LATEST'
        ? `select distinct on (1) ${bucket('hour')} as start, latest_amount ${rollups}
            order by 1, latest_ts desc, latest_event_id collate "C" desc`
        : 'select null::timestamptz as start, null::numeric as latest_amount where false'
    }
  ),
  uniques as (
    ${
      aggregation === 'UNIQUE_COUNT'
        ? `select ${bucket('hour')} as start, count(distinct value) as distinct_values
             from usage_unique_values
            where organization_id = :org and metric = :metric ${customer}
              and hour >= cast(:from as timestamptz) and hour < cast(:to as timestamptz)
            group by 1`
        : 'select null::timestamptz as start, null::bigint as distinct_values where false'
    }
  )
  select b.start, ${PARTS_COLUMNS}
    from buckets b
    left join totals t on t.start = b.start
    left join latest l on l.start = b.start
    left join uniques u on u.start = b.start
   order by b.start`;
}

/** `GET /v1/usage`: one defined metric over [from, to) in buckets, every bucket present. */
export async function usageRange(ctx: AggregationContext, caller: Caller, query: UsageRangeQuery): Promise<UsageRange> {
  const range = checkUsageRange(query);
  const org = caller.organizationId;
  const metric = await definedMetric(ctx.db, org, range.metric);
  const step = STEP_MS[range.granularity];
  const rows = (
    await ctx.db.raw(rangeQuery(metric.aggregation, range.customerId !== undefined), {
      org,
      metric: metric.key,
      customer: range.customerId ?? null,
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      step: `${step / 1000} seconds`,
    })
  ).rows as (PartsRow & { start: TimestampValue })[];
  return {
    metric: metric.key,
    aggregation: metric.aggregation,
    granularity: range.granularity,
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    ...(range.customerId === undefined ? {} : { customerId: range.customerId }),
    buckets: rows.map((r) => {
      const start = new Date(r.start);
      return {
        start: start.toISOString(),
        end: new Date(start.getTime() + step).toISOString(),
        quantity: quantityFrom(metric.aggregation, partsOf(r)),
        eventCount: Number(r.event_count),
      };
    }),
  };
}
