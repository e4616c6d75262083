// Billing's projections of other services' topics: organization names from identity; plan
// versions (pricing terms), metric names and customers from the catalog; subscriptions and test clocks from the subscriptions topic;
// usage summaries and late usage from aggregation. Each apply runs inside the consumer's inbox
// transaction, so a redelivered event is a no-op; created/updated events carry complete state,
// so applying them is an upsert.
import type { DomainEvent, EventOf } from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';

/** Applies organization.created/updated: the organization's name, the issuer on its invoices. */
export async function applyOrganizationEvent(trx: Knex.Transaction, event: DomainEvent): Promise<void> {
  if (event.type !== 'organization.created' && event.type !== 'organization.updated') return;
  const { name } = (event as EventOf<'organization.created'>).data;
  await trx.raw(
    `insert into organizations (id, name) values (?, ?) on conflict (id) do update set name = excluded.name`,
    [event.organizationId, name],
  );
}

/** Applies one catalog event. Plan archival changes nothing billing keeps (versions stay billable). */
export async function applyCatalogEvent(trx: Knex.Transaction, event: DomainEvent): Promise<void> {
  const org = event.organizationId;
  switch (event.type) {
    case 'metric.created':
    case 'metric.updated': {
      const d = (event as EventOf<'metric.created'>).data;
      await trx.raw(
        `insert into metrics (organization_id, key, name, unit) values (?, ?, ?, ?)
         on conflict (organization_id, key) do update set name = excluded.name, unit = excluded.unit`,
        [org, d.key, d.name, d.unit],
      );
      return;
    }
    case 'plan.created':
    case 'plan.updated': {
      const d = (event as EventOf<'plan.created'>).data;
      await trx.raw(
        `insert into plan_versions (organization_id, code, version, terms) values (?, ?, ?, ?::jsonb)
         on conflict (organization_id, code, version) do update set terms = excluded.terms`,
        [org, d.code, d.version, JSON.stringify(d)],
      );
      return;
    }
    case 'customer.created':
    case 'customer.updated': {
      const d = (event as EventOf<'customer.created'>).data;
      await trx.raw(
        `insert into customers (organization_id, customer_id, name, email) values (?, ?, ?, ?)
         on conflict (organization_id, customer_id) do update set name = excluded.name, email = excluded.email`,
        [org, d.customerId, d.name, d.email ?? null],
      );
      return;
    }
    default:
      return;
  }
}

/**
 * Applies one subscriptions-topic event: subscriptions (whose customer, on which test clock) and
 * test clocks. A subscription's status plays no part in billing: a closed period is invoiced
 * whatever happened to the subscription since.
 */
export async function applySubscriptionEvent(trx: Knex.Transaction, event: DomainEvent): Promise<void> {
  const org = event.organizationId;
  switch (event.type) {
    case 'subscription.created': {
      const d = (event as EventOf<'subscription.created'>).data;
      await trx.raw(
        `insert into subscriptions (id, organization_id, customer_id, test_clock_id)
         values (?, ?, ?, ?) on conflict (id) do nothing`,
        [d.subscriptionId, org, d.customerId, d.testClockId ?? null],
      );
      return;
    }
    case 'test_clock.created': {
      const d = (event as EventOf<'test_clock.created'>).data;
      await trx.raw(
        `insert into test_clocks (id, organization_id, frozen_time) values (?, ?, ?) on conflict (id) do nothing`,
        [d.testClockId, org, d.frozenTime],
      );
      return;
    }
    case 'test_clock.advanced': {
      const d = (event as EventOf<'test_clock.advanced'>).data;
      // A clock only moves forward: an advance applied out of order never takes it back.
      await trx.raw(
        `insert into test_clocks (id, organization_id, frozen_time) values (?, ?, ?)
         on conflict (id) do update set frozen_time = greatest(test_clocks.frozen_time, excluded.frozen_time)`,
        [d.testClockId, org, d.to],
      );
      return;
    }
    default:
      return;
  }
}

/**
 * Records a batch's usage summaries (to invoice) and late usage records (to bill on a later
 * invoice), each kind in one statement, with the sequence of each late record and how many late
 * records each summary counts (which invoice bills a late record follows from them; see
 * invoicing.ts).
 */
export async function applySummaryEvents(trx: Knex.Transaction, events: readonly DomainEvent[]): Promise<void> {
  const summaries = events.flatMap((e) =>
    e.type === 'usage.period_summarized' ? [e as EventOf<'usage.period_summarized'>] : [],
  );
  const late = events.flatMap((e) => (e.type === 'usage.late_recorded' ? [e as EventOf<'usage.late_recorded'>] : []));
  if (summaries.length > 0) {
    // NOTE: one invoice per subscription and period: a second summary of a period (even in the
    // same batch) is ignored; the first in topic order stays.
    await trx('usage_summaries')
      .insert(
        summaries.map(({ id, organizationId, data: d }) => ({
          event_id: id,
          organization_id: organizationId,
          subscription_id: d.subscriptionId,
          period_start: d.period.start,
          period_end: d.period.end,
          plan_code: d.planCode,
          plan_version: d.planVersion,
          data: JSON.stringify(d),
          late_records_through: d.lateRecordsThrough ?? null,
        })),
      )
      .onConflict()
      .ignore();
  }
  if (late.length > 0) {
    await trx('late_usage')
      .insert(
        late.map(({ id, organizationId, data: d }) => ({
          event_id: id,
          organization_id: organizationId,
          subscription_id: d.subscriptionId,
          period_start: d.period.start,
          period_end: d.period.end,
          plan_code: d.planCode,
          plan_version: d.planVersion,
          metric_key: d.metricKey,
          aggregation: d.aggregation,
          quantity: d.quantity,
          event_count: d.eventCount,
          detected_at: d.detectedAt,
          sequence: d.sequence ?? null,
        })),
      )
      // NOTE: a second record of the same subscription and sequence (another id) is ignored
      // like a second summary of a period: the first in topic order stays.
      .onConflict()
      .ignore();
  }
}
