// When did a key last send usage? Read from the usage stream (usage.recorded carries the
// apiKeyId), folded per batch into one UPDATE: the gateway never writes per request.
import { TOPICS } from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';
import { ConsumerRunner, type ConsumedMessage, type EventProducer, type Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import { recordKeyUse } from '../../app/api-keys';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The latest use per key in a batch of raw usage records; records that say nothing are skipped. */
export function latestUseByKey(messages: readonly Pick<ConsumedMessage, 'value'>[]): Map<string, Date> {
  const latest = new Map<string, Date>();
  for (const m of messages) {
    if (!m.value) continue;
    let data: { apiKeyId?: unknown; receivedAt?: unknown } | undefined;
    try {
      data = (JSON.parse(m.value.toString('utf8')) as { data?: typeof data }).data;
    } catch {
      continue; // not ours to judge: aggregation dead-letters bad usage records
    }
    if (typeof data?.apiKeyId !== 'string' || !UUID.test(data.apiKeyId) || typeof data.receivedAt !== 'string')
      continue;
    const at = new Date(data.receivedAt);
    if (Number.isNaN(at.getTime())) continue;
    const seen = latest.get(data.apiKeyId);
    if (!seen || seen < at) latest.set(data.apiKeyId, at);
  }
  return latest;
}

/** The consumer that keeps `api_keys.last_used_at`; idempotent (the time only moves forward). */
export function apiKeyLastUsedConsumer(options: {
  kafka: Kafka;
  producer: EventProducer;
  db: Knex;
  logger: Logger;
  groupId?: string;
  topic?: string;
}): ConsumerRunner<ConsumedMessage> {
  return new ConsumerRunner<ConsumedMessage>({
    kafka: options.kafka,
    producer: options.producer,
    groupId: options.groupId ?? 'identity.api-key-last-used',
    topics: [options.topic ?? TOPICS.usageEvents],
    logger: options.logger.child({ component: 'api-key-last-used' }),
    decode: 'raw',
    // Only recent use matters: a new group starts at the end, not at offset 0.
    fromBeginning: false,
    handle: (messages) => recordKeyUse(options.db, latestUseByKey(messages)),
  });
}
