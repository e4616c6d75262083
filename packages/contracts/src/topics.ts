// Topic names are part of the public contract: outside consumers subscribe to them directly.
// A breaking change to any event on a topic is a new `.vN` topic, never an edit of these names.

/** The Kafka topics of UsageFlow, by area. */
export const TOPICS = {
  identity: 'usageflow.identity.v1',
  catalog: 'usageflow.catalog.v1',
  subscriptions: 'usageflow.subscriptions.v1',
  usageEvents: 'usageflow.usage-events.v1',
  usageSummaries: 'usageflow.usage-summaries.v1',
  invoices: 'usageflow.invoices.v1',
  webhooks: 'usageflow.webhooks.v1',
} as const;

/** One of the domain topics. */
export type Topic = (typeof TOPICS)[keyof typeof TOPICS];

/** Every domain topic, in the order of the architecture's topics table. */
export const ALL_TOPICS: readonly Topic[] = Object.freeze(Object.values(TOPICS));

/** Whether `x` names a domain topic. */
export function isTopic(x: unknown): x is Topic {
  return typeof x === 'string' && (ALL_TOPICS as readonly string[]).includes(x);
}

/** The dead-letter topic of `topic`: where a consumer parks a message it can never apply. */
export function dlqTopic<T extends string>(topic: T): `${T}.dlq` {
  return `${topic}.dlq`;
}

/** How infra creates a topic. */
export interface TopicSpec {
  /** The topic name. */
  readonly name: string;
  /** The service that owns it (a dead-letter topic shares its source's owner; any consumer of
   * the source may write dead letters to it). */
  readonly owner: string;
  /** Partition count: the ceiling of consumer parallelism; only ever increased. */
  readonly partitions: number;
  /** `retention.ms`; -1 keeps messages forever. */
  readonly retentionMs: number;
  /** `cleanup.policy`. */
  readonly cleanupPolicy: 'delete' | 'compact';
}

/** Dead letters are kept for 30 days: long enough to triage and replay, bounded. */
const DLQ_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

function domainTopic(name: Topic, owner: string, partitions: number): TopicSpec {
  // NOTE: domain topics are the log of record (every projection is rebuilt by replaying them from
  // offset 0), so they are never deleted by time nor compacted.
  return Object.freeze({ name, owner, partitions, retentionMs: -1, cleanupPolicy: 'delete' as const });
}

const DOMAIN_TOPIC_SPECS: readonly TopicSpec[] = [
  domainTopic(TOPICS.identity, 'identity', 6),
  domainTopic(TOPICS.catalog, 'subscription', 6),
  domainTopic(TOPICS.subscriptions, 'subscription', 6),
  // The raw usage stream is the high-volume one: more partitions for aggregation to scale out.
  domainTopic(TOPICS.usageEvents, 'ingestion', 12),
  domainTopic(TOPICS.usageSummaries, 'aggregation', 6),
  domainTopic(TOPICS.invoices, 'billing', 6),
  // Low volume (endpoint health notices), but kept like every domain topic.
  domainTopic(TOPICS.webhooks, 'webhook-dispatch', 6),
];

/**
 * Every topic infra creates: the domain topics and their dead-letter topics (with the source's
 * partition count, so a dead letter can keep its source partition).
 */
export const TOPIC_SPECS: readonly TopicSpec[] = Object.freeze([
  ...DOMAIN_TOPIC_SPECS,
  ...DOMAIN_TOPIC_SPECS.map((spec): TopicSpec =>
    Object.freeze({
      name: dlqTopic(spec.name),
      owner: spec.owner,
      partitions: spec.partitions,
      retentionMs: DLQ_RETENTION_MS,
      cleanupPolicy: 'delete' as const,
    }),
  ),
]);

/** The service that alone produces to a domain topic (the `producer` of its events). */
export function topicOwner(topic: Topic): string {
  const spec = DOMAIN_TOPIC_SPECS.find((s) => s.name === topic);
  if (!spec) throw new Error(`unknown topic "${topic}"`);
  return spec.owner;
}
