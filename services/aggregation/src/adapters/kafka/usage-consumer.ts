// The usage consumer: reads `usageflow.usage-events.v1` in batches per partition and hands each
// batch to ingestBatch. Records are decoded here rather than by the runner so that a record
// that is not a valid usage.recorded is dead-lettered without splitting the batch, and the
// partition's progress still moves past it (a summary waits on that progress).
import { dlqTopic, validateEvent, type EventOf } from '@usageflow/contracts';
import { ConsumerRunner, DLQ_HEADERS, type ConsumedMessage, type EventProducer, type Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import type { AggregationContext } from '../../app/context';
import { ingestBatch } from '../../app/ingest';
import { eventKey, type UsageRecord } from '../../domain/usage-batch';
import { existingPartitions } from '../db/event-store';

/** Decodes one record into a usage record, or says why it is not one. */
export function decodeUsage(
  message: ConsumedMessage,
): { ok: true; record: UsageRecord } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(message.value?.toString('utf8') ?? '');
  } catch (err) {
    return { ok: false, error: `not JSON: ${(err as Error).message}` };
  }
  const result = validateEvent(value);
  if (!result.ok) return { ok: false, error: result.errors.join('; ') };
  if (result.event.type !== 'usage.recorded') return { ok: false, error: `unexpected event type ${result.event.type}` };
  const { organizationId, data } = result.event as EventOf<'usage.recorded'>;
  return {
    ok: true,
    record: {
      organizationId,
      customerId: data.customerId,
      metric: data.metric,
      amount: data.amount,
      timestamp: data.timestamp,
      ts: Date.parse(data.timestamp),
      eventId: data.eventId,
      properties: data.properties,
      receivedAt: data.receivedAt,
      partition: message.partition,
      offset: message.offset,
      key: eventKey(organizationId, data.eventId),
    },
  };
}

export interface UsageConsumerOptions {
  ctx: AggregationContext;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  topic: string;
  groupId: string;
  /** Partitions applied at once (each in its own transaction). */
  concurrency: number;
  /** The most one fetch brings per partition: the size, and so the latency, of a batch. */
  fetchMaxBytes: number;
  summariesTopic?: string;
  /** Called after each stored batch (the summarizer may be waiting on this progress). */
  onProgress?: () => void;
}

/** The consumer group that stores usage events. */
export function usageConsumer(options: UsageConsumerOptions): ConsumerRunner<ConsumedMessage> {
  const { ctx, producer, topic } = options;
  const logger = options.logger.child({ component: 'usage-consumer' });
  const knownPartitions = new Set<string>();
  let partitionsLoaded = false;
  return new ConsumerRunner<ConsumedMessage>({
    kafka: options.kafka,
    producer,
    groupId: options.groupId,
    topics: [topic],
    logger,
    decode: 'raw',
    concurrency: options.concurrency,
    maxBytesPerPartition: options.fetchMaxBytes,
    // Records are decoded (and bad ones parked) before the handler stores anything, so a failure
    // of the handler is the database's, never the batch's: retry it forever rather than
    // dead-letter valid usage.
    retry: { unknownErrorAttempts: Number.POSITIVE_INFINITY },
    handle: async (messages, { partition }) => {
      if (!partitionsLoaded) {
        for (const name of await existingPartitions(ctx.db)) knownPartitions.add(name);
        partitionsLoaded = true;
      }
      const records: UsageRecord[] = [];
      for (const m of messages) {
        const decoded = decodeUsage(m);
        if (decoded.ok) records.push(decoded.record);
        else await deadLetter(producer, m, decoded.error, options.groupId, logger);
      }
      const last = messages[messages.length - 1]!;
      const result = await ingestBatch(ctx, {
        records,
        topic,
        partition,
        nextOffset: (BigInt(last.offset) + 1n).toString(),
        knownPartitions,
        summariesTopic: options.summariesTopic,
      });
      logger.debug({ partition, ...result }, 'usage batch stored');
      options.onProgress?.();
    },
  });
}

/** Parks a record that is not a valid usage event on the dead-letter topic, with why. */
async function deadLetter(
  producer: EventProducer,
  message: ConsumedMessage,
  error: string,
  groupId: string,
  logger: Logger,
): Promise<void> {
  await producer.send(dlqTopic(message.topic), [
    {
      key: message.key,
      value: message.value ?? Buffer.alloc(0),
      headers: {
        [DLQ_HEADERS.error]: error.slice(0, 4_000),
        [DLQ_HEADERS.errorClass]: 'poison',
        [DLQ_HEADERS.topic]: message.topic,
        [DLQ_HEADERS.partition]: String(message.partition),
        [DLQ_HEADERS.offset]: message.offset,
        [DLQ_HEADERS.group]: groupId,
        [DLQ_HEADERS.failedAt]: new Date().toISOString(),
      },
    },
  ]);
  logger.error({ partition: message.partition, offset: message.offset, error }, 'usage record dead-lettered');
}
