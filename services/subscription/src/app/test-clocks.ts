// Test clocks: simulated time for test-mode customers. Creating and reading them; advancing
// (which closes the periods it passes over) comes with the period closer.
import {
  buildEvent,
  type CreateTestClockBody,
  type PageOf,
  type PageRequest,
  type TestClock,
} from '@usageflow/contracts';
import { appendToOutbox, type Knex } from '@usageflow/db';
import { CREATED_ORDER, keysetPage } from '@usageflow/http';
import { randomUUID } from 'node:crypto';
import { subscriptionErrors } from '../domain/errors';
import { PRODUCER, type Caller, type SubscriptionContext } from './context';

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
