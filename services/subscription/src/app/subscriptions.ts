// Subscriptions: a customer on one version of a plan, with its billing periods and status. Each
// change locks the subscription row, decides with the pure state machine, then saves and appends
// its event in the same transaction; a change that changes nothing writes and emits nothing.
import {
  buildEvent,
  type CancelSubscriptionBody,
  type CreateSubscriptionBody,
  type DataOf,
  type Interval,
  type PageOf,
  type PageRequest,
  type Subscription,
} from '@usageflow/contracts';
import { appendToOutbox, dateOrNull, iso, isoOrNull, type Knex } from '@usageflow/db';
import { CREATED_ORDER, keysetPage } from '@usageflow/http';
import { randomUUID } from 'node:crypto';
import { subscriptionErrors } from '../domain/errors';
import { billingAnchor, periodAt } from '../domain/periods';
import { decideCancel, decideReactivate, decideSuspend } from '../domain/subscription-status';
import { isUniqueViolation, lockSubscription, PRODUCER, type Caller, type SubscriptionContext } from './context';

/** A subscriptions row. */
export interface SubscriptionRow {
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
  exclusive: boolean;
  /** The invoice whose failure suspended it (paying it reactivates); null otherwise. */
  suspended_invoice_id: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

/** The API view of a row. */
export const toSubscription = (r: SubscriptionRow): Subscription => ({
  id: r.id,
  customerId: r.customer_id,
  planCode: r.plan_code,
  planVersion: r.plan_version,
  status: r.status,
  startAt: iso(r.start_at),
  billingAnchorKind: r.anchor_kind,
  billingAnchor: iso(r.billing_anchor),
  currentPeriod: r.period_start && r.period_end ? { start: iso(r.period_start), end: iso(r.period_end) } : null,
  cancelAt: isoOrNull(r.cancel_at),
  endedAt: isoOrNull(r.ended_at),
  testClockId: r.test_clock_id,
  createdAt: iso(r.created_at),
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

  const now = await nowFor(ctx, trx, customer.test_clock_id);
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
    exclusive: ctx.settings.oneLivePerPlan,
    suspended_invoice_id: null,
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

/**
 * `POST /v1/subscriptions/{id}/cancel`: at the current period's end (default), or immediately,
 * which cuts the current period short at now; that short period still closes (and is billed) as
 * the last one. Cancelling a cancelled subscription changes nothing and answers the same.
 */
export function cancelSubscription(
  ctx: SubscriptionContext,
  caller: Caller,
  id: string,
  body: CancelSubscriptionBody,
): Promise<Subscription> {
  return ctx.db.transaction(async (trx) => {
    const row = await lockedSubscription(trx, caller, id);
    const now = await nowFor(ctx, trx, row.test_clock_id);
    const interval = await intervalOf(trx, row);
    const startAt = new Date(row.start_at);
    // A subscription that has not started yet: its first period is the current one.
    const current = periodAt(new Date(row.billing_anchor), interval, startAt, now < startAt ? startAt : now);
    const at = body.at ?? 'PERIOD_END';
    const decision = decideCancel(stateOf(row), { at }, now, current);
    if (!decision.changed) return toSubscription(row);
    const update: Partial<SubscriptionRow> = {
      status: decision.state.status,
      cancel_at: decision.state.cancelAt,
      ended_at: decision.state.endedAt,
      updated_at: ctx.clock(),
    };
    // NOTE: only the open period that contains now (or lies ahead) is cut: a period that already
    // ended and waits out its grace window closes whole, and the closing then opens the short
    // remainder up to the cancellation (onPeriodClosed).
    if (at === 'IMMEDIATELY' && row.period_end && new Date(row.period_end) > now) {
      const short = decision.shortLastPeriod;
      Object.assign(
        update,
        short ? { period_end: short.end } : { period_start: null, period_end: null, period_index: null },
      );
    }
    await trx('subscriptions').where({ id: row.id }).update(update);
    await appendToOutbox(trx, [
      subscriptionEvent(ctx, row, 'subscription.cancelled', {
        atPeriodEnd: at === 'PERIOD_END',
        effectiveAt: decision.endsAt.toISOString(),
        ...(body.reason ? { reason: body.reason } : {}),
      }),
    ]);
    return toSubscription({ ...row, ...update });
  });
}

/** `POST /v1/subscriptions/{id}/reactivate`: SUSPENDED -> ACTIVE; an active one is answered as is. */
export function reactivateSubscription(ctx: SubscriptionContext, caller: Caller, id: string): Promise<Subscription> {
  return ctx.db.transaction(async (trx) => {
    const row = await lockedSubscription(trx, caller, id);
    const decision = decideReactivate(stateOf(row));
    if (!decision.changed) return toSubscription(row);
    const now = await nowFor(ctx, trx, row.test_clock_id);
    const update = { status: decision.state.status, suspended_invoice_id: null, updated_at: ctx.clock() };
    await trx('subscriptions').where({ id: row.id }).update(update);
    await appendToOutbox(trx, [
      subscriptionEvent(ctx, row, 'subscription.reactivated', { reason: 'MANUAL', effectiveAt: now.toISOString() }),
    ]);
    return toSubscription({ ...row, ...update });
  });
}

/** What an invoice.failed did to its subscription. */
export type FailedInvoiceOutcome = 'suspended' | 'already-suspended' | 'cancelled' | 'unknown-subscription';

/**
 * Billing gave up collecting an invoice: its subscription is suspended (subscription.suspended),
 * in the consumer's transaction. A repeat, a cancelled subscription or a subscription this
 * organization does not have changes nothing: each is an answer, not an error to retry.
 */
export async function suspendForFailedInvoice(
  ctx: SubscriptionContext,
  trx: Knex.Transaction,
  organizationId: string,
  failure: Pick<DataOf<'invoice.failed'>, 'subscriptionId' | 'invoiceId' | 'failedAt'>,
): Promise<FailedInvoiceOutcome> {
  const row = await lockSubscription<SubscriptionRow>(trx, organizationId, failure.subscriptionId);
  if (!row) return 'unknown-subscription';
  if (row.status === 'CANCELLED') return 'cancelled';
  const decision = decideSuspend(stateOf(row), 'PAYMENT_FAILED');
  if (!decision.changed) return 'already-suspended';
  await trx('subscriptions')
    .where({ id: row.id })
    .update({ status: decision.state.status, suspended_invoice_id: failure.invoiceId, updated_at: ctx.clock() });
  await appendToOutbox(trx, [
    subscriptionEvent(ctx, row, 'subscription.suspended', {
      reason: 'PAYMENT_FAILED',
      invoiceId: failure.invoiceId,
      // NOTE: billing's time: the test clock's for a test-mode subscription, as its dunning ran on it.
      effectiveAt: failure.failedAt,
    }),
  ]);
  return 'suspended';
}

/** What an invoice.paid did to its subscription. */
export type PaidInvoiceOutcome = 'reactivated' | 'not-suspended-for-it' | 'unknown-subscription';

/**
 * Billing collected an invoice: if its failure is what suspended the subscription, the
 * subscription is active again (subscription.reactivated, PAYMENT_SUCCEEDED), in the consumer's
 * transaction. A payment of any other invoice, a repeat, or a subscription suspended for another
 * invoice or reactivated since changes nothing.
 */
export async function reactivateForPaidInvoice(
  ctx: SubscriptionContext,
  trx: Knex.Transaction,
  organizationId: string,
  payment: Pick<DataOf<'invoice.paid'>, 'subscriptionId' | 'invoiceId' | 'paidAt'>,
): Promise<PaidInvoiceOutcome> {
  const row = await lockSubscription<SubscriptionRow>(trx, organizationId, payment.subscriptionId);
  if (!row) return 'unknown-subscription';
  if (row.status !== 'SUSPENDED' || row.suspended_invoice_id !== payment.invoiceId) return 'not-suspended-for-it';
  const decision = decideReactivate(stateOf(row));
  await trx('subscriptions')
    .where({ id: row.id })
    .update({ status: decision.state.status, suspended_invoice_id: null, updated_at: ctx.clock() });
  await appendToOutbox(trx, [
    subscriptionEvent(ctx, row, 'subscription.reactivated', {
      reason: 'PAYMENT_SUCCEEDED',
      invoiceId: payment.invoiceId,
      // NOTE: billing's time, as for the suspension: the test clock's for a test-mode subscription.
      effectiveAt: payment.paidAt,
    }),
  ]);
  return 'reactivated';
}

/** The time a subscription lives on: its test clock's frozen time, or the wall clock. */
export async function nowFor(ctx: SubscriptionContext, trx: Knex.Transaction, testClockId: string | null) {
  if (!testClockId) return ctx.clock();
  const clock = await trx('test_clocks').where({ id: testClockId }).first<{ frozen_time: Date }>('frozen_time');
  return new Date(clock.frozen_time);
}

async function lockedSubscription(trx: Knex.Transaction, caller: Caller, id: string): Promise<SubscriptionRow> {
  const row = await lockSubscription<SubscriptionRow>(trx, caller.organizationId, id);
  if (!row) throw subscriptionErrors.SUBSCRIPTION_NOT_FOUND(`no subscription ${id}`);
  return row;
}

/** The interval of the subscription's plan (fixed for the plan family). */
export async function intervalOf(trx: Knex.Transaction, row: SubscriptionRow): Promise<Interval> {
  const plan = await trx('plans')
    .where({ organization_id: row.organization_id, code: row.plan_code })
    .first<{ interval: Interval }>('interval');
  return plan.interval;
}

/** The status fields of a row, as the state machine takes them. */
export function stateOf(row: SubscriptionRow) {
  return { status: row.status, cancelAt: dateOrNull(row.cancel_at), endedAt: dateOrNull(row.ended_at) };
}

type StatusEventType = 'subscription.cancelled' | 'subscription.reactivated' | 'subscription.suspended';

function subscriptionEvent<T extends StatusEventType>(
  ctx: SubscriptionContext,
  row: SubscriptionRow,
  type: T,
  data: Omit<DataOf<T>, 'subscriptionId' | 'customerId'>,
) {
  return buildEvent(type, {
    id: randomUUID(),
    organizationId: row.organization_id,
    occurredAt: ctx.clock(),
    producer: PRODUCER,
    data: { subscriptionId: row.id, customerId: row.customer_id, ...data } as DataOf<T>,
  });
}
