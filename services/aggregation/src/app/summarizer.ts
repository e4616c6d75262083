// Period summaries. A closing (subscription.period_closed) carries the usage topic's high-water
// marks at that moment; the summary is taken once this service's usage consumer has stored
// everything up to them, and counts exactly the events of the period read before them. Events
// of the period read after the marks, already stored, are late from the start: they go out as
// late usage right behind the summary.
import { buildEvent, type Aggregation } from '@usageflow/contracts';
import { appendToOutbox, derivedEventId, type Knex } from '@usageflow/db';
import { Poller } from '@usageflow/runtime';
import { readProgress } from '../adapters/db/event-store';
import { periodTotals, type MetricDefinition } from '../adapters/db/period-totals';
import { hasReached, summaryFingerprint } from '../domain/summary';
import type { AggregationContext } from './context';
import { PRODUCER } from './context';
import { recordLateUsage, subscriptionRef, type ClosingRow, type LateEvent } from './late-usage';

export interface SummarizerOptions {
  usageTopic: string;
  /** Where summaries and late records go (the contract's topic unless a test routes them). */
  summariesTopic?: string;
  pollIntervalMs?: number;
  /** Summaries taken per transaction at most (each holds up the event store's writers a moment). */
  batchSize?: number;
}

/** What a plan version bills and how each of its metrics aggregates; null while either is unknown. */
async function planMetrics(trx: Knex.Transaction, closing: ClosingRow): Promise<MetricDefinition[] | null> {
  const plan = await trx('plan_versions')
    .where({ organization_id: closing.organization_id, code: closing.plan_code, version: closing.plan_version })
    .first<{ metric_keys: string[] } | undefined>();
  if (!plan) return null;
  const metrics = await trx('metrics')
    .where({ organization_id: closing.organization_id })
    .whereIn('key', plan.metric_keys)
    .select<Array<{ key: string; aggregation: Aggregation; unique_property: string | null }>>();
  if (metrics.length < plan.metric_keys.length) return null;
  return metrics.map((m) => ({ key: m.key, aggregation: m.aggregation, uniqueProperty: m.unique_property }));
}

/** Summarizes one closing whose marks were reached; false when its plan or metrics are not known yet. */
async function summarize(
  ctx: AggregationContext,
  trx: Knex.Transaction,
  closing: ClosingRow,
  summariesTopic: string | undefined,
): Promise<boolean> {
  const metrics = await planMetrics(trx, closing);
  if (!metrics) return false;
  const period = { start: closing.period_start.toISOString(), end: closing.period_end.toISOString() };
  const scope = { organizationId: closing.organization_id, customerId: closing.customer_id, ...period, metrics };
  const totals = await periodTotals(trx, { ...scope, marks: closing.high_water_marks });
  const fingerprint = summaryFingerprint({
    subscriptionId: closing.subscription_id,
    period,
    highWaterMarks: closing.high_water_marks,
    metrics: totals,
  });
  const id = derivedEventId('usage.period_summarized', closing.subscription_id, period.start);
  const now = ctx.clock();
  // The late records before this summary (the lock on usage_events holds new ones off): its
  // invoice bills those of them not billed yet, and no others, however billing is timed.
  const { rows: lateBefore } = await trx.raw<{ rows: Array<{ n: string }> }>(
    `select coalesce(max(sequence), 0)::text as n from late_events where subscription_id = ?`,
    [closing.subscription_id],
  );
  const lateRecordsThrough = Number(lateBefore[0]!.n);
  await trx.raw(
    `insert into period_metric_totals
       (subscription_id, period_start, metric, aggregation, summary_quantity, summary_events, billed_quantity)
     select ?, ?, m, a, q, n, q from unnest(?::text[], ?::text[], ?::numeric[], ?::bigint[]) as t(m, a, q, n)`,
    [
      closing.subscription_id,
      closing.period_start,
      totals.map((t) => t.metricKey),
      totals.map((t) => t.aggregation),
      totals.map((t) => t.quantity),
      totals.map((t) => t.eventCount),
    ],
  );
  await trx('period_closings')
    .where({ subscription_id: closing.subscription_id, period_start: closing.period_start })
    .update({ summarized_at: now, summary_event_id: id, fingerprint, late_records_through: lateRecordsThrough });
  await appendToOutbox(
    trx,
    [
      buildEvent('usage.period_summarized', {
        id,
        organizationId: closing.organization_id,
        occurredAt: now,
        producer: PRODUCER,
        data: {
          ...subscriptionRef(closing),
          period,
          metrics: totals.map(({ metricKey, aggregation, quantity, eventCount }) => ({
            metricKey,
            aggregation,
            quantity,
            eventCount,
          })),
          fingerprint,
          highWaterMarks: closing.high_water_marks,
          lateRecordsThrough,
        },
      }),
    ],
    { topic: summariesTopic, skipExistingIds: true },
  );
  // Events of the period stored although read after the marks: late already.
  const { rows: late } = await trx.raw<{
    rows: Array<{
      key: string;
      event_id: string;
      metric: string;
      amount: string;
      kafka_partition: number;
      kafka_offset: string;
    }>;
  }>(
    `select e.key, e.event_id, e.metric, e.amount::text as amount, e.kafka_partition, e.kafka_offset
       from usage_events e
       left join unnest(?::int[], ?::bigint[]) as hw(p, o) on hw.p = e.kafka_partition
      where e.organization_id = ? and e.customer_id = ? and e.ts >= ? and e.ts < ? and e.metric = any(?::text[])
        and (hw.o is null or e.kafka_offset >= hw.o)
      order by e.kafka_partition, e.kafka_offset`,
    [
      closing.high_water_marks.map((m) => m.partition),
      closing.high_water_marks.map((m) => m.offset),
      closing.organization_id,
      closing.customer_id,
      period.start,
      period.end,
      metrics.map((m) => m.key),
    ],
  );
  if (late.length > 0) {
    const events: LateEvent[] = late.map((r) => ({
      key: r.key,
      eventId: r.event_id,
      metric: r.metric,
      amount: r.amount,
      partition: r.kafka_partition,
      offset: r.kafka_offset,
    }));
    await recordLateUsage(trx, { closing, events, now, topic: summariesTopic });
  }
  return true;
}

