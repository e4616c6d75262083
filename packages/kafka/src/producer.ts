import { assertValidEvent, type DomainEvent } from '@usageflow/contracts';
import type { Logger } from '@usageflow/telemetry';
import { CompressionTypes, Partitioners, type Kafka, type Producer, type RecordMetadata } from 'kafkajs';
import { encodeEvent, type OutgoingMessage } from './message';

export type { RecordMetadata };

export interface EventProducerOptions {
  logger: Logger;
  /**
   * KafkaJS's limit of requests in flight per broker connection. Its idempotent producer holds
   * one produce request per broker anyway (a lock from sequence assignment to the answer), so
   * values above 1 change nothing there; kept at 1.
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
 *
 * Sends are serialized: one `sendBatch` outstanding per producer. KafkaJS's idempotent producer
 * can reuse sequence numbers for a queued send after an ambiguous failure (a timeout after the
 * broker wrote the batch), so the broker drops that send as a duplicate or rejects it as out of
 * order (tulios/kafkajs#598, #1005). With one send at a time a retry reuses its own sequence
 * numbers and is deduplicated correctly. The cost is nil here: KafkaJS holds one produce
 * request per broker anyway (measured in bench/kafka).
 */
export class EventProducer {
  private producer: Producer;
  private connected = false;
  /** Set by a failed send: the next send first replaces the KafkaJS producer (see sendBatch). */
  private stale = false;
  /** Tail of the chain of sends; each send starts when the previous one settled. */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly kafka: Kafka,
    private readonly options: EventProducerOptions,
  ) {
    this.producer = this.create();
  }

  private create(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: this.options.maxInFlightRequests ?? 1,
      retry: {
        retries: this.options.retries ?? Number.MAX_SAFE_INTEGER,
        initialRetryTime: 100,
        maxRetryTime: 5_000,
      },
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
    const send = this.tail.then(async () => {
      if (this.stale) await this.renew();
      try {
        return await this.producer.sendBatch({
          acks: -1,
          compression: CompressionTypes.None,
          topicMessages: batches.map((b) => ({ topic: b.topic, messages: [...b.messages] })),
        });
      } catch (err) {
        this.stale = true;
        throw err;
      }
    });
    this.tail = send.catch(() => undefined);
    return send;
  }

  /**
   * Replaces the KafkaJS producer after a failed send. KafkaJS rolls the idempotent sequence
   * numbers back on any produce error, even when the broker may have written the batch (a broker
   * killed after appending, before answering). The next send, with other records under the same
   * sequence numbers, could then be taken by the broker for a duplicate of the written batch and
   * acknowledged without being stored: an acknowledged loss, reproduced by SIGKILLing the broker
   * under load. A new producer gets a new producer id and starts its sequences afresh, as the
   * Java client does after such an error; the caller retries what failed, as before.
   */
  private async renew(): Promise<void> {
    const old = this.producer;
    this.producer = this.create();
    void old.disconnect().catch(() => undefined);
    if (this.connected) await this.producer.connect();
    this.stale = false;
    this.options.logger.warn('a send failed: the Kafka producer was replaced (new producer id)');
  }

  async disconnect(): Promise<void> {
    this.connected = false;
    await this.producer.disconnect();
    this.options.logger.debug('producer disconnected');
  }
}
