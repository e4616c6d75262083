import { dlqTopic, parseEvent } from '@usageflow/contracts';
import { extractTraceContext, meter, withSpan, type Logger } from '@usageflow/telemetry';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { ensureTopics, highWaterMarks } from './admin';
import { backoffDelay, classifyError } from './errors';
import type { ConsumedEvent, ConsumedMessage } from './message';
import type { EventProducer } from './producer';

export interface ConsumerRunnerOptions<M extends ConsumedMessage> {
  kafka: Kafka;
  /** Produces dead letters; shared with the service's other producing code. */
  producer: EventProducer;
  groupId: string;
  topics: readonly string[];
  logger: Logger;
  /**
   * Applies a batch of consecutive messages of one partition. Must be idempotent (inbox):
   * after a crash the same batch arrives again. Throwing leaves the offsets where they were.
   */
  handle: (messages: M[], context: { topic: string; partition: number; logger: Logger }) => Promise<void>;
  /** 'event' parses and validates each record as a domain event (undecodable ones are
   * dead-lettered); 'raw' hands records through as they are. Default 'event'. */
  decode?: M extends ConsumedEvent ? 'event' : 'raw';
  /** Start from the beginning of the log when the group has no committed offset (default true:
   * projections are built by replaying the topics from offset 0). */
  fromBeginning?: boolean;
  /** Partitions handled at once (default 1). Each batch is still one partition's, in order. */
  concurrency?: number;
  /** The most a fetch brings per partition (default 4 MiB): bounds a batch, and the memory held. */
  maxBytesPerPartition?: number;
  /** The most a fetch brings in all (default 10 MiB, KafkaJS's): with the above, the memory a fetch takes. */
  maxBytes?: number;
  retry?: { initialMs?: number; maxMs?: number; unknownErrorAttempts?: number };
}

/**
 * The fetch size of a projection's consumer: 512 KiB per partition, 1 MiB in all. Projections
 * are small events replayed from offset 0 at every new start; the default 4 MiB / 10 MiB fetch,
 * taken by each of a service's consumers, made most of its peak memory, while 1 MiB still
 * carries a thousand events or more per fetch.
 */
export const PROJECTION_FETCH = Object.freeze({ maxBytesPerPartition: 512 * 1024, maxBytes: 1024 * 1024 });

const DLQ_HEADERS = {
  error: 'dlq-error',
  errorClass: 'dlq-error-class',
  topic: 'dlq-source-topic',
  partition: 'dlq-source-partition',
  offset: 'dlq-source-offset',
  group: 'dlq-consumer-group',
  failedAt: 'dlq-failed-at',
} as const;
export { DLQ_HEADERS };

class Stopped extends Error {}

/**
 * Runs a consumer group over `topics` in batches. Guarantees:
 * - an offset is committed only after the messages before it were handled or dead-lettered;
 * - transient failures are retried with exponential backoff and jitter, indefinitely;
 * - a failing batch is split so that one poison message goes to `<topic>.dlq` with its error
 *   and the others are still applied: never a silent skip;
 * - `stop()` lets the batch in hand finish (or abandons its retry loop) and leaves the group.
 */
export class ConsumerRunner<M extends ConsumedMessage = ConsumedEvent> {
  private readonly consumer: Consumer;
  private stopping = false;
  private readonly retry: Required<NonNullable<ConsumerRunnerOptions<M>['retry']>>;
  private readonly metrics = {
    handled: meter('usageflow.kafka').createCounter('usageflow.consumer.messages_handled', {
      description: 'messages applied by a consumer handler',
    }),
    deadLettered: meter('usageflow.kafka').createCounter('usageflow.consumer.messages_dead_lettered', {
      description: 'messages sent to a dead-letter topic',
    }),
    retries: meter('usageflow.kafka').createCounter('usageflow.consumer.handler_retries', {
      description: 'handler failures retried with backoff',
    }),
  };

