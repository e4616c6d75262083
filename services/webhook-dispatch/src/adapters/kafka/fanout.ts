// Fan-out: each webhook event on the invoices and subscriptions topics becomes one PENDING
// delivery per enabled endpoint of its organization that subscribed to its type. The dispatcher
// sends them; this consumer only records them, so a slow receiver never holds up a partition.
// Each batch is applied once: the inbox and the deliveries commit in one transaction, and
// (endpoint_id, event_id) is unique, so a redelivered event creates no second delivery.
import { TOPICS } from '@usageflow/contracts';
import { claimInbox, type Knex } from '@usageflow/db';
import { ConsumerRunner, type EventProducer, type Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import type { WebhookContext } from '../../app/context';
import { isWebhookEvent, webhookPayload, type WebhookEvent } from '../../domain/payload';

/** The consumer group, also the inbox's consumer name. */
export const FANOUT_GROUP = 'webhook-dispatch.fanout';

/** The topics whose events are delivered by webhook. */
export const FANOUT_TOPICS: readonly string[] = Object.freeze([TOPICS.invoices, TOPICS.subscriptions]);

/**
 * Records the deliveries of `events` (already claimed in the inbox) in one statement.
 * The join mirrors the domain's `matchesEndpoint`: only webhook event types reach this point, and
 * an endpoint gets exactly the types in its `event_types`. Tenancy: an event only ever reaches
 * endpoints of its own organization. Returns how many deliveries were created.
 */
export async function fanOut(trx: Knex.Transaction, events: readonly WebhookEvent[], now: Date): Promise<number> {
  if (events.length === 0) return 0;
  const result = await trx.raw<{ rowCount: number }>(
    `insert into webhook_deliveries
       (id, organization_id, endpoint_id, event_id, event_type, payload, status, attempt_count, next_attempt_at,
        created_at, updated_at)
     select 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.organization_id, e.id, ev.event_id, ev.event_type,
            ev.payload, 'PENDING', 0, ?, ?, ?
       from unnest(?::uuid[], ?::uuid[], ?::text[], ?::text[]) as ev(event_id, organization_id, event_type, payload)
       join webhook_endpoints e
         on e.organization_id = ev.organization_id and e.enabled and ev.event_type = any (e.event_types)
     on conflict (endpoint_id, event_id) do nothing`,
    [
      now,
      now,
      now,
      events.map((e) => e.id),
      events.map((e) => e.organizationId),
      events.map((e) => e.type),
      // NOTE: serialized once here and stored: every attempt sends and signs these exact bytes.
      events.map((e) => JSON.stringify(webhookPayload(e))),
    ],
  );
  return result.rowCount;
}

/** The consumer that turns webhook events into PENDING deliveries. */
export function fanoutConsumer(options: {
  ctx: WebhookContext;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  groupId?: string;
  topics?: readonly string[];
  /** Called after a batch created deliveries (the dispatcher of this process starts them at once). */
  onCreated?: () => void;
}): ConsumerRunner {
  const { ctx } = options;
  const groupId = options.groupId ?? FANOUT_GROUP;
  const logger = options.logger.child({ component: 'webhook-fanout' });
  return new ConsumerRunner({
    kafka: options.kafka,
    producer: options.producer,
    groupId,
    topics: options.topics ?? FANOUT_TOPICS,
    logger,
    handle: async (messages, { topic, partition }) => {
      const entries = messages.flatMap((m) =>
        isWebhookEvent(m.event)
          ? [{ eventId: m.event.id, topic: m.topic, partition: m.partition, offset: m.offset, event: m.event }]
          : [],
      );
      if (entries.length === 0) return;
      const created = await ctx.db.transaction(async (trx: Knex.Transaction) => {
        // at-least-once from Kafka; the inbox makes a redelivered event a no-op
        const fresh = await claimInbox(trx, groupId, entries);
        return fanOut(
          trx,
          fresh.map((e) => e.event),
          ctx.clock(),
        );
      });
      logger.debug({ topic, partition, events: entries.length, created }, 'webhook deliveries recorded');
      if (created > 0) options.onCreated?.();
    },
  });
}
