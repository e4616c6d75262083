// Feeds the in-memory projection from the identity and catalog topics. Every gateway process
// reads both topics whole, from offset 0, in a consumer group of its own (a shared group would
// split the partitions between replicas, and each replica needs all of them). It is caught up
// once it has read to the high-water marks taken at start: only then is /readyz true and are
// events accepted, so a key created before the start is never refused as unknown.
import { TOPICS } from '@usageflow/contracts';
import { ConsumerRunner, highWaterMarks, PROJECTION_FETCH, type EventProducer, type Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { IngestionProjection } from '../../app/projection';

export interface ProjectionConsumerOptions {
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  projection: IngestionProjection;
  /** Default: the identity and catalog topics. */
  topics?: readonly string[];
}

/** The projection's feed, with `caughtUp()` for readiness. */
export class ProjectionConsumer {
  readonly groupId = `ingestion.projection.${hostname()}.${process.pid}.${randomUUID().slice(0, 8)}`;
  private readonly topics: readonly string[];
  private readonly runner: ConsumerRunner;
  /** Next offset to read per "topic:partition"; the targets are the marks at start. */
  private readonly position = new Map<string, bigint>();
  private targets: Map<string, bigint> | undefined;
  private ready = false;

  constructor(private readonly options: ProjectionConsumerOptions) {
    this.topics = options.topics ?? [TOPICS.identity, TOPICS.catalog];
    this.runner = new ConsumerRunner({
      kafka: options.kafka,
      producer: options.producer,
      groupId: this.groupId,
      topics: this.topics,
      logger: options.logger.child({ component: 'projection' }),
      fromBeginning: true,
      ...PROJECTION_FETCH,
      handle: async (messages, { topic, partition }) => {
        for (const m of messages) options.projection.apply(m.event);
        const last = messages[messages.length - 1];
        if (last) this.position.set(`${topic}:${partition}`, BigInt(last.offset) + 1n);
      },
    });
  }

  async start(): Promise<void> {
    const targets = new Map<string, bigint>();
    for (const topic of this.topics) {
      for (const [partition, mark] of await highWaterMarks(this.options.kafka, topic)) {
        targets.set(`${topic}:${partition}`, mark);
      }
    }
    this.targets = targets;
    await this.runner.start();
  }

  async stop(): Promise<void> {
    await this.runner.stop();
    // The group was this process's alone: delete it rather than leave it for the broker to expire.
    const admin = this.options.kafka.admin();
    try {
      await admin.connect();
      await admin.deleteGroups([this.groupId]);
    } catch (err) {
      this.options.logger.warn({ err, groupId: this.groupId }, 'could not delete the projection consumer group');
    } finally {
      await admin.disconnect();
    }
  }

  /** True once every partition was read up to its mark at start (then stays true). */
  caughtUp(): boolean {
    if (this.ready) return true;
    if (!this.targets) return false;
    for (const [key, target] of this.targets) {
      if ((this.position.get(key) ?? 0n) < target) return false;
    }
    this.options.logger.info({ ...this.options.projection.stats() }, 'projection caught up');
    this.ready = true;
    return true;
  }
}
