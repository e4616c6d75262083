// Billing reports an invoice it finally could not collect (invoice.failed on the invoices topic);
// the subscription is suspended. Each batch is applied once: the inbox and the suspensions commit
// in one transaction, so a redelivered batch changes nothing and emits nothing.
import { TOPICS } from '@usageflow/contracts';
import { inboxConsumer } from '@usageflow/db';
import type { ConsumerRunner, EventProducer, Kafka } from '@usageflow/kafka';
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
  const logger = options.logger.child({ component: 'invoice-failed' });
  return inboxConsumer({
    ...options,
    db: ctx.db,
    logger,
    groupId: options.groupId ?? INVOICE_FAILED_GROUP,
    topics: [options.topic ?? TOPICS.invoices],
    type: 'invoice.failed',
    apply: async (trx, failed) => {
      const outcome = await suspendForFailedInvoice(ctx, trx, failed.organizationId, failed.data);
      // NOTE: a cancelled or unknown subscription is an answer, not a failure: retrying it
      // would block the partition forever, so it is logged and the offset moves on.
      const log = outcome === 'unknown-subscription' ? logger.warn.bind(logger) : logger.info.bind(logger);
      log(
        { organizationId: failed.organizationId, subscriptionId: failed.data.subscriptionId, outcome },
        `invoice ${failed.data.invoiceId} failed: ${outcome}`,
      );
    },
  });
}
