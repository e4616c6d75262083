// Metrics: what an organization meters. The key is immutable (usage events name it) and so is
// the aggregation (changing it would reprice usage already counted).
import {
  buildEvent,
  type CreateMetricBody,
  type Metric,
  type PageOf,
  type PageRequest,
  type UpdateMetricBody,
} from '@usageflow/contracts';
import { appendToOutbox, type Knex } from '@usageflow/db';
import { keysetPage } from '@usageflow/http';
import { randomUUID } from 'node:crypto';
import { subscriptionErrors } from '../domain/errors';
import { isUniqueViolation, lockOrganization, PRODUCER, type Caller, type SubscriptionContext } from './context';

interface MetricRow {
  organization_id: string;
  key: string;
  name: string;
  unit: string;
  aggregation: Metric['aggregation'];
  unique_property: string | null;
  description: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const toMetric = (r: MetricRow): Metric => ({
  key: r.key,
  name: r.name,
  unit: r.unit,
  aggregation: r.aggregation,
  uniqueProperty: r.unique_property,
  description: r.description,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

/** The event data of a metric's complete state. */
function metricData(m: Metric) {
  return {
    key: m.key,
    name: m.name,
    unit: m.unit,
    aggregation: m.aggregation,
    ...(m.uniqueProperty ? { uniqueProperty: m.uniqueProperty } : {}),
    ...(m.description ? { description: m.description } : {}),
  };
}

/** `POST /v1/metrics`, inside the caller's (idempotency) transaction. */
export async function createMetric(
  ctx: SubscriptionContext,
  trx: Knex.Transaction,
  caller: Caller,
  body: CreateMetricBody,
): Promise<Metric> {
  const now = ctx.clock();
  const aggregation = body.aggregation ?? 'SUM';
  const row: MetricRow = {
    organization_id: caller.organizationId,
    key: body.key,
    name: body.name,
    unit: body.unit,
    aggregation,
    // NOTE: only UNIQUE_COUNT reads a property; a stray one on another aggregation is dropped
    unique_property: aggregation === 'UNIQUE_COUNT' ? (body.uniqueProperty ?? null) : null,
    description: body.description ?? null,
    created_at: now,
    updated_at: now,
  };
  await lockOrganization(trx, caller.organizationId);
  try {
    await trx('metrics').insert(row);
  } catch (err) {
    // the whole transaction rolls back with the error: nothing half-written
    if (isUniqueViolation(err))
      throw subscriptionErrors.METRIC_KEY_TAKEN(`a metric with key ${body.key} already exists`);
    throw err;
  }
  const metric = toMetric(row);
  await appendToOutbox(trx, [
    buildEvent('metric.created', {
      id: randomUUID(),
      organizationId: caller.organizationId,
      occurredAt: now,
      producer: PRODUCER,
      data: metricData(metric),
    }),
  ]);
  return metric;
}

/** `GET /v1/metrics`: ordered by key. */
export function listMetrics(ctx: SubscriptionContext, caller: Caller, page: PageRequest): Promise<PageOf<Metric>> {
  return keysetPage<MetricRow, Metric>(
    ctx.db('metrics').where({ organization_id: caller.organizationId }),
    page,
    [{ column: 'key', field: 'key', type: 'text' }],
    toMetric,
  );
}

/** `GET /v1/metrics/{key}`: another organization's key is simply not found. */
export async function getMetric(ctx: SubscriptionContext, caller: Caller, key: string): Promise<Metric> {
  const row = await ctx.db<MetricRow>('metrics').where({ organization_id: caller.organizationId, key }).first();
  if (!row) throw subscriptionErrors.METRIC_NOT_FOUND(`no metric ${key}`);
  return toMetric(row);
}

/** `PATCH /v1/metrics/{key}`: name, unit, description; emits the complete new state. */
export async function updateMetric(
  ctx: SubscriptionContext,
  caller: Caller,
  key: string,
  body: UpdateMetricBody,
): Promise<Metric> {
  return ctx.db.transaction(async (trx) => {
    await lockOrganization(trx, caller.organizationId);
    const row = await trx<MetricRow>('metrics').where({ organization_id: caller.organizationId, key }).first();
    if (!row) throw subscriptionErrors.METRIC_NOT_FOUND(`no metric ${key}`);
    const next: MetricRow = {
      ...row,
      name: body.name ?? row.name,
      unit: body.unit ?? row.unit,
      description: body.description ?? row.description,
    };
    if (next.name === row.name && next.unit === row.unit && next.description === row.description) {
      return toMetric(row); // nothing changed: no write, no event
    }
    next.updated_at = ctx.clock();
    await trx('metrics')
      .where({ organization_id: caller.organizationId, key })
      .update({ name: next.name, unit: next.unit, description: next.description, updated_at: next.updated_at });
    const metric = toMetric(next);
    await appendToOutbox(trx, [
      buildEvent('metric.updated', {
        id: randomUUID(),
        organizationId: caller.organizationId,
        occurredAt: next.updated_at,
        producer: PRODUCER,
        data: metricData(metric),
      }),
    ]);
    return metric;
  });
}
