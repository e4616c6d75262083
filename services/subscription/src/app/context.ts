import type { Knex } from '@usageflow/db';
import type { Logger } from '@usageflow/telemetry';

/** What every subscription use case runs with; the clock is injected for tests. */
export interface SubscriptionContext {
  db: Knex;
  logger: Logger;
  clock: () => Date;
}

/** The `producer` of the subscription service's events. */
export const PRODUCER = 'subscription';

/** Whom a request acts for: the organization always comes from the credential. */
export interface Caller {
  organizationId: string;
}

/**
 * Serializes the writers of one organization's catalog events (keyed by organizationId on the
 * topic): the outbox keeps per-key order only when writers of a key take turns.
 */
export async function lockOrganization(trx: Knex.Transaction, organizationId: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`catalog:${organizationId}`]);
}

/** Postgres's unique_violation, for "already exists" answers without a racy read first. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && (constraint === undefined || e.constraint === constraint);
}