/**
 * The worker that takes due summaries: it looks every `pollIntervalMs` (and when nudged by the
 * consumers), and summarizes, oldest closing first, every pending closing whose marks the usage
 * consumer has reached.
 */
export class Summarizer {
  readonly name = 'summarizer';
  private readonly poller: Poller;
  private lastWaitingReport = 0;
  /** Whether the last look found closings whose marks the usage consumer has not reached yet. */
  private awaitingProgress = false;

  constructor(
    private readonly ctx: AggregationContext,
    private readonly options: SummarizerOptions,
  ) {
    this.poller = new Poller({
      name: 'summarizer',
      logger: ctx.logger,
      intervalMs: options.pollIntervalMs ?? 250,
      step: async () => {
        await this.runOnce();
        return false;
      },
    });
  }

  start(): void {
    this.poller.start();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  /**
   * The usage consumer stored a batch: look now only if a known closing waits for progress.
   * (Called after every batch: most of the time nothing waits, and this costs no query.)
   */
  progressed(): void {
    if (this.awaitingProgress) this.nudge();
  }

  /** Looks now (a closing, or a plan or metric it waited for, arrived). */
  nudge(): void {
    this.poller.nudge();
  }

  /** Says, at most once a minute, how many closings wait for their plan or metrics to be defined. */
  private async reportWaiting(): Promise<void> {
    const now = Date.now();
    if (now - this.lastWaitingReport < 60_000) return;
    this.lastWaitingReport = now;
    const { rows } = await this.ctx.db.raw<{ rows: Array<{ n: string }> }>(
      `select count(*) as n from period_closings c
        where c.summarized_at is null
          and not exists (select 1 from plan_versions p
                           where p.organization_id = c.organization_id and p.code = c.plan_code
                             and p.version = c.plan_version
                             and not exists (select 1 from unnest(p.metric_keys) as k(key)
                                              where not exists (select 1 from metrics m
                                                                 where m.organization_id = c.organization_id
                                                                   and m.key = k.key)))`,
    );
    const waiting = Number(rows[0]!.n);
    if (waiting > 0) {
      this.ctx.logger.warn(
        { waiting },
        'closed periods wait for their plan version or one of its metrics to be defined',
      );
    }
  }

  /** Takes every summary that is due now; returns how many were taken. */
  async runOnce(): Promise<number> {
    // Only closings whose plan version and every metric of it are known: one that waits for a
    // definition must not hold up the closings behind it.
    const { rows: pending } = await this.ctx.db.raw<{ rows: ClosingRow[] }>(
      `select c.* from period_closings c
         join plan_versions p
           on p.organization_id = c.organization_id and p.code = c.plan_code and p.version = c.plan_version
        where c.summarized_at is null
          and not exists (select 1 from unnest(p.metric_keys) as k(key)
                           where not exists (select 1 from metrics m
                                              where m.organization_id = c.organization_id and m.key = k.key))
        order by c.closed_at, c.subscription_id
        limit ?`,
      [this.options.batchSize ?? 100],
    );
    await this.reportWaiting();
    this.awaitingProgress = false;
    if (pending.length === 0) return 0;
    const progress = await readProgress(this.ctx.db, this.options.usageTopic);
    const due = pending.filter((c) => hasReached(c.high_water_marks, progress));
    this.awaitingProgress = due.length < pending.length;
    if (due.length === 0) return 0;
    return this.ctx.db.transaction(async (trx: Knex.Transaction) => {
      // NOTE: SHARE mode waits for the batches storing events now and holds off new ones until
      // this commits: an event is then either counted or late, never missed between the two.
      await trx.raw('lock table usage_events in share mode');
      // Another replica may have taken some meanwhile: only those still pending, locked, are ours.
      const ours = await trx('period_closings')
        .whereNull('summarized_at')
        .whereIn(
          ['subscription_id', 'period_start'],
          due.map((c) => [c.subscription_id, c.period_start]),
        )
        .orderBy([{ column: 'closed_at' }, { column: 'subscription_id' }])
        .forUpdate()
        .skipLocked()
        .select<ClosingRow[]>();
      let taken = 0;
      for (const closing of ours) {
        if (await summarize(this.ctx, trx, closing, this.options.summariesTopic)) taken++;
      }
      if (taken > 0) this.ctx.logger.info({ taken }, 'periods summarized');
      return taken;
    });
  }
}
