// @ts-check
'use strict';
/**
 * The broker as a benchmark runner uses it, through the project's own kafka package: one client
 * and one admin for the run, the scratch topics of its rounds created, and those topics and the
 * consumer groups of a round deleted once the round is over.
 */
const { setTimeout: sleep } = require('node:timers/promises');

/**
 * A client named `clientId` (its logger at warn) and its admin, which the caller connects and disconnects.
 * @param {string[]} brokers
 * @param {string} clientId
 */
function kafkaTools(brokers, clientId) {
  const { createKafkaClient, ensureTopics } = require('@usageflow/kafka');
  const { createLogger } = require('@usageflow/telemetry');
  const logger = createLogger({ service: clientId, level: 'warn' });
  const kafka = createKafkaClient({ brokers, clientId, logger });
  const admin = kafka.admin();
  return {
    kafka,
    admin,
    logger,
    /** Creates `topic` (if missing) with `partitions` partitions. @param {string} topic @param {number} partitions */
    create: (topic, partitions) => ensureTopics(kafka, [{ topic, numPartitions: partitions }]),
    /**
     * Deletes the topics and their dead-letter topics (`<topic>.dlq`, created by a service's consumer).
     * @param {string[]} topics
     */
    async deleteTopics(topics) {
      const all = await admin.listTopics();
      const ours = all.filter((t) => topics.some((x) => t === x || t === `${x}.dlq`));
      if (ours.length) await admin.deleteTopics({ topics: ours, timeout: 30_000 });
    },
    /**
     * Deletes the groups `prefix` and `prefix.*`; 3 tries, a second apart (a stopped service's members may be leaving).
     * @param {string} prefix
     */
    async deleteGroups(prefix) {
      for (let attempt = 1; ; attempt++) {
        const { groups } = await admin.listGroups();
        const ours = groups.map((g) => g.groupId).filter((id) => id === prefix || id.startsWith(`${prefix}.`));
        if (ours.length === 0) return;
        try {
          await admin.deleteGroups(ours);
          return;
        } catch (err) {
          if (attempt === 3) {
            const failed = /** @type {{ groups?: Array<{ groupId: string, error?: { type?: string } }> }} */ (err)
              .groups;
            const message = err instanceof Error ? err.message : String(err);
            throw new Error(`${message}: ${failed?.map((g) => `${g.groupId} ${g.error?.type}`).join(', ')}`);
          }
          await sleep(1000);
        }
      }
    },
  };
}

module.exports = { kafkaTools };
