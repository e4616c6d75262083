import type { Kafka } from 'kafkajs';

/** A topic to make sure of: partitions and topic-level configs (e.g. retention.ms=-1). */
export interface TopicRequest {
  topic: string;
  numPartitions: number;
  configs?: Record<string, string>;
}

/** Creates the topics that do not exist yet; leaves existing ones as they are. */
export async function ensureTopics(kafka: Kafka, topics: readonly TopicRequest[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((t) => ({
        topic: t.topic,
        numPartitions: t.numPartitions,
        replicationFactor: -1, // the broker's default.replication.factor
        configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

/** The high-water mark (next offset to be written) of each partition of `topic`. */
export async function highWaterMarks(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** True when a broker answers a metadata request within the client's timeout. */
export async function kafkaReachable(kafka: Kafka): Promise<boolean> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
