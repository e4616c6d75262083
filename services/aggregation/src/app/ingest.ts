// Storing one consumer batch of usage events, exactly once: in one transaction the new identity
// keys are claimed, the first arrivals stored and folded into the rollups, late arrivals for
// summarized periods recorded, and the partition's progress written. Offsets are committed to
// Kafka after it; a crash in between re-reads the batch, whose keys are all claimed by then,
// so nothing changes twice.
import type { Knex } from '@usageflow/db';
import {
  claimKeys,
  copyEvents,
  ensurePartitions,
  foldRollups,
  foldUniqueValues,
  progressOf,
  recordDuplicates,
  recordProgress,
  uniqueProperties,
} from '../adapters/db/event-store';
import { firstArrivals, type UsageRecord } from '../domain/usage-batch';
import type { AggregationContext } from './context';
import { recordLateUsage, summarizedPeriodsTouching } from './late-usage';

/** What became of a batch. */
export interface IngestResult {
  received: number;
  stored: number;
  duplicates: number;
  late: number;
}

/** The (organization, customer) pairs of `records` with the time span their events cover. */
function customerSpans(records: readonly UsageRecord[]) {
  const spans = new Map<string, { organizationId: string; customerId: string; from: Date; to: Date }>();
  for (const r of records) {
    const id = `${r.organizationId}\u0000${r.customerId}`;
    const span = spans.get(id);
    if (!span)
      spans.set(id, {
        organizationId: r.organizationId,
        customerId: r.customerId,
        from: new Date(r.ts),
        to: new Date(r.ts),
      });
    else if (r.ts < span.from.getTime()) span.from = new Date(r.ts);
    else if (r.ts > span.to.getTime()) span.to = new Date(r.ts);
  }
  return [...spans.values()];
}

/**
 * Stores the usage records of one partition's batch. `nextOffset` is the offset after the last
 * record of the batch, valid or not (what the summaries wait for).
 */
export async function ingestBatch(
  ctx: AggregationContext,
  options: {
    records: readonly UsageRecord[];
    topic: string;
    partition: number;
    nextOffset: string;
    knownPartitions: Set<string>;
    /** Where usage.late_recorded goes (the contract's topic unless a test routes it). */
    summariesTopic?: string;
  },
): Promise<IngestResult> {
  const candidates = firstArrivals(options.records);
  await ensurePartitions(ctx.db, candidates, options.knownPartitions);
  return ctx.db.transaction(async (trx: Knex.Transaction) => {
    const fresh = await claimKeys(trx, candidates);
    await copyEvents(trx, fresh);
    await foldRollups(trx, fresh);
    const properties = await uniqueProperties(trx, fresh);
    if (properties.size > 0) await foldUniqueValues(trx, fresh, properties);
    const late = await recordLateArrivals(trx, fresh, ctx.clock(), options.summariesTopic);
    if (fresh.length < options.records.length) {
      const stored = new Set(fresh);
      const dropped = options.records.filter((r) => !stored.has(r));
      await recordDuplicates(trx, dropped, await progressOf(trx, options.topic, options.partition), ctx.clock());
    }
    await recordProgress(trx, options.topic, options.partition, options.nextOffset);
    return {
      received: options.records.length,
      stored: fresh.length,
      duplicates: options.records.length - fresh.length,
      late,
    };
  });
}

/** Records the fresh events that fall in already summarized periods as late usage. */
async function recordLateArrivals(
  trx: Knex.Transaction,
  fresh: readonly UsageRecord[],
  now: Date,
  topic: string | undefined,
): Promise<number> {
  const closings = await summarizedPeriodsTouching(trx, customerSpans(fresh));
  let late = 0;
  for (const closing of closings) {
    const start = closing.period_start.getTime();
    const end = closing.period_end.getTime();
    const events = fresh.filter(
      (r) =>
        r.organizationId === closing.organization_id &&
        r.customerId === closing.customer_id &&
        r.ts >= start &&
        r.ts < end,
    );
    if (events.length === 0) continue;
    await recordLateUsage(trx, { closing, events, now, topic });
    late += events.length;
  }
  return late;
}
