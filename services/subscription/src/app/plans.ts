// Plans and their versions. A version never changes: new prices are a new version, and running
// subscriptions keep the (code, version) they were created on until moved. Currency and interval
// are fixed per plan (a different currency is a different plan).
import {
  buildEvent,
  type CreatePlanBody,
  type CreatePlanVersionBody,
  type PageOf,
  type PageRequest,
  type Plan,
} from '@usageflow/contracts';
import { appendToOutbox, isoOrNull, type Knex } from '@usageflow/db';
import { commonErrors, keysetPage } from '@usageflow/http';
import { randomUUID } from 'node:crypto';
import { subscriptionErrors } from '../domain/errors';
import { isUniqueViolation, lockOrganization, PRODUCER, type Caller, type SubscriptionContext } from './context';

type PlanMetrics = CreatePlanBody['planMetrics'];

interface PlanRow {
  code: string;
  currency: string;
  interval: Plan['interval'];
  latest_version: number;
  archived_at: Date | string | null;
  version: number;
  name: string;
  description: string | null;
  base_price: string;
  plan_metrics: PlanMetrics;
  created_at: Date | string;
}

/** Postgres prints numeric as entered ("100.00" stays "100.00"); the contract wants that string. */
const toPlan = (r: PlanRow): Plan => ({
  code: r.code,
  version: r.version,
  name: r.name,
  description: r.description,
  currency: r.currency,
  interval: r.interval,
  basePrice: r.base_price,
  planMetrics: r.plan_metrics,
  createdAt: new Date(r.created_at).toISOString(),
  latestVersion: r.latest_version,
  archivedAt: isoOrNull(r.archived_at),
});

/** A metric appears at most once per plan, and every one must exist in the organization. */
async function checkPlanMetrics(trx: Knex.Transaction, caller: Caller, planMetrics: PlanMetrics): Promise<void> {
  const keys = planMetrics.map((m) => m.metricKey);
  const duplicate = keys.find((k, i) => keys.indexOf(k) !== i);
  if (duplicate) {
    const i = keys.lastIndexOf(duplicate);
    throw commonErrors.VALIDATION_FAILED(`metric ${duplicate} appears twice`, {
      errors: [{ field: `planMetrics[${i}].metricKey`, message: `${duplicate} is already priced by this plan` }],
    });
  }
  const known = new Set(
    await trx('metrics').where({ organization_id: caller.organizationId }).whereIn('key', keys).pluck('key'),
  );
  const unknown = keys.findIndex((k) => !known.has(k));
  if (unknown >= 0) {
    throw subscriptionErrors.METRIC_NOT_FOUND(`no metric ${keys[unknown]}: create it first`, {
      errors: [{ field: `planMetrics[${unknown}].metricKey`, message: 'no such metric' }],
    });
  }
}

function planQuery(db: Knex, caller: Caller) {
  return db('plans as p')
    .join('plan_versions as v', function () {
      this.on('v.organization_id', 'p.organization_id').andOn('v.code', 'p.code');
    })
    .where('p.organization_id', caller.organizationId)
    .select<PlanRow[]>(
      'p.code',
      'p.currency',
      'p.interval',
      'p.latest_version',
      'p.archived_at',
      'v.version',
      'v.name',
      'v.description',
      'v.base_price',
      'v.plan_metrics',
      'v.created_at',
    );
}

async function loadPlan(db: Knex, caller: Caller, code: string, version?: number): Promise<Plan> {
  const q = planQuery(db, caller).andWhere('p.code', code);
  q.andWhereRaw(
    version === undefined ? 'v.version = p.latest_version' : 'v.version = ?',
    version === undefined ? [] : [version],
  );
  const row = await q.first();
  if (!row)
    throw subscriptionErrors.PLAN_NOT_FOUND(version ? `no version ${version} of plan ${code}` : `no plan ${code}`);
  return toPlan(row);
}

function planEvent(type: 'plan.created' | 'plan.updated', caller: Caller, plan: Plan, at: Date) {
  return buildEvent(type, {
    id: randomUUID(),
    organizationId: caller.organizationId,
    occurredAt: at,
    producer: PRODUCER,
    data: {
      code: plan.code,
      version: plan.version,
      name: plan.name,
      ...(plan.description ? { description: plan.description } : {}),
      currency: plan.currency,
      interval: plan.interval,
      basePrice: plan.basePrice,
      planMetrics: plan.planMetrics,
    },
  });
}

