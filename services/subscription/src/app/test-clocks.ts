// Test clocks: simulated time for test-mode customers, as in Stripe. Advancing one closes every
// period its subscriptions pass over, with the closer's own code, so a whole billing cycle runs
// in seconds exactly as real time would run it.
import {
  buildEvent,
  type AdvanceTestClockBody,
  type CreateTestClockBody,
  type PageOf,
  type PageRequest,
  type TestClock,
} from '@usageflow/contracts';
import { appendToOutbox, type Knex } from '@usageflow/db';
import { commonErrors, CREATED_ORDER, keysetPage } from '@usageflow/http';
import { randomUUID } from 'node:crypto';
import { subscriptionErrors } from '../domain/errors';
import { PRODUCER, type Caller, type SubscriptionContext } from './context';
import { closeDuePeriodsOf } from './period-closing';
import type { SubscriptionRow } from './subscriptions';

/**
 * How far one advance may jump: ten years is 120 monthly closings per subscription in one
 * transaction; a longer simulation advances in steps.
 */
export const MAX_ADVANCE_MS = 10 * 366 * 86_400_000;

interface TestClockRow {
  id: string;
  organization_id: string;
  name: string | null;
  frozen_time: Date | string;
  created_at: Date | string;
}

const toTestClock = (r: TestClockRow): TestClock => ({
  id: r.id,
  name: r.name,
  frozenTime: new Date(r.frozen_time).toISOString(),
  createdAt: new Date(r.created_at).toISOString(),
});

/** `POST /v1/test-clocks`, inside the caller's (idempotency) transaction. */
export async function createTestClock(
  ctx: SubscriptionContext,
  trx: Knex.Transaction,
  caller: Caller,
  body: CreateTestClockBody,
): Promise<TestClock> {
  const now = ctx.clock();
  const row: TestClockRow = {
    id: randomUUID(),
    organization_id: caller.organizationId,
    name: body.name ?? null,
    frozen_time: new Date(body.frozenTime),
    created_at: now,
  };
  await trx('test_clocks').insert(row);
  await appendToOutbox(trx, [
    buildEvent('test_clock.created', {
      id: randomUUID(),
      organizationId: caller.organizationId,
      occurredAt: now,
      producer: PRODUCER,
      data: { testClockId: row.id, ...(body.name ? { name: body.name } : {}), frozenTime: toTestClock(row).frozenTime },
    }),
  ]);
  return toTestClock(row);
}

/** `GET /v1/test-clocks/{id}`. */
export async function getTestClock(ctx: SubscriptionContext, caller: Caller, id: string): Promise<TestClock> {
  const row = await ctx.db<TestClockRow>('test_clocks').where({ id, organization_id: caller.organizationId }).first();
  if (!row) throw subscriptionErrors.TEST_CLOCK_NOT_FOUND(`no test clock ${id}`);
  return toTestClock(row);
}

/** `GET /v1/test-clocks`: ordered by creation. */
export function listTestClocks(
  ctx: SubscriptionContext,
  caller: Caller,
  page: PageRequest,
): Promise<PageOf<TestClock>> {
  return keysetPage<TestClockRow, TestClock>(
    ctx.db('test_clocks').where({ organization_id: caller.organizationId }),
    page,
    CREATED_ORDER,
    toTestClock,
  );
}

/**
 * `POST /v1/test-clocks/{id}/advance`: moves the clock forward to `frozenTime` and closes, in
 * order, every period of its subscriptions that is due by then (end + grace). Advancing to the
 * time the clock already shows changes nothing, so a retried request answers like the first.
 */
export async function advanceTestClock(
  ctx: SubscriptionContext,
  caller: Caller,
  id: string,
  body: AdvanceTestClockBody,
): Promise<{ clock: TestClock; closed: number }> {
  const to = new Date(body.frozenTime);
  // Read before the transaction: what is acknowledged after this belongs after the closings.
  const marks = await ctx.usageHighWaterMarks();
  return ctx.db.transaction(async (trx) => {
    const row = await trx<TestClockRow>('test_clocks')
      .where({ id, organization_id: caller.organizationId })
      .forUpdate()
      .first();
    if (!row) throw subscriptionErrors.TEST_CLOCK_NOT_FOUND(`no test clock ${id}`);
    const from = new Date(row.frozen_time);
    if (to.getTime() === from.getTime()) return { clock: toTestClock(row), closed: 0 };
    if (to < from) {
      throw subscriptionErrors.TEST_CLOCK_BACKWARDS(
        `the clock shows ${from.toISOString()}; ${to.toISOString()} is in its past`,
      );
    }
    if (to.getTime() - from.getTime() > MAX_ADVANCE_MS) {
      throw commonErrors.VALIDATION_FAILED('a test clock advances at most ten years at a time', {
        errors: [{ field: 'frozenTime', message: `must be at most ten years after ${from.toISOString()}` }],
      });
    }
    await trx('test_clocks').where({ id }).update({ frozen_time: to });
    await appendToOutbox(trx, [
      buildEvent('test_clock.advanced', {
        id: randomUUID(),
        organizationId: caller.organizationId,
        occurredAt: ctx.clock(),
        producer: PRODUCER,
        data: { testClockId: id, from: from.toISOString(), to: to.toISOString() },
      }),
    ]);
    // Locked in id order, the same order every advance of this clock takes.
    const subscriptions = await trx<SubscriptionRow>('subscriptions')
      .where({ test_clock_id: id })
      .whereNotNull('period_end')
      .orderBy('id')
      .forUpdate();
    let closed = 0;
    for (const subscription of subscriptions) closed += await closeDuePeriodsOf(ctx, trx, subscription, to, marks);
    return { clock: toTestClock({ ...row, frozen_time: to }), closed };
  });
}
