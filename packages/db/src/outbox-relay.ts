import {
  highWaterMarks,
  HEADERS,
  headerString,
  type EventProducer,
  type Kafka,
  type OutgoingMessage,
} from '@usageflow/kafka';
import { meter, type Logger } from '@usageflow/telemetry';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

export interface OutboxRelayOptions {
  db: Knex;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  /** Rows per produce request (default 500). */
  batchSize?: number;
  /** Pause when the outbox is empty (default 50 ms). */
  idleMs?: number;
  /** Fault injection for tests: runs after Kafka acknowledged a batch, before it is marked. */
  afterSend?: (rows: number) => Promise<void>;
}

interface OutboxRow {
  seq: string;
  id: string;
  topic: string;
  key: string | null;
  payload: string;
  headers: Record<string, string>;
}

/**
 * Publishes the outbox to Kafka in append order and marks what it published.
 *
 * Exactly once per row on the topic, even when the relay dies between Kafka's acknowledgement
 * and the marking: before each send the relay has recorded, per topic-partition, the offset from
 * which its unmarked rows can appear. On start (and after any failed send) it reads the log from
 * those offsets, marks the rows it finds there (by the `event-id` header) as published, and only
 * then sends again. One relay per schema publishes at a time (a transaction-scoped advisory
 * lock), one request in flight, so per-partition order is append order.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly idleMs: number;
  private readonly partitioner = Partitioners.DefaultPartitioner();
  /** Partition count per topic whose positions are recorded. */
  private readonly partitions = new Map<string, number>();
  private readonly metadataByCount = new Map<number, PartitionMetadata[]>();
  private needsRecovery = true;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly published = meter('usageflow.db').createCounter('usageflow.outbox.published', {
    description: 'outbox rows published to Kafka (including those found on the log after a crash)',
  });

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.idleMs = options.idleMs ?? 50;
  }

  /** Starts publishing in the background. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Finishes the batch in hand and stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  /** Publishes until the outbox is empty (for tests and commands). Returns rows published. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      if (this.needsRecovery) await this.recover();
      const n = await this.publishBatch();
      total += n;
      if (n === 0) return total;
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        if (this.needsRecovery) await this.recover();
        const n = await this.publishBatch();
        failures = 0;
        if (n < this.batchSize) await this.pause(this.idleMs);
      } catch (err) {
        this.needsRecovery = true;
        failures++;
        const delay = Math.min(10_000, 100 * 2 ** Math.min(failures, 7));
        if (!this.stopping)
          this.options.logger.error({ err, failures, delay }, 'outbox relay failed; will recover and retry');
        await this.pause(delay);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Publishes one batch of unpublished rows; returns how many. */
  private async publishBatch(): Promise<number> {
    const { db } = this.options;
    return db.transaction(async (trx) => {
      if (!(await this.tryLock(trx))) return 0; // another replica's relay is publishing
      const { rows } = await trx.raw<{ rows: OutboxRow[] }>(
        `select seq, id, topic, key, payload::text as payload, headers
           from outbox where published_at is null order by seq limit ?`,
        [this.batchSize],
      );
      if (rows.length === 0) return 0;

      const byTopic = new Map<string, OutgoingMessage[]>();
      const counts = new Map<string, number>(); // topic/partition -> messages in this batch
      for (const row of rows) {
        const partitionCount = await this.ensurePositions(row.topic);
        const message: OutgoingMessage & { partition: number } = {
          key: row.key,
          value: row.payload,
          headers: row.headers,
          partition: this.partitionOf(row, partitionCount),
        };
        const list = byTopic.get(row.topic) ?? [];
        list.push(message);
        byTopic.set(row.topic, list);
        const tp = `${row.topic}/${message.partition}`;
        counts.set(tp, (counts.get(tp) ?? 0) + 1);
      }

      const metadata = await this.options.producer.sendBatch(
        [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      );
      await this.options.afterSend?.(rows.length);

      // Everything below baseOffset + count on each partition is now accounted for (one statement).
      const advanced = metadata.flatMap((m) => {
        const count = counts.get(`${m.topicName}/${m.partition}`) ?? 0;
        return m.baseOffset === undefined || count === 0
          ? []
          : [{ topic: m.topicName, partition: m.partition, next: (BigInt(m.baseOffset) + BigInt(count)).toString() }];
      });
      if (advanced.length > 0) {
        await trx.raw(
          `update outbox_relay_position p set next_offset = a.next
             from unnest(?::text[], ?::int[], ?::bigint[]) as a(topic, partition, next)
            where p.topic = a.topic and p.partition = a.partition`,
          [advanced.map((a) => a.topic), advanced.map((a) => a.partition), advanced.map((a) => a.next)],
        );
      }
      await trx('outbox')
        .whereIn(
          'seq',
          rows.map((r) => r.seq),
        )
        .update({ published_at: trx.fn.now() });
      this.published.add(rows.length);
      return rows.length;
    });
  }

  private async tryLock(trx: Knex.Transaction): Promise<boolean> {
    const { rows } = await trx.raw<{ rows: Array<{ locked: boolean }> }>(
      `select pg_try_advisory_xact_lock(hashtext('usageflow.outbox-relay.' || current_schema())) as locked`,
    );
    return rows[0]?.locked === true;
  }

  /** The partition KafkaJS would pick (Java-compatible murmur2), made explicit so we can count. */
  private partitionOf(row: OutboxRow, partitionCount: number): number {
    if (row.key === null) return Number(BigInt(row.seq) % BigInt(partitionCount));
    return this.partitioner({
      topic: row.topic,
      partitionMetadata: this.partitionMetadata(partitionCount),
      message: { key: row.key, value: null },
    });
  }

  /** The partitioner reads only the length and leaders of this list: built once per count. */
  private partitionMetadata(count: number): PartitionMetadata[] {
    let metadata = this.metadataByCount.get(count);
    if (!metadata) {
      metadata = Array.from({ length: count }, (_, i) => ({
        partitionId: i,
        leader: 0,
        replicas: [0],
        isr: [0],
        partitionErrorCode: 0,
      }));
      this.metadataByCount.set(count, metadata);
    }
    return metadata;
  }

  /**
   * Before the first send to a topic, records the current end of each partition (committed,
   * outside the batch transaction), so that a crash right after that send is recoverable.
   */
  private async ensurePositions(topic: string): Promise<number> {
    const known = this.partitions.get(topic);
    if (known !== undefined) return known;
    const { db, kafka } = this.options;
    const hwm = await highWaterMarks(kafka, topic);
    await db('outbox_relay_position')
      .insert([...hwm].map(([partition, offset]) => ({ topic, partition, next_offset: offset.toString() })))
      .onConflict(['topic', 'partition'])
      .ignore();
    this.partitions.set(topic, hwm.size);
    return hwm.size;
  }

  /**
   * Reconciles the outbox with the log: rows sent but not marked (a crash or a failed
   * acknowledgement) are found on the topic after the recorded positions and marked published.
   */
  async recover(): Promise<void> {
    const { db, kafka, logger } = this.options;
    const positions =
      await db('outbox_relay_position').select<Array<{ topic: string; partition: number; next_offset: string }>>();
    const pending = new Map<string, Map<number, { from: bigint; to: bigint }>>();
    for (const topic of new Set(positions.map((p) => p.topic))) {
      const hwm = await highWaterMarks(kafka, topic);
      this.partitions.set(topic, hwm.size);
      for (const p of positions.filter((x) => x.topic === topic)) {
        const to = hwm.get(p.partition) ?? 0n;
        const from = BigInt(p.next_offset);
        if (to > from) {
          const m = pending.get(topic) ?? new Map();
          m.set(p.partition, { from, to });
          pending.set(topic, m);
        }
      }
    }
    if (pending.size > 0) {
      const found = await readEventIds(kafka, pending);
      const marked = await db.transaction(async (trx) => {
        const n = found.length
          ? await trx('outbox').whereIn('id', found).whereNull('published_at').update({ published_at: trx.fn.now() })
          : 0;
        for (const [topic, parts] of pending)
          for (const [partition, { to }] of parts)
            await trx('outbox_relay_position').where({ topic, partition }).update({ next_offset: to.toString() });
        return n;
      });
      logger.info({ scanned: found.length, markedPublished: marked }, 'outbox relay reconciled with the log');
    }
    this.needsRecovery = false;
  }
}

