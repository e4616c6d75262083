// The projection consumers: catalog (metrics, plan versions), subscriptions (periods and their
// closings) and invoices (where usage was billed), each applied exactly once through the inbox.
import { inboxConsumer } from '@usageflow/db';
import type { ConsumerRunner, EventProducer, Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import type { AggregationContext } from '../../app/context';
import { applyCatalogEvent, applyInvoiceEvent, applySubscriptionEvent } from '../../app/projections';

/** The catalog events aggregation keeps (customers and plan archival change nothing here). */
const CATALOG_TYPES = ['metric.created', 'metric.updated', 'plan.created', 'plan.updated'] as const;

/** The subscription events that move a subscription's period or status. */
const SUBSCRIPTION_TYPES = [
  'subscription.created',
  'subscription.period_closed',
  'subscription.suspended',
  'subscription.reactivated',
  'subscription.cancelled',
] as const;

/** The invoice events that say where usage was billed and how the invoice stands. */
const INVOICE_TYPES = ['invoice.created', 'invoice.paid', 'invoice.failed'] as const;

export interface ProjectionTopics {
  catalog: string;
  subscriptions: string;
  invoices: string;
}

/** The catalog and subscriptions consumers; `onApplied` runs after a batch that changed either. */
export function projectionConsumers(options: {
  ctx: AggregationContext;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  groupPrefix: string;
  topics: ProjectionTopics;
  /** A closing, or a plan or metric it waited for, may make a summary due. */
  onApplied: () => void;
}): ConsumerRunner[] {
  const common = { ...options, db: options.ctx.db };
  return [
    inboxConsumer<(typeof CATALOG_TYPES)[number]>({
      ...common,
      logger: options.logger.child({ component: 'catalog-projection' }),
      groupId: `${options.groupPrefix}.catalog`,
      topics: [options.topics.catalog],
      type: CATALOG_TYPES,
      apply: applyCatalogEvent,
    }),
    inboxConsumer<(typeof SUBSCRIPTION_TYPES)[number]>({
      ...common,
      logger: options.logger.child({ component: 'subscriptions-projection' }),
      groupId: `${options.groupPrefix}.subscriptions`,
      topics: [options.topics.subscriptions],
      type: SUBSCRIPTION_TYPES,
      apply: applySubscriptionEvent,
    }),
    inboxConsumer<(typeof INVOICE_TYPES)[number]>({
      ...common,
      logger: options.logger.child({ component: 'invoices-projection' }),
      groupId: `${options.groupPrefix}.invoices`,
      topics: [options.topics.invoices],
      type: INVOICE_TYPES,
      apply: applyInvoiceEvent,
    }),
  ];
}
