// The aggregation's projections of other services' topics: metric definitions and plan
// versions from the catalog, subscriptions and their period closings from the subscriptions
// topic, and the invoices that billed the summaries and late records (for the event trace and
// the reconciliation). Each apply runs inside the consumer's inbox transaction, so a redelivered event is a
// no-op; every created/updated event carries complete state, so applying is an upsert.
import type { DomainEvent, EventOf } from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';
import { backfillUniqueValues } from '../adapters/db/event-store';

async function upsertMetric(trx: Knex.Transaction, event: EventOf<'metric.created'> | EventOf<'metric.updated'>) {
  const { key, aggregation, uniqueProperty } = event.data;
  const before = await trx('metrics')
    .where({ organization_id: event.organizationId, key })
    .first<{ aggregation: string; unique_property: string | null } | undefined>();
  const countsValues = aggregation === 'UNIQUE_COUNT';
  const newlyCounted =
    countsValues && (before?.aggregation !== aggregation || before?.unique_property !== uniqueProperty);
  if (newlyCounted) {
    // NOTE: SHARE mode first, then the metric row: batches storing events now finish before the
    // backfill reads, and batches after it see the metric and record their own values.
    await trx.raw('lock table usage_events in share mode');
  }
  await trx.raw(
    `insert into metrics (organization_id, key, aggregation, unique_property, updated_at) values (?, ?, ?, ?, ?)
     on conflict (organization_id, key) do update
       set aggregation = excluded.aggregation, unique_property = excluded.unique_property, updated_at = excluded.updated_at`,
    [event.organizationId, key, aggregation, countsValues ? (uniqueProperty ?? null) : null, event.occurredAt],
  );
  if (newlyCounted) await backfillUniqueValues(trx, event.organizationId, key, uniqueProperty!);
}

async function upsertPlanVersion(trx: Knex.Transaction, event: EventOf<'plan.created'> | EventOf<'plan.updated'>) {
  const { code, version, planMetrics } = event.data;
  await trx.raw(
    `insert into plan_versions (organization_id, code, version, metric_keys) values (?, ?, ?, ?)
     on conflict (organization_id, code, version) do update set metric_keys = excluded.metric_keys`,
    [event.organizationId, code, version, planMetrics.map((m) => m.metricKey)],
  );
}

/** Applies one catalog event. Customers and plan archival change nothing aggregation keeps. */
export async function applyCatalogEvent(trx: Knex.Transaction, event: DomainEvent): Promise<void> {
  switch (event.type) {
    case 'metric.created':
    case 'metric.updated':
      return upsertMetric(trx, event as EventOf<'metric.created'>);
    case 'plan.created':
    case 'plan.updated':
      return upsertPlanVersion(trx, event as EventOf<'plan.created'>);
    default:
      return;
  }
}

/** Whether applying `event` recorded a closing to summarize. */
export async function applySubscriptionEvent(trx: Knex.Transaction, event: DomainEvent): Promise<boolean> {
  const at = event.occurredAt;
  switch (event.type) {
    case 'subscription.created': {
      const d = (event as EventOf<'subscription.created'>).data;
      await trx.raw(
        `insert into subscriptions (id, organization_id, customer_id, plan_code, plan_version, status,
                                    current_period_start, current_period_end, updated_at)
         values (?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?) on conflict (id) do nothing`,
        [
          d.subscriptionId,
          event.organizationId,
          d.customerId,
          d.planCode,
          d.planVersion,
          d.currentPeriod.start,
          d.currentPeriod.end,
          at,
        ],
      );
      return false;
    }
    case 'subscription.period_closed': {
      const d = (event as EventOf<'subscription.period_closed'>).data;
      await trx.raw(
        `insert into period_closings (subscription_id, period_start, period_end, organization_id, customer_id, plan_code,
                                      plan_version, high_water_marks, closed_at, closing_event_id)
         values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?) on conflict do nothing`,
        [
          d.subscriptionId,
          d.period.start,
          d.period.end,
          event.organizationId,
          d.customerId,
          d.planCode,
          d.planVersion,
          JSON.stringify(d.usageHighWaterMarks),
          d.closedAt,
          event.id,
        ],
      );
      await trx('subscriptions')
        .where({ id: d.subscriptionId })
        .update({
          current_period_start: d.nextPeriod?.start ?? null,
          current_period_end: d.nextPeriod?.end ?? null,
          status: d.nextPeriod ? trx.raw('status') : 'CANCELLED',
          updated_at: at,
        });
      return true;
    }
    case 'subscription.suspended':
    case 'subscription.reactivated':
    case 'subscription.cancelled': {
      const { subscriptionId } = (event as EventOf<'subscription.suspended'>).data;
      const status = {
        'subscription.suspended': 'SUSPENDED',
        'subscription.reactivated': 'ACTIVE',
        'subscription.cancelled': 'CANCELLING',
      }[event.type];
      await trx('subscriptions').where({ id: subscriptionId }).update({ status, updated_at: at });
      return false;
    }
    default:
      return false;
  }
}

/**
 * Applies one invoice event: an invoice.created is kept whole (its lines say what each period's
 * usage and late usage was billed as); paid and failed move its status. An invoice's events share
 * its subscription's partition, so they arrive in order.
 */
export async function applyInvoiceEvent(trx: Knex.Transaction, event: DomainEvent): Promise<void> {
  switch (event.type) {
    case 'invoice.created': {
      const d = (event as EventOf<'invoice.created'>).data;
      await trx.raw(
        `insert into invoices (id, organization_id, subscription_id, number, period_start, period_end, status, currency,
                               amount_cents, lines, issued_at)
         values (?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?::jsonb, ?) on conflict do nothing`,
        [
          d.invoiceId,
          event.organizationId,
          d.subscriptionId,
          d.number,
          d.period.start,
          d.period.end,
          d.currency,
          d.amountCents,
          JSON.stringify(d.lines),
          d.issuedAt,
        ],
      );
      return;
    }
    case 'invoice.paid':
    case 'invoice.failed': {
      const { invoiceId } = (event as EventOf<'invoice.paid'>).data;
      await trx('invoices')
        .where({ id: invoiceId, organization_id: event.organizationId })
        .update({ status: event.type === 'invoice.paid' ? 'PAID' : 'FAILED' });
      return;
    }
    default:
      return;
  }
}
