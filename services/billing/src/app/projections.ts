// Billing's projections of other services' topics: plan versions (pricing terms), metric names
// and customers from the catalog; subscriptions and test clocks from the subscriptions topic;
// usage summaries and late usage from aggregation. Each apply runs inside the consumer's inbox
// transaction, so a redelivered event is a no-op; created/updated events carry complete state,
// so applying them is an upsert.
import type { DomainEvent, EventOf } from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';

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

/** Applies one subscriptions-topic event: subscriptions (their test clock, status) and test clocks. */
export async function applySubscriptionEvent(trx: Knex.Transaction, event: DomainEvent): Promise<void> {
  const org = event.organizationId;
  switch (event.type) {
    case 'subscription.created': {
      const d = (event as EventOf<'subscription.created'>).data;
      await trx.raw(
        `insert into subscriptions (id, organization_id, customer_id, test_clock_id, status)
         values (?, ?, ?, ?, 'ACTIVE') on conflict (id) do nothing`,
        [d.subscriptionId, org, d.customerId, d.testClockId ?? null],
      );
      return;
    }
    case 'subscription.suspended':
    case 'subscription.reactivated':
    case 'subscription.cancelled': {
      const { subscriptionId } = (event as EventOf<'subscription.suspended'>).data;
      const status = {
        'subscription.suspended': 'SUSPENDED',
        'subscription.reactivated': 'ACTIVE',
        'subscription.cancelled': 'CANCELLED',
      }[event.type];
      await trx('subscriptions').where({ id: subscriptionId, organization_id: org }).update({ status });
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

/** Records a usage summary (to invoice) or a late usage record (to bill on the next invoice). */
export async function applySummaryEvent(trx: Knex.Transaction, event: DomainEvent): Promise<void> {
  const org = event.organizationId;
  if (event.type === 'usage.period_summarized') {
    const d = (event as EventOf<'usage.period_summarized'>).data;
    // NOTE: one invoice per subscription and period: a second summary of a period is ignored.
    await trx.raw(
      `insert into usage_summaries (event_id, organization_id, subscription_id, period_start, period_end,
                                    plan_code, plan_version, data)
       values (?, ?, ?, ?, ?, ?, ?, ?::jsonb) on conflict do nothing`,
      [event.id, org, d.subscriptionId, d.period.start, d.period.end, d.planCode, d.planVersion, JSON.stringify(d)],
    );
  } else if (event.type === 'usage.late_recorded') {
    const d = (event as EventOf<'usage.late_recorded'>).data;
    await trx.raw(
      `insert into late_usage (event_id, organization_id, subscription_id, period_start, period_end, plan_code,
                               plan_version, metric_key, aggregation, quantity, event_count, detected_at)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict do nothing`,
      [
        event.id,
        org,
        d.subscriptionId,
        d.period.start,
        d.period.end,
        d.planCode,
        d.planVersion,
        d.metricKey,
        d.aggregation,
        d.quantity,
        d.eventCount,
        d.detectedAt,
      ],
    );
  }
}
