// webhook-dispatch disabled an endpoint (webhook_endpoint.disabled on the webhooks topic): its
// organization's people are mailed once per event. The inbox row commits after the mails went
// out, so a crash in between mails again on redelivery (at-least-once), never zero times.
import { TOPICS, type EventOf } from '@usageflow/contracts';
import { claimInbox } from '@usageflow/db';
import { ConsumerRunner, type EventProducer, type Kafka } from '@usageflow/kafka';
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
  const groupId = options.groupId ?? ENDPOINT_NOTICES_GROUP;
  const logger = options.logger.child({ component: 'endpoint-notices' });
  return new ConsumerRunner({
    kafka: options.kafka,
    producer: options.producer,
    groupId,
    topics: [options.topic ?? TOPICS.webhooks],
    logger,
    handle: async (messages) => {
      const notices = messages.flatMap((m) =>
        m.event.type === 'webhook_endpoint.disabled'
          ? [{ eventId: m.event.id, topic: m.topic, partition: m.partition, offset: m.offset, event: m.event }]
          : [],
      );
      if (notices.length === 0) return;
      await ctx.db.transaction(async (trx) => {
        for (const { event } of await claimInbox(trx, groupId, notices)) {
          const disabled = event as EventOf<'webhook_endpoint.disabled'>;
          const mailed = await sendEndpointDisabledNotice(ctx, trx, disabled);
          logger.info(
            { organizationId: disabled.organizationId, endpointId: disabled.data.endpointId, mailed },
            `webhook endpoint ${disabled.data.endpointId} disabled: ${mailed} people told`,
          );
        }
      });
    },
  });
}
