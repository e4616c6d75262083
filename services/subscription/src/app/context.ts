import type { HighWaterMark } from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';
import type { Logger } from '@usageflow/telemetry';
import type { SubscriptionSettings } from '../config';

/** What every subscription use case runs with; the clock is injected for tests. */
export interface SubscriptionContext {
  db: Knex;
  logger: Logger;
  clock: () => Date;
  settings: SubscriptionSettings;
  /**
   * The usage topic's high-water marks right now, which a period closing records: aggregation
   * summarizes the period once it has consumed up to them (a port, so the use cases need no Kafka).
   */
  usageHighWaterMarks: () => Promise<HighWaterMark[]>;
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

/**
 * Locks one subscription row for the rest of the transaction, in its organization. Every writer
 * of a subscription's events (keyed by subscriptionId) takes it first, so they reach the outbox
 * in the order they happened.
 */
export function lockSubscription<R>(trx: Knex.Transaction, organizationId: string, id: string): Promise<R | undefined> {
  return trx('subscriptions').where({ id, organization_id: organizationId }).forUpdate().first() as Promise<
    R | undefined
  >;
}