/** `POST /v1/plans`: the plan and its version 1. */
export async function createPlan(
  ctx: SubscriptionContext,
  trx: Knex.Transaction,
  caller: Caller,
  body: CreatePlanBody,
): Promise<Plan> {
  const now = ctx.clock();
  await lockOrganization(trx, caller.organizationId);
  await checkPlanMetrics(trx, caller, body.planMetrics);
  try {
    await trx('plans').insert({
      organization_id: caller.organizationId,
      code: body.code,
      currency: body.currency,
      interval: body.interval,
      latest_version: 1,
      created_at: now,
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw subscriptionErrors.PLAN_CODE_TAKEN(`a plan with code ${body.code} already exists`);
    throw err;
  }
  await trx('plan_versions').insert({
    organization_id: caller.organizationId,
    code: body.code,
    version: 1,
    name: body.name,
    description: body.description ?? null,
    base_price: body.basePrice,
    plan_metrics: JSON.stringify(body.planMetrics),
    created_at: now,
  });
  const plan = await loadPlan(trx, caller, body.code);
  await appendToOutbox(trx, [planEvent('plan.created', caller, plan, now)]);
  return plan;
}

/** `POST /v1/plans/{code}/versions`: new prices as the next version. */
export async function createPlanVersion(
  ctx: SubscriptionContext,
  trx: Knex.Transaction,
  caller: Caller,
  code: string,
  body: CreatePlanVersionBody,
): Promise<Plan> {
  const now = ctx.clock();
  await lockOrganization(trx, caller.organizationId);
  const current = await loadPlan(trx, caller, code);
  if (current.archivedAt) throw subscriptionErrors.PLAN_ARCHIVED(`plan ${code} is archived`);
  await checkPlanMetrics(trx, caller, body.planMetrics);
  const version = current.latestVersion + 1;
  await trx('plan_versions').insert({
    organization_id: caller.organizationId,
    code,
    version,
    name: body.name ?? current.name,
    description: body.description ?? current.description,
    base_price: body.basePrice,
    plan_metrics: JSON.stringify(body.planMetrics),
    created_at: now,
  });
  await trx('plans').where({ organization_id: caller.organizationId, code }).update({ latest_version: version });
  const plan = await loadPlan(trx, caller, code);
  await appendToOutbox(trx, [planEvent('plan.updated', caller, plan, now)]);
  return plan;
}

/** `POST /v1/plans/{code}/archive`: idempotent; running subscriptions keep being billed. */
export async function archivePlan(ctx: SubscriptionContext, caller: Caller, code: string): Promise<Plan> {
  return ctx.db.transaction(async (trx) => {
    await lockOrganization(trx, caller.organizationId);
    const plan = await loadPlan(trx, caller, code);
    if (plan.archivedAt) return plan;
    const now = ctx.clock();
    await trx('plans').where({ organization_id: caller.organizationId, code }).update({ archived_at: now });
    await appendToOutbox(trx, [
      buildEvent('plan.archived', {
        id: randomUUID(),
        organizationId: caller.organizationId,
        occurredAt: now,
        producer: PRODUCER,
        data: { code, archivedAt: now.toISOString() },
      }),
    ]);
    return { ...plan, archivedAt: now.toISOString() };
  });
}

/** `GET /v1/plans/{code}` (latest, or `version`). */
export function getPlan(ctx: SubscriptionContext, caller: Caller, code: string, version?: number): Promise<Plan> {
  return loadPlan(ctx.db, caller, code, version);
}

/** `GET /v1/plans`: latest versions, ordered by code. */
export function listPlans(ctx: SubscriptionContext, caller: Caller, page: PageRequest): Promise<PageOf<Plan>> {
  return keysetPage<PlanRow, Plan>(
    planQuery(ctx.db, caller).andWhereRaw('v.version = p.latest_version'),
    page,
    [{ column: 'p.code', field: 'code', type: 'text' }],
    toPlan,
  );
}
