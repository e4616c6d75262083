// Billing's consumers, each applying its events exactly once through the inbox: organization
// names from identity, the catalog
// (plan versions, metric names, customers), the subscriptions topic (subscriptions, test clocks)
// and aggregation's usage summaries and late usage.
import { inboxConsumer, type Knex } from '@usageflow/db';
import type { ConsumerRunner, EventProducer, Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import {
  applyCatalogEvent,
  applyOrganizationEvent,
  applySubscriptionEvent,
  applySummaryEvents,
} from '../../app/projections';

const IDENTITY_TYPES = ['organization.created', 'organization.updated'] as const;

const CATALOG_TYPES = [
  'metric.created',
  'metric.updated',
  'plan.created',
  'plan.updated',
  'customer.created',
  'customer.updated',
] as const;

const SUBSCRIPTION_TYPES = ['subscription.created', 'test_clock.created', 'test_clock.advanced'] as const;

const SUMMARY_TYPES = ['usage.period_summarized', 'usage.late_recorded'] as const;

export interface BillingTopics {
  identity: string;
  catalog: string;
  subscriptions: string;
  summaries: string;
}

/** The three consumers. `onInvoiceInput` runs after a batch that may let an invoice be issued. */
export function billingConsumers(options: {
  db: Knex;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  groupPrefix: string;
  topics: BillingTopics;
  /** A summary, or a plan version, subscription or test clock a summary waited for, arrived. */
  onInvoiceInput: () => void;
  /** A test clock moved: payments may have become due. */
  onClockMoved: () => void;
}): ConsumerRunner[] {
  const { groupPrefix, topics } = options;
  return [
    inboxConsumer<(typeof IDENTITY_TYPES)[number]>({
      ...options,
      logger: options.logger.child({ component: 'organizations-projection' }),
      groupId: `${groupPrefix}.organizations`,
      topics: [topics.identity],
      type: IDENTITY_TYPES,
      apply: applyOrganizationEvent,
    }),
    inboxConsumer<(typeof CATALOG_TYPES)[number]>({
      ...options,
      logger: options.logger.child({ component: 'catalog-projection' }),
      groupId: `${groupPrefix}.catalog`,
      topics: [topics.catalog],
      type: CATALOG_TYPES,
      apply: applyCatalogEvent,
      onApplied: options.onInvoiceInput,
    }),
    inboxConsumer<(typeof SUBSCRIPTION_TYPES)[number]>({
      ...options,
      logger: options.logger.child({ component: 'subscriptions-projection' }),
      groupId: `${groupPrefix}.subscriptions`,
      topics: [topics.subscriptions],
      type: SUBSCRIPTION_TYPES,
      apply: applySubscriptionEvent,
      onApplied: () => {
        options.onInvoiceInput();
        options.onClockMoved();
      },
    }),
    inboxConsumer<(typeof SUMMARY_TYPES)[number]>({
      ...options,
      logger: options.logger.child({ component: 'summaries' }),
      groupId: `${groupPrefix}.summaries`,
      topics: [topics.summaries],
      type: SUMMARY_TYPES,
      applyAll: applySummaryEvents,
      onApplied: options.onInvoiceInput,
    }),
  ];
}
