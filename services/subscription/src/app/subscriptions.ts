// Subscriptions: a customer on one version of a plan, with its billing periods. Creating and
// reading them; cancel, reactivate and the period closer come next (issue 5, in progress).
import {
  buildEvent,
  type CreateSubscriptionBody,
  type Interval,
  type PageOf,
  type PageRequest,
  type Subscription,
} from '@usageflow/contracts';
import { appendToOutbox, type Knex } from '@usageflow/db';
import { CREATED_ORDER, keysetPage } from '@usageflow/http';
import { randomUUID } from 'node:crypto';
import { subscriptionErrors } from '../domain/errors';
import { billingAnchor, periodAt } from '../domain/periods';
import { isUniqueViolation, PRODUCER, type Caller, type SubscriptionContext } from './context';

interface SubscriptionRow {
  id: string;
  organization_id: string;
  customer_id: string;
  plan_code: string;
  plan_version: number;
  status: Subscription['status'];
  start_at: Date | string;
  anchor_kind: Subscription['billingAnchorKind'];
  billing_anchor: Date | string;
  period_start: Date | string | null;
  period_end: Date | string | null;
  period_index: number | null;
  cancel_at: Date | string | null;
  ended_at: Date | string | null;
  test_clock_id: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

const toSubscription = (r: SubscriptionRow): Subscription => ({
  id: r.id,
  customerId: r.customer_id,
  planCode: r.plan_code,
  planVersion: r.plan_version,
  status: r.status,
  startAt: iso(r.start_at)!,
  billingAnchorKind: r.anchor_kind,
  billingAnchor: iso(r.billing_anchor)!,
  currentPeriod: r.period_start && r.period_end ? { start: iso(r.period_start)!, end: iso(r.period_end)! } : null,
  cancelAt: iso(r.cancel_at),
  endedAt: iso(r.ended_at),
  testClockId: r.test_clock_id,
  createdAt: iso(r.created_at)!,
});

/** `POST /v1/subscriptions`, inside the caller's (idempotency) transaction. */
export async function createSubscription(
  ctx: SubscriptionContext,
  trx: Knex.Transaction,
  caller: Caller,
  body: CreateSubscriptionBody,
): Promise<Subscription> {
  const org = caller.organizationId;
  const customer = await trx('customers').where({ organization_id: org, customer_id: body.customerId }).first();
  if (!customer) throw subscriptionErrors.CUSTOMER_NOT_FOUND(`no customer ${body.customerId}`);
  const plan = await trx('plans').where({ organization_id: org, code: body.planCode }).first();
  if (!plan) throw subscriptionErrors.PLAN_NOT_FOUND(`no plan ${body.planCode}`);
  if (plan.archived_at) throw subscriptionErrors.PLAN_ARCHIVED(`plan ${body.planCode} is archived`);
  const version = body.planVersion ?? (plan.latest_version as number);
  const exists = await trx('plan_versions')
    .where({ organization_id: org, code: body.planCode, version })
    .first('version');
  if (!exists) throw subscriptionErrors.PLAN_NOT_FOUND(`no version ${version} of plan ${body.planCode}`);

  // A test-mode customer lives on its test clock's time; everyone else on the wall clock.
  let now = ctx.clock();
  if (customer.test_clock_id) {
    const clock = await trx('test_clocks').where({ id: customer.test_clock_id }).first('frozen_time');
    now = new Date(clock.frozen_time);
  }
  const startAt = body.startAt ? new Date(body.startAt) : now;
  const anchorKind = body.billingAnchor ?? 'CALENDAR';
  const interval = plan.interval as Interval;
  const anchor = billingAnchor(startAt, anchorKind, interval);
  // NOTE: the first period is open even when startAt lies in the past: the closer closes each
  // due period in order, so none is skipped.
  const first = periodAt(anchor, interval, startAt, startAt);
  const created = ctx.clock();
  const row: SubscriptionRow = {
    id: randomUUID(),
    organization_id: org,
    customer_id: body.customerId,
    plan_code: body.planCode,
    plan_version: version,
    status: 'ACTIVE',
    start_at: startAt,
    anchor_kind: anchorKind,
    billing_anchor: anchor,
    period_start: first.start,
    period_end: first.end,
    period_index: first.index,
    cancel_at: null,
    ended_at: null,
    test_clock_id: customer.test_clock_id,
    created_at: created,
    updated_at: created,
  };
  try {
    await trx('subscriptions').insert(row);
  } catch (err) {
    if (isUniqueViolation(err, 'subscriptions_one_live_per_plan'))
      throw subscriptionErrors.ALREADY_SUBSCRIBED(
        `${body.customerId} already has a live ${body.planCode} subscription`,
      );
    throw err;
  }
  const subscription = toSubscription(row);
  await appendToOutbox(trx, [
    buildEvent('subscription.created', {
      id: randomUUID(),
      organizationId: org,
      occurredAt: created,
      producer: PRODUCER,
      data: {
        subscriptionId: row.id,
        customerId: row.customer_id,
        planCode: row.plan_code,
        planVersion: row.plan_version,
        startAt: subscription.startAt,
        billingAnchor: subscription.billingAnchor,
        currentPeriod: subscription.currentPeriod!,
        ...(row.test_clock_id ? { testClockId: row.test_clock_id } : {}),
      },
    }),
  ]);
  return subscription;
}

/** `GET /v1/subscriptions/{id}`. */
export async function getSubscription(ctx: SubscriptionContext, caller: Caller, id: string): Promise<Subscription> {
  const row = await ctx
    .db<SubscriptionRow>('subscriptions')
    .where({ id, organization_id: caller.organizationId })
    .first();
  if (!row) throw subscriptionErrors.SUBSCRIPTION_NOT_FOUND(`no subscription ${id}`);
  return toSubscription(row);
}

/** `GET /v1/subscriptions?customerId=&status=`: ordered by creation. */
export function listSubscriptions(
  ctx: SubscriptionContext,
  caller: Caller,
  page: PageRequest,
  filter: { customerId?: string; status?: string },
): Promise<PageOf<Subscription>> {
  const q = ctx.db('subscriptions').where({ organization_id: caller.organizationId });
  if (filter.customerId !== undefined) q.andWhere({ customer_id: filter.customerId });
  if (filter.status !== undefined) q.andWhere({ status: filter.status });
  return keysetPage<SubscriptionRow, Subscription>(q, page, CREATED_ORDER, toSubscription);
}