  constructor(private readonly options: ConsumerRunnerOptions<M>) {
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 4 * 1024 * 1024,
      maxBytes: options.maxBytes ?? 10 * 1024 * 1024,
      // NOTE: how long an idle fetch waits at the broker for data. Data ends the wait at once, so
      // this costs no latency; it bounds how long `stop()` waits for the fetch in flight (KafkaJS
      // lets it finish), which the default 5 s made long enough, with two consumers in a
      // process, to run out a service's 10 s shutdown.
      maxWaitTimeInMs: 1_000,
    });
    this.retry = {
      initialMs: options.retry?.initialMs ?? 200,
      maxMs: options.retry?.maxMs ?? 30_000,
      unknownErrorAttempts: options.retry?.unknownErrorAttempts ?? 5,
    };
  }

  /** Joins the group and starts consuming; resolves once the consumer is running. */
  async start(): Promise<void> {
    const o = this.options;
    // A dead-letter topic has its source's partition count, as the contracts' TOPIC_SPECS say.
    const dlqs = [];
    for (const t of o.topics) dlqs.push({ topic: dlqTopic(t), numPartitions: (await highWaterMarks(o.kafka, t)).size });
    await ensureTopics(o.kafka, dlqs);
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...o.topics], fromBeginning: o.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: o.concurrency ?? 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /** Leaves the group after the batch in hand; retry loops stop without committing. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const logger = this.options.logger.child({ topic: batch.topic, partition: batch.partition });
    let run: M[] = [];
    try {
      for (const raw of batch.messages) {
        const decoded = this.decode(batch.topic, batch.partition, raw);
        if (decoded.ok) {
          run.push(decoded.message);
          continue;
        }
        // An undecodable record: apply what came before it, then dead-letter it in order.
        await this.apply(run, payload, logger);
        run = [];
        await this.deadLetter(decoded.message, decoded.error, 'poison', payload, logger);
      }
      await this.apply(run, payload, logger);
    } catch (err) {
      if (err instanceof Stopped) return; // offsets stay where they are; the batch comes again
      throw err;
    }
  }

  private decode(
    topic: string,
    partition: number,
    raw: KafkaMessage,
  ): { ok: true; message: M } | { ok: false; message: ConsumedMessage; error: unknown } {
    const message: ConsumedMessage = {
      topic,
      partition,
      offset: raw.offset,
      key: raw.key ? raw.key.toString() : null,
      value: raw.value,
      headers: raw.headers ?? {},
      timestamp: raw.timestamp,
    };
    if (this.options.decode === 'raw') return { ok: true, message: message as M };
    try {
      return { ok: true, message: { ...message, event: parseEvent(raw.value) } as unknown as M };
    } catch (error) {
      return { ok: false, message, error };
    }
  }

  /** Applies consecutive messages; on failure retries, splits, or dead-letters per the rules. */
  private async apply(messages: M[], payload: EachBatchPayload, logger: Logger): Promise<void> {
    if (messages.length === 0) return;
    const { topic, partition } = payload.batch;
    let unknownFailures = 0;
    for (let attempt = 0; ; attempt++) {
      this.checkRunning(payload);
      try {
        const last = messages[messages.length - 1]!;
        await withSpan(`consume ${topic}`, () => this.options.handle(messages, { topic, partition, logger }), {
          parent: extractTraceContext(last.headers),
          attributes: { 'messaging.batch.message_count': messages.length, 'messaging.kafka.partition': partition },
        });
        await this.commit(payload, last.offset);
        this.metrics.handled.add(messages.length, { topic, group: this.options.groupId });
        return;
      } catch (err) {
        const kind = classifyError(err);
        if (kind === 'transient' || (kind === 'unknown' && ++unknownFailures < this.retry.unknownErrorAttempts)) {
          const delay = backoffDelay(attempt, this.retry.initialMs, this.retry.maxMs);
          this.metrics.retries.add(1, { topic, group: this.options.groupId, errorClass: kind });
          logger.warn({ err, attempt, delay, errorClass: kind, count: messages.length }, 'handler failed; retrying');
          await this.sleep(delay, payload);
          continue;
        }
        if (messages.length > 1) {
          // Isolate the culprit: apply one by one, so only the poison message is dead-lettered.
          logger.warn({ err, count: messages.length }, 'batch failed for good; isolating the poison message');
          for (const m of messages) await this.apply([m], payload, logger);
          return;
        }
        await this.deadLetter(messages[0]!, err, kind, payload, logger);
        return;
      }
    }
  }

  private async deadLetter(
    message: ConsumedMessage,
    error: unknown,
    errorClass: string,
    payload: EachBatchPayload,
    logger: Logger,
  ): Promise<void> {
    const text = error instanceof Error ? error.message : String(error);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(message.headers)) {
      const first = Array.isArray(v) ? v[0] : v;
      if (first !== undefined) headers[k] = first.toString();
    }
    Object.assign(headers, {
      [DLQ_HEADERS.error]: text.slice(0, 4_000),
      [DLQ_HEADERS.errorClass]: errorClass,
      [DLQ_HEADERS.topic]: message.topic,
      [DLQ_HEADERS.partition]: String(message.partition),
      [DLQ_HEADERS.offset]: message.offset,
      [DLQ_HEADERS.group]: this.options.groupId,
      [DLQ_HEADERS.failedAt]: new Date().toISOString(),
    });
    for (let attempt = 0; ; attempt++) {
      this.checkRunning(payload);
      try {
        await this.options.producer.send(dlqTopic(message.topic), [
          { key: message.key, value: message.value ?? Buffer.alloc(0), headers },
        ]);
        break;
      } catch (err) {
        logger.error({ err, attempt }, 'dead-letter produce failed; retrying');
        await this.sleep(backoffDelay(attempt, this.retry.initialMs, this.retry.maxMs), payload);
      }
    }
    logger.error({ offset: message.offset, error: text, errorClass }, 'message dead-lettered');
    this.metrics.deadLettered.add(1, { topic: message.topic, group: this.options.groupId });
    await this.commit(payload, message.offset);
  }

  private async commit(payload: EachBatchPayload, offset: string): Promise<void> {
    payload.resolveOffset(offset);
    await this.consumer.commitOffsets([
      { topic: payload.batch.topic, partition: payload.batch.partition, offset: (BigInt(offset) + 1n).toString() },
    ]);
    await payload.heartbeat();
  }

  private checkRunning(payload: EachBatchPayload): void {
    if (this.stopping || !payload.isRunning() || payload.isStale()) throw new Stopped();
  }

  private async sleep(ms: number, payload: EachBatchPayload): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      this.checkRunning(payload);
      await new Promise((r) => setTimeout(r, Math.min(500, until - Date.now())));
      await payload.heartbeat().catch(() => undefined);
    }
  }
}
