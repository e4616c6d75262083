// Closing billing periods. A period closes once its end plus the grace window has passed: on the
// wall clock for real-time subscriptions (the closer's sweep), on its test clock for a test-mode
// one (advancing the clock). Both run the same closeDuePeriodsOf, so a test clock closes periods
// exactly as real time would. Each closing, under the subscription's row lock: a period_closings
// row (its key makes a second closing of one period fail loudly instead of billing it twice), the
// row moved on to the next period (or ended), and subscription.period_closed with the usage
// topic's high-water marks.
import { buildEvent, type HighWaterMark } from '@usageflow/contracts';
import { appendToOutbox, type Knex } from '@usageflow/db';
import { randomUUID } from 'node:crypto';
import { closingDueAt, isClosingDue } from '../domain/periods';
import { onPeriodClosed } from '../domain/subscription-status';
import { PRODUCER, type SubscriptionContext } from './context';
import { intervalOf, stateOf, type SubscriptionRow } from './subscriptions';

/** How many subscriptions one sweep transaction-loop reads at a time. */
const SWEEP_BATCH = 100;

/**
 * Closes every period of `row` (locked by the caller) that is due at `now`, in order, and returns
 * how many it closed. A subscription that fell behind (started in the past, or a clock advanced
 * across several boundaries) catches up period by period, each one its own event.
 */
export async function closeDuePeriodsOf(
  ctx: SubscriptionContext,
  trx: Knex.Transaction,
  row: SubscriptionRow,
  now: Date,
  marks: HighWaterMark[],
): Promise<number> {
  if (!row.period_start || !row.period_end) return 0;
  const schedule = {
    anchor: new Date(row.billing_anchor),
    interval: await intervalOf(trx, row),
    startAt: new Date(row.start_at),
  };
  let state = stateOf(row);
  let period = { start: new Date(row.period_start), end: new Date(row.period_end) };
  let closed = 0;
  while (isClosingDue(period, ctx.settings.graceMs, now)) {
    const decision = onPeriodClosed({ ...state, ...schedule }, period);
    const next = decision.nextPeriod;
    const eventId = randomUUID();
    // NOTE: a plain insert: under the row lock a period is closed once, so a conflict here means
    // the row and its closings disagree, which must stop the closing rather than be skipped.
    await trx('period_closings').insert({
      subscription_id: row.id,
      period_start: period.start,
      period_end: period.end,
      closed_at: now,
      event_id: eventId,
    });
    await trx('subscriptions')
      .where({ id: row.id })
      .update({
        status: decision.state.status,
        cancel_at: decision.state.cancelAt,
        ended_at: decision.state.endedAt,
        period_start: next?.start ?? null,
        period_end: next?.end ?? null,
        period_index: next?.index ?? null,
        updated_at: ctx.clock(),
      });
    await appendToOutbox(trx, [
      buildEvent('subscription.period_closed', {
        id: eventId,
        organizationId: row.organization_id,
        occurredAt: now,
        producer: PRODUCER,
        data: {
          subscriptionId: row.id,
          customerId: row.customer_id,
          planCode: row.plan_code,
          planVersion: row.plan_version,
          period: { start: period.start.toISOString(), end: period.end.toISOString() },
          closedAt: now.toISOString(),
          graceEndsAt: closingDueAt(period, ctx.settings.graceMs).toISOString(),
          usageHighWaterMarks: marks,
          nextPeriod: next ? { start: next.start.toISOString(), end: next.end.toISOString() } : null,
          ...(row.test_clock_id ? { testClockId: row.test_clock_id } : {}),
        },
      }),
    ]);
    closed += 1;
    if (!next) break;
    state = decision.state;
    period = next;
  }
  return closed;
}

/**
 * One sweep of the real-time closer: closes every due period of subscriptions on the wall clock
 * and returns how many. Rows another replica holds are skipped (SKIP LOCKED) and left to it.
 */
export async function closeDuePeriods(ctx: SubscriptionContext): Promise<number> {
  const now = ctx.clock();
  const cutoff = new Date(now.getTime() - ctx.settings.graceMs);
  let marks: HighWaterMark[] | undefined;
  let total = 0;
  for (;;) {
    const ids: string[] = await ctx
      .db('subscriptions')
      .whereNull('test_clock_id')
      .whereNotNull('period_end')
      .where('period_end', '<=', cutoff)
      .orderBy('period_end')
      .limit(SWEEP_BATCH)
      .pluck('id');
    if (ids.length === 0) return total;
    // NOTE: the marks are read once per sweep, before any closing commits: an event acknowledged
    // after this read is after the closing too, so it is never lost between two periods.
    marks ??= await ctx.usageHighWaterMarks();
    let progressed = 0;
    for (const id of ids) {
      progressed += await ctx.db.transaction(async (trx) => {
        const row = await trx<SubscriptionRow>('subscriptions')
          .where({ id })
          .whereNull('test_clock_id')
          .forUpdate()
          .skipLocked()
          .first();
        return row ? closeDuePeriodsOf(ctx, trx, row, now, marks!) : 0;
      });
    }
    total += progressed;
    if (progressed === 0) return total;
  }
}

/** A worker that sweeps every `intervalMs`; one failed sweep is logged and the next one retries. */
export function periodCloser(ctx: SubscriptionContext, intervalMs: number) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const sweep = async () => {
    try {
      const closed = await closeDuePeriods(ctx);
      if (closed > 0) ctx.logger.info({ closed }, 'billing periods closed');
    } catch (err) {
      ctx.logger.error({ err }, 'closing billing periods failed; the next sweep retries');
    }
  };
  const loop = () => {
    running = sweep().finally(() => {
      running = undefined;
      if (timer !== undefined) timer = setTimeout(loop, intervalMs);
    });
  };
  return {
    name: 'period-closer',
    start() {
      timer = setTimeout(loop, 0);
    },
    async stop() {
      clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