/**
 * Reads the given offset ranges and returns the `event-id` header of every record in them, through
 * a throwaway consumer group whose start offsets are set before it joins.
 */
async function readEventIds(kafka: Kafka, ranges: Map<string, Map<number, { from: bigint; to: bigint }>>) {
  const groupId = `usageflow-outbox-recovery-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  const ids: string[] = [];
  try {
    for (const [topic, parts] of ranges) {
      const all = await admin.fetchTopicOffsets(topic);
      await admin.setOffsets({
        groupId,
        topic,
        partitions: all.map((o) => ({
          partition: o.partition,
          offset: (parts.get(o.partition)?.from ?? BigInt(o.high)).toString(),
        })),
      });
    }
    const remaining = new Set<string>();
    for (const [topic, parts] of ranges) for (const p of parts.keys()) remaining.add(`${topic}/${p}`);
    await consumer.connect();
    await consumer.subscribe({ topics: [...ranges.keys()] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`outbox recovery read timed out; left: ${[...remaining]}`)),
        120_000,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const range = ranges.get(batch.topic)?.get(batch.partition);
            if (!range) return;
            for (const m of batch.messages) {
              if (BigInt(m.offset) >= range.to) break;
              const id = headerString(m.headers, HEADERS.eventId);
              if (id) ids.push(id);
            }
            const lastOffset = batch.messages.length ? BigInt(batch.lastOffset()) : -1n;
            if (lastOffset + 1n >= range.to) remaining.delete(`${batch.topic}/${batch.partition}`);
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return ids;
}
