// Billing reports an invoice it finally could not collect (invoice.failed on the invoices topic);
// the subscription is suspended. Each batch is applied once: the inbox and the suspensions commit
// in one transaction, so a redelivered batch changes nothing and emits nothing.
import { TOPICS, type EventOf } from '@usageflow/contracts';
import { claimInbox, type Knex } from '@usageflow/db';
import { ConsumerRunner, type EventProducer, type Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import type { SubscriptionContext } from '../../app/context';
import { suspendForFailedInvoice } from '../../app/subscriptions';

/** The consumer group, also the inbox's consumer name. */
export const INVOICE_FAILED_GROUP = 'subscription.invoice-failed';

/** The consumer that suspends subscriptions whose invoice failed. */
export function invoiceFailedConsumer(options: {
  ctx: SubscriptionContext;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  groupId?: string;
  topic?: string;
}): ConsumerRunner {
  const { ctx } = options;
  const groupId = options.groupId ?? INVOICE_FAILED_GROUP;
  const logger = options.logger.child({ component: 'invoice-failed' });
  return new ConsumerRunner({
    kafka: options.kafka,
    producer: options.producer,
    groupId,
    topics: [options.topic ?? TOPICS.invoices],
    logger,
    handle: async (messages) => {
      const failures = messages.flatMap((m) =>
        m.event.type === 'invoice.failed'
          ? [{ eventId: m.event.id, topic: m.topic, partition: m.partition, offset: m.offset, event: m.event }]
          : [],
      );
      if (failures.length === 0) return;
      await ctx.db.transaction(async (trx: Knex.Transaction) => {
        for (const { event } of await claimInbox(trx, groupId, failures)) {
          const failed = event as EventOf<'invoice.failed'>;
          const outcome = await suspendForFailedInvoice(ctx, trx, failed.organizationId, failed.data);
          // NOTE: a cancelled or unknown subscription is an answer, not a failure: retrying it
          // would block the partition forever, so it is logged and the offset moves on.
          const log = outcome === 'unknown-subscription' ? logger.warn.bind(logger) : logger.info.bind(logger);
          log(
            { organizationId: failed.organizationId, subscriptionId: failed.data.subscriptionId, outcome },
            `invoice ${failed.data.invoiceId} failed: ${outcome}`,
          );
        }
      });
    },
  });
}
