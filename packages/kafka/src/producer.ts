import { assertValidEvent, type DomainEvent } from '@usageflow/contracts';
import type { Logger } from '@usageflow/telemetry';
import { CompressionTypes, Partitioners, type Kafka, type Producer, type RecordMetadata } from 'kafkajs';
import { encodeEvent, type OutgoingMessage } from './message';

export type { RecordMetadata };

export interface EventProducerOptions {
  logger: Logger;
  /**
   * Produce requests in flight per broker connection. 1 keeps order across retries without
   * relying on KafkaJS's (experimental) idempotent sequencing under concurrency.
   */
  maxInFlightRequests?: number;
  /**
   * Retries of a failed produce request. Unbounded by default, as the idempotent producer's
   * ordering relies on it; a caller that must answer in bounded time (the ingestion gateway)
   * sets a limit and treats the failure as "not acknowledged".
   */
  retries?: number;
}

/**
 * The producer every service uses: idempotent, acks=all (-1), Java-compatible murmur2
 * partitioning (so a key lands where a JVM client would put it). `publish` validates each
 * event against the contracts before anything leaves the process.
 */
export class EventProducer {
  private readonly producer: Producer;
  private connected = false;

  constructor(
    kafka: Kafka,
    private readonly options: EventProducerOptions,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: options.maxInFlightRequests ?? 1,
      retry: { retries: options.retries ?? Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5_000 },
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  async connect(): Promise<void> {
    await this.producer.connect();
    this.connected = true;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Validates and produces domain events to their topics; resolves once all are acknowledged. */
  async publish(events: readonly DomainEvent[]): Promise<RecordMetadata[]> {
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (const raw of events) {
      const event = assertValidEvent(raw);
      const { topic, message } = encodeEvent(event);
      const list = byTopic.get(topic) ?? [];
      list.push(message);
      byTopic.set(topic, list);
    }
    return this.sendBatch([...byTopic].map(([topic, messages]) => ({ topic, messages })));
  }

  /** Produces raw records to one topic (acks=all); the caller owns their encoding. */
  async send(topic: string, messages: readonly OutgoingMessage[]): Promise<RecordMetadata[]> {
    return this.sendBatch([{ topic, messages }]);
  }

  /** Produces records to several topics in one request per broker (acks=all). */
  async sendBatch(
    batches: ReadonlyArray<{ topic: string; messages: readonly OutgoingMessage[] }>,
  ): Promise<RecordMetadata[]> {
    if (batches.every((b) => b.messages.length === 0)) return [];
    return this.producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.None,
      topicMessages: batches.map((b) => ({ topic: b.topic, messages: [...b.messages] })),
    });
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
    this.options.logger.debug('producer disconnected');
  }
}
