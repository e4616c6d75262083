// webhook-dispatch disabled an endpoint (webhook_endpoint.disabled on the webhooks topic): its
// organization's people are mailed once per event. The inbox row commits after the mails went
// out, so a crash in between mails again on redelivery (at-least-once), never zero times.
import { TOPICS } from '@usageflow/contracts';
import { inboxConsumer } from '@usageflow/db';
import type { ConsumerRunner, EventProducer, Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import type { IdentityContext } from '../../app/context';
import { sendEndpointDisabledNotice } from '../../app/endpoint-notices';

/** The consumer group, also the inbox's consumer name. */
export const ENDPOINT_NOTICES_GROUP = 'identity.endpoint-notices';

/** The consumer that mails the people of an organization whose webhook endpoint was disabled. */
export function endpointNoticesConsumer(options: {
  ctx: IdentityContext;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  groupId?: string;
  topic?: string;
}): ConsumerRunner {
  const { ctx } = options;
  const logger = options.logger.child({ component: 'endpoint-notices' });
  return inboxConsumer({
    ...options,
    db: ctx.db,
    logger,
    groupId: options.groupId ?? ENDPOINT_NOTICES_GROUP,
    topics: [options.topic ?? TOPICS.webhooks],
    type: 'webhook_endpoint.disabled',
    apply: async (trx, disabled) => {
      const mailed = await sendEndpointDisabledNotice(ctx, trx, disabled);
      logger.info(
        { organizationId: disabled.organizationId, endpointId: disabled.data.endpointId, mailed },
        `webhook endpoint ${disabled.data.endpointId} disabled: ${mailed} people told`,
      );
    },
  });
}
