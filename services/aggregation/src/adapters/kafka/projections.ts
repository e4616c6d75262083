// The projection consumers: catalog (metrics, plan versions) and subscriptions (periods and
// their closings). Each batch's events are claimed in the inbox and applied in one transaction.
import { TOPICS, type DomainEvent } from '@usageflow/contracts';
import { claimInbox, type Knex } from '@usageflow/db';
import { ConsumerRunner, type EventProducer, type Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import type { AggregationContext } from '../../app/context';
import { applyCatalogEvent, applySubscriptionEvent } from '../../app/projections';

/** A consumer that applies every event of `topics` through `apply`, exactly once. */
function projectionConsumer(options: {
  ctx: AggregationContext;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  groupId: string;
  topics: readonly string[];
  apply: (trx: Knex.Transaction, event: DomainEvent) => Promise<unknown>;
  onApplied?: () => void;
}): ConsumerRunner {
  const { ctx, groupId } = options;
  return new ConsumerRunner({
    kafka: options.kafka,
    producer: options.producer,
    groupId,
    topics: options.topics,
    logger: options.logger.child({ component: groupId }),
    handle: async (messages) => {
      const entries = messages.map((m) => ({
        eventId: m.event.id,
        topic: m.topic,
        partition: m.partition,
        offset: m.offset,
        event: m.event,
      }));
      await ctx.db.transaction(async (trx: Knex.Transaction) => {
        for (const { event } of await claimInbox(trx, groupId, entries)) await options.apply(trx, event);
      });
      options.onApplied?.();
    },
  });
}

export interface ProjectionTopics {
  catalog: string;
  subscriptions: string;
}

export const DEFAULT_PROJECTION_TOPICS: ProjectionTopics = {
  catalog: TOPICS.catalog,
  subscriptions: TOPICS.subscriptions,
};

/** The catalog and subscriptions consumers; `onClosing` runs after a batch that may hold closings. */
export function projectionConsumers(options: {
  ctx: AggregationContext;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  groupPrefix: string;
  topics: ProjectionTopics;
  onClosing: () => void;
}): ConsumerRunner[] {
  return [
    projectionConsumer({
      ...options,
      groupId: `${options.groupPrefix}.catalog`,
      topics: [options.topics.catalog],
      apply: applyCatalogEvent,
      // a plan or metric arriving late may unblock a waiting summary
      onApplied: options.onClosing,
    }),
    projectionConsumer({
      ...options,
      groupId: `${options.groupPrefix}.subscriptions`,
      topics: [options.topics.subscriptions],
      apply: applySubscriptionEvent,
      onApplied: options.onClosing,
    }),
  ];
}
