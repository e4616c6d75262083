// @ts-check
'use strict';
/**
 * The Kafka topics the local infrastructure creates before anything else runs.
 *
 * THIS LIST MIRRORS `TOPICS` IN packages/contracts (the one source of truth for topic names,
 * see ARCHITECTURE.md "Topics"). It is duplicated here only because infra starts before the
 * TypeScript build: contracts is not compiled yet when `infra/local` runs on a fresh clone.
 * If you add, rename or re-partition a topic in contracts, change it here too.
 *
 * Domain topics are the log of record (every projection is rebuilt by replaying them from
 * offset 0), so they never expire: retention.ms=-1 and retention.bytes=-1.
 * Each has a `.dlq` twin for messages a consumer gave up on; those are operational, not a
 * record, so they keep 30 days.
 */

/** @typedef {{ name: string, partitions: number, config: Record<string, string> }} TopicSpec */

/** Log of record: never delete. */
const FOREVER = { 'retention.ms': '-1', 'retention.bytes': '-1' };
/** Dead-letter topics: 30 days is plenty to inspect and replay. */
const DLQ_RETENTION = { 'retention.ms': String(30 * 24 * 60 * 60 * 1000), 'retention.bytes': '-1' };

/** Domain topics and their partition counts (usage events get more: they are the hot path). */
const DOMAIN_TOPICS = /** @type {const} */ ([
  ['usageflow.identity.v1', 6],
  ['usageflow.catalog.v1', 6],
  ['usageflow.subscriptions.v1', 6],
  ['usageflow.usage-events.v1', 12],
  ['usageflow.usage-summaries.v1', 6],
  ['usageflow.invoices.v1', 6],
  ['usageflow.webhooks.v1', 6],
]);

/** @type {TopicSpec[]} */
const TOPICS = DOMAIN_TOPICS.flatMap(([name, partitions]) => [
  { name, partitions, config: { ...FOREVER } },
  // a dead letter keeps its source partition count (packages/contracts TOPIC_SPECS)
  { name: `${name}.dlq`, partitions, config: { ...DLQ_RETENTION } },
]);

module.exports = { TOPICS, DOMAIN_TOPICS };
