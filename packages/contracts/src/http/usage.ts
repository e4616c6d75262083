// The aggregation service's live usage queries: a customer's usage in its current periods, and
// one metric over a time range in hourly or daily buckets. Quantities are exact decimal strings
// computed by the same rules as the period summaries billing prices (see `MetricSummary`), but
// live: an open period's numbers still grow, and only a summary is final.
import { Type, type Static } from '@sinclair/typebox';
import {
  Aggregation,
  Closed,
  CustomerId,
  DecimalString,
  Described,
  IsoDateTime,
  MetricKey,
  Period,
  PlanCode,
  StringEnum,
  Uuid,
} from '../common';
import { MetricSummary } from '../events/summaries';
import type { RouteSpec } from './openapi';

/** The bucket sizes of a usage range: UTC hours, or UTC days (midnight to midnight). */
export const USAGE_GRANULARITIES = ['HOUR', 'DAY'] as const;
/** A bucket size of a usage range. */
export type UsageGranularity = (typeof USAGE_GRANULARITIES)[number];

/**
 * The most buckets one range query returns, per granularity: 31 days of hours, a leap year of
 * days. A longer range is refused rather than silently truncated.
 */
export const MAX_USAGE_BUCKETS: Readonly<Record<UsageGranularity, number>> = Object.freeze({ HOUR: 744, DAY: 366 });

/** `GET /v1/customers/{customerId}/usage` query. */
export const CUSTOMER_USAGE_QUERY = {
  metric: Described(MetricKey, 'Only this metric (listed even without usage); a key not defined is 404.'),
};

/** One current period of a customer's subscription, with its usage so far. */
export const CurrentPeriodUsage = Closed({
  subscriptionId: Uuid,
  planCode: PlanCode,
  planVersion: Type.Integer({ minimum: 1 }),
  period: Period,
  metrics: Described(
    Type.Array(MetricSummary),
    'Every defined metric with usage in the period so far (or the one asked for), by key.',
  ),
});
export type CurrentPeriodUsage = Static<typeof CurrentPeriodUsage>;

/** The answer to `GET /v1/customers/{customerId}/usage`. */
export const CustomerUsage = Closed({
  customerId: CustomerId,
  periods: Described(
    Type.Array(CurrentPeriodUsage),
    'One per subscription not cancelled that has a current period; empty for a customer without one.',
  ),
});
export type CustomerUsage = Static<typeof CustomerUsage>;

/** `GET /v1/usage` query: `metric`, `from`, `to` and `granularity` are required. */
export const USAGE_RANGE_QUERY = {
  metric: Described(MetricKey, 'Required: a defined metric.'),
  from: Described(IsoDateTime, 'Required: the first bucket start, aligned to the granularity (UTC).'),
  to: Described(IsoDateTime, 'Required: the end of the last bucket (exclusive), aligned, after `from`.'),
  granularity: Described(
    StringEnum(USAGE_GRANULARITIES),
    `Required: HOUR (at most ${MAX_USAGE_BUCKETS.HOUR} buckets) or DAY (at most ${MAX_USAGE_BUCKETS.DAY}).`,
  ),
  customerId: Described(CustomerId, "Only this customer's usage; without it, every customer's together."),
};

/** One bucket [start, end) of a usage range. */
export const UsageBucket = Closed({
  start: IsoDateTime,
  end: IsoDateTime,
  quantity: Described(DecimalString, 'The aggregated quantity in the bucket, exact; "0" when it has no usage.'),
  eventCount: Type.Integer({ minimum: 0 }),
});
export type UsageBucket = Static<typeof UsageBucket>;

/** The answer to `GET /v1/usage`: every bucket of [from, to), empty ones included. */
export const UsageRange = Closed({
  metric: MetricKey,
  aggregation: Aggregation,
  granularity: StringEnum(USAGE_GRANULARITIES),
  from: IsoDateTime,
  to: IsoDateTime,
  customerId: Type.Optional(CustomerId),
  buckets: Type.Array(UsageBucket),
});
export type UsageRange = Static<typeof UsageRange>;

type Spec = Omit<RouteSpec, 'tag' | 'auth' | 'permission'>;
/** Every role reads usage, and so do API keys with the usage:read scope. */
const read = (spec: Spec): RouteSpec => ({ ...spec, tag: 'Usage', auth: 'jwtOrApiKey', permission: 'usage:read' });

/** The aggregation service's usage query routes. */
export const USAGE_ROUTES: readonly RouteSpec[] = [
  read({
    method: 'get',
    path: '/v1/customers/{customerId}/usage',
    operationId: 'getCustomerUsage',
    summary: "A customer's usage in the current period of each of its subscriptions, live",
    pathParams: { customerId: CustomerId },
    query: CUSTOMER_USAGE_QUERY,
    responses: { 200: { description: 'The current periods and their usage so far', schema: CustomerUsage } },
    problems: { 404: 'The metric asked for is not defined in your organization' },
  }),
  read({
    method: 'get',
    path: '/v1/usage',
    operationId: 'getUsageRange',
    summary: 'One metric over a time range, in hourly or daily buckets',
    query: USAGE_RANGE_QUERY,
    responses: { 200: { description: 'Every bucket of the range', schema: UsageRange } },
    problems: { 404: 'The metric is not defined in your organization' },
  }),
];
