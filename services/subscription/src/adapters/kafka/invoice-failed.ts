// Billing reports an invoice it finally could not collect (invoice.failed on the invoices topic):
// the subscription is suspended; and an invoice paid (invoice.paid): if its failure suspended
// the subscription, it is reactivated. Each batch is applied once: the inbox and the status
// changes commit in one transaction, so a redelivered batch changes nothing and emits nothing.
import { TOPICS } from '@usageflow/contracts';
import { inboxConsumer } from '@usageflow/db';
import type { ConsumerRunner, EventProducer, Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import type { SubscriptionContext } from '../../app/context';
import { reactivateForPaidInvoice, suspendForFailedInvoice } from '../../app/subscriptions';

/** The consumer group, also the inbox's consumer name. */
export const INVOICE_FAILED_GROUP = 'subscription.invoice-failed';

/** The consumer that suspends subscriptions whose invoice failed, and reactivates them once it is paid. */
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
    type: ['invoice.failed', 'invoice.paid'],
    apply: async (trx, event) => {
      const { subscriptionId, invoiceId } = event.data;
      const outcome =
        event.type === 'invoice.failed'
          ? await suspendForFailedInvoice(ctx, trx, event.organizationId, event.data)
          : await reactivateForPaidInvoice(ctx, trx, event.organizationId, event.data);
      // NOTE: a cancelled or unknown subscription is an answer, not a failure: retrying it
      // would block the partition forever, so it is logged and the offset moves on.
      const log = outcome === 'unknown-subscription' ? logger.warn.bind(logger) : logger.info.bind(logger);
      log(
        { organizationId: event.organizationId, subscriptionId, outcome },
        `invoice ${invoiceId} ${event.type === 'invoice.failed' ? 'failed' : 'paid'}: ${outcome}`,
      );
    },
  });
}
