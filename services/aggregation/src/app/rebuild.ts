// Rebuild: empty every table this service projects from the topics and move its consumer groups
// back to offset 0, so the next start replays the log and arrives at the same state. Summaries
// and late records carry name-based ids, so what the replay publishes again is what consumers
// already applied (their inboxes drop it).
import type { Knex } from '@usageflow/db';
import type { Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';

/** The tables a rebuild empties: everything but the messaging tables and the auth projection. */
export const PROJECTION_TABLES = [
  'usage_event_keys',
  'usage_events',
  'usage_duplicates',
  'usage_rollups',
  'usage_unique_values',
  'usage_progress',
  'metrics',
  'plan_versions',
  'subscriptions',
  'late_events',
  'period_metric_totals',
  'period_closings',
  'invoices',
] as const;

export class RebuildRefused extends Error {}

/** The aggregation's consumer groups under `groupPrefix`, with the topics each reads. */
export function consumerGroups(
  groupPrefix: string,
  topics: { usage: string; catalog: string; subscriptions: string; invoices: string },
) {
  return [
    { groupId: `${groupPrefix}.usage`, topic: topics.usage },
    { groupId: `${groupPrefix}.catalog`, topic: topics.catalog },
    { groupId: `${groupPrefix}.subscriptions`, topic: topics.subscriptions },
    { groupId: `${groupPrefix}.invoices`, topic: topics.invoices },
  ];
}

/**
 * Empties the projection and rewinds the groups. Refuses while a replica of the service is still
 * consuming (a group with members), because it would go on from its current offsets.
 */
export async function rebuildProjection(options: {
  db: Knex;
  kafka: Kafka;
  logger: Logger;
  groupPrefix: string;
  topics: { usage: string; catalog: string; subscriptions: string; invoices: string };
}): Promise<{ tables: number; groups: string[] }> {
  const { db, kafka, logger } = options;
  const groups = consumerGroups(options.groupPrefix, options.topics);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups: described } = await admin.describeGroups(groups.map((g) => g.groupId));
    const active = described.filter((g) => g.members.length > 0).map((g) => g.groupId);
    if (active.length > 0) {
      throw new RebuildRefused(`stop every aggregation replica first: ${active.join(', ')} still has members`);
    }
    await db.transaction(async (trx: Knex.Transaction) => {
      await trx.raw(`truncate ${PROJECTION_TABLES.join(', ')}`);
      await trx('inbox')
        .whereIn(
          'consumer',
          groups.map((g) => g.groupId),
        )
        .delete();
    });
    logger.info({ tables: PROJECTION_TABLES.length }, 'projection emptied');
    const existing = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    for (const { groupId, topic } of groups) {
      if (!existing.has(groupId)) continue;
      await admin.resetOffsets({ groupId, topic, earliest: true });
      logger.info({ groupId, topic }, 'consumer group rewound to offset 0');
    }
  } finally {
    await admin.disconnect();
  }
  return { tables: PROJECTION_TABLES.length, groups: groups.map((g) => g.groupId) };
}
