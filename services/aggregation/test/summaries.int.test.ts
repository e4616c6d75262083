// Period summaries on real Kafka and Postgres: a summary waits for the events accepted before
// the closing, counts exactly those, turns later ones into late usage without touching the
// summary, and a rebuild from offset 0 reproduces the same rollups and summary.
import { readTopic, waitFor } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { startAggregation, type Aggregation } from './harness';

const MARCH = { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' };
const APRIL = { start: '2025-04-01T00:00:00.000Z', end: '2025-05-01T00:00:00.000Z' };
const at = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

interface Published {
  id: string;
  type: string;
  data: Record<string, unknown> & { quantity?: string; eventCount?: number; metrics?: Array<Record<string, unknown>> };
}

async function published(agg: Aggregation, count: number): Promise<Published[]> {
  const records = await readTopic(agg.kafka, agg.topics.summaries, { count, settleMs: 500 });
  return records.map((r) => JSON.parse(r.value!) as Published);
}

async function snapshot(agg: Aggregation) {
  const q = async (sql: string) => (await agg.db.raw<{ rows: unknown[] }>(sql)).rows;
  return {
    rollups: await q(`select * from usage_rollups order by organization_id, customer_id, metric, hour`),
    unique: await q(`select * from usage_unique_values order by 1, 2, 3, 4, 5`),
    closings: await q(
      `select subscription_id, period_start, summary_event_id, fingerprint from period_closings order by 1, 2`,
    ),
    totals: await q(
      `select subscription_id, period_start, metric, summary_quantity, summary_events from period_metric_totals order by 1, 2, 3`,
    ),
  };
}

describe('period summaries', () => {
  let agg: Aggregation;
  const subscriptionId = randomUUID();
  beforeAll(async () => {
    agg = await startAggregation({ startUsage: false });
  });
  afterAll(async () => {
    await agg?.stop();
  });

  it('wait for the events accepted before the closing, count exactly those, and bill later ones as late', async () => {
    await agg.defineMetric({ key: 'API_CALL', name: 'API calls', unit: 'calls', aggregation: 'SUM' });
    await agg.defineMetric({ key: 'SEATS', name: 'Seats', unit: 'seats', aggregation: 'MAX' });
    await agg.defineMetric({
      key: 'USERS',
      name: 'Users',
      unit: 'users',
      aggregation: 'UNIQUE_COUNT',
      uniqueProperty: 'userId',
    });
    await agg.definePlan({
      code: 'pro',
      version: 1,
      name: 'Pro',
      currency: 'USD',
      interval: 'MONTHLY',
      basePrice: '100.00',
      planMetrics: ['API_CALL', 'SEATS', 'USERS'].map((metricKey) => ({
        metricKey,
        includedUnits: '0',
        overageUnitPrice: '0.01',
      })),
    });
    await agg.subscribe({
      subscriptionId,
      customerId: 'user_123',
      planCode: 'pro',
      planVersion: 1,
      startAt: MARCH.start,
      billingAnchor: MARCH.start,
      currentPeriod: MARCH,
    });
    // 1,200 API calls in March, around them events that are not March's (February's last
    // millisecond, April's first), and another customer's; seats peak at 7; 4 distinct users.
    await agg.sendUsage([
      ...Array.from({ length: 1200 }, (_, i) => ({ eventId: `call_${i}`, timestamp: at(MARCH.start, i * 60_000) })),
      { eventId: 'feb', timestamp: at(MARCH.start, -1) },
      { eventId: 'apr', timestamp: APRIL.start },
      { eventId: 'other', customerId: 'user_9', timestamp: at(MARCH.start, 5) },
      ...[3, 7, 5].map((n, i) => ({
        eventId: `seats_${i}`,
        metric: 'SEATS',
        amount: String(n),
        timestamp: at(MARCH.start, i),
      })),
      ...['a', 'b', 'a', 'c', 'd'].map((u, i) => ({
        eventId: `user_${i}`,
        metric: 'USERS',
        properties: { userId: u },
        timestamp: at(MARCH.start, i),
      })),
    ]);
    const marks = await agg.marks();
    await agg.closePeriod({
      subscriptionId,
      customerId: 'user_123',
      planCode: 'pro',
      planVersion: 1,
      period: MARCH,
      closedAt: at(APRIL.start, 3_600_000),
      graceEndsAt: at(APRIL.start, 3_600_000),
      usageHighWaterMarks: marks,
      nextPeriod: APRIL,
    });
    // accepted after the closing, although timestamped in March: late, never in the summary
    await agg.sendUsage([
      { eventId: 'after_close_1', amount: '2', timestamp: at(MARCH.end, -1) },
      { eventId: 'after_close_2', amount: '1', timestamp: at(MARCH.start, 1) },
    ]);

    await waitFor('the closing to be projected', async () => (await agg.db('period_closings').first()) ?? undefined);
    // the usage consumer has not read anything yet: the summary must wait
    expect(await agg.service.summarizer.runOnce()).toBe(0);
    expect(await agg.db('period_closings').whereNotNull('summarized_at').first()).toBeUndefined();

    await agg.startUsage();
    const [summary, ...late] = await published(agg, 3);
    expect(summary!.type).toBe('usage.period_summarized');
    expect(summary!.data.metrics).toEqual([
      { metricKey: 'API_CALL', aggregation: 'SUM', quantity: '1200', eventCount: 1200 },
      { metricKey: 'SEATS', aggregation: 'MAX', quantity: '7', eventCount: 3 },
      { metricKey: 'USERS', aggregation: 'UNIQUE_COUNT', quantity: '4', eventCount: 5 },
    ]);
    expect(summary!.data).toMatchObject({
      subscriptionId,
      customerId: 'user_123',
      period: MARCH,
      highWaterMarks: marks,
    });
    // one record per late event, in topic order
    expect(late.map((r) => [r.type, r.data.metricKey, r.data.period, r.data.quantity, r.data.eventIds])).toEqual([
      ['usage.late_recorded', 'API_CALL', MARCH, '2', ['after_close_1']],
      ['usage.late_recorded', 'API_CALL', MARCH, '1', ['after_close_2']],
    ]);

    // Late after the summary: one more API call, and a seat count below the billed peak
    await agg.sendUsage([
      { eventId: 'much_later', amount: '5', timestamp: at(MARCH.start, 10) },
      { eventId: 'seats_low', metric: 'SEATS', amount: '6', timestamp: at(MARCH.start, 10) },
    ]);
    const all = await published(agg, 5);
    expect(all.slice(3).map((r) => [r.type, r.data.metricKey, r.data.quantity, r.data.eventCount])).toEqual([
      ['usage.late_recorded', 'API_CALL', '5', 1],
      ['usage.late_recorded', 'SEATS', '0', 1],
    ]);
    // the summary itself never changes
    const totals = await agg
      .db('period_metric_totals')
      .orderBy('metric')
      .select('metric', 'summary_quantity', 'billed_quantity');
    expect(totals).toEqual([
      { metric: 'API_CALL', summary_quantity: '1200', billed_quantity: '1208' },
      { metric: 'SEATS', summary_quantity: '7', billed_quantity: '7' },
      { metric: 'USERS', summary_quantity: '4', billed_quantity: '4' },
    ]);
    const closing = await agg.db('period_closings').first();
    expect(closing.fingerprint).toBe(summary!.data.fingerprint);
    expect(closing.summary_event_id).toBe(summary!.id);
  }, 90_000);

  it('rebuild from offset 0 reproduces the same rollups, unique values and summary', async () => {
    const before = await snapshot(agg);
    expect(before.rollups.length).toBeGreaterThan(0);
    await agg.restart({ rebuild: true });
    await agg.drained();
    await waitFor(
      'the summary to be taken again',
      async () => (await agg.db('period_closings').whereNotNull('summarized_at').first()) ?? undefined,
    );
    expect(await snapshot(agg)).toEqual(before);
    // the replayed summary and late records carry the first run's ids, already in the outbox:
    // nothing is published twice
    const after = await readTopic(agg.kafka, agg.topics.summaries, { count: 5, settleMs: 2_000 });
    expect(after).toHaveLength(5);
  }, 90_000);

  it('are not held up by closings that wait for a plan nobody defined', async () => {
    // more closings than one summarizing pass looks at, all older and all for an unknown plan
    await agg.db.raw(
      `insert into period_closings (subscription_id, period_start, period_end, organization_id, customer_id, plan_code,
                                    plan_version, high_water_marks, closed_at, closing_event_id)
       select gen_random_uuid(), ?, ?, ?, 'ghost_customer', 'ghost', 1, '[]'::jsonb, ?, gen_random_uuid()
         from generate_series(1, 150)`,
      [MARCH.start, MARCH.end, agg.organizationId, '2025-01-01T00:00:00.000Z'],
    );
    await agg.closePeriod({
      subscriptionId,
      customerId: 'user_123',
      planCode: 'pro',
      planVersion: 1,
      period: APRIL,
      closedAt: at(APRIL.end, 3_600_000),
      graceEndsAt: at(APRIL.end, 3_600_000),
      usageHighWaterMarks: await agg.marks(),
      nextPeriod: null,
    });
    const april = await waitFor('April to be summarized past the waiting closings', async () =>
      agg
        .db('period_closings')
        .where({ subscription_id: subscriptionId, period_start: new Date(APRIL.start) })
        .whereNotNull('summarized_at')
        .first(),
    );
    expect(april.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(
      await agg.db('period_closings').where({ plan_code: 'ghost' }).whereNotNull('summarized_at').first(),
    ).toBeUndefined();
  }, 60_000);
});
