// Exactly-once counting on real Kafka and Postgres: the same 10,000 events produced twice, one
// batch's transaction failing midway, and every offset commit forgotten (a crash after the
// database commit, before Kafka's): every event is stored and rolled up once.
import { readTopic, waitFor } from '@usageflow/testkit';
import { startAggregation, type Aggregation } from './harness';

const N = 10_000;
const MARCH = Date.parse('2025-03-01T00:00:00.000Z');

function events() {
  return Array.from({ length: N }, (_, i) => {
    const unique = i % 5 === 0;
    return {
      eventId: `evt_${i}`,
      customerId: `c${i % 3}`,
      metric: unique ? 'ACTIVE_USERS' : 'API_CALL',
      amount: i % 2 === 0 ? '1' : '0.5',
      timestamp: new Date(MARCH + (i % 48) * 3_600_000 + i).toISOString(),
      properties: unique ? { userId: `u${i % 7}` } : {},
    };
  });
}

async function totals(agg: Aggregation) {
  const { rows } = await agg.db.raw<{ rows: Array<Record<string, string>> }>(
    `select (select count(*) from usage_events) as events,
            (select count(*) from usage_event_keys) as keys,
            (select sum(event_count) from usage_rollups) as rolled,
            (select sum(amount_sum) from usage_rollups where metric = 'API_CALL') as api_sum,
            (select count(*) from usage_unique_values) as unique_rows`,
  );
  return rows[0]!;
}

describe('exactly-once usage counting', () => {
  let agg: Aggregation;
  beforeAll(async () => {
    agg = await startAggregation();
  });
  afterAll(async () => {
    await agg?.stop();
  });

  it('counts 10,000 events produced twice once, through a failed batch and rewound offsets', async () => {
    // The second batch to fold rollups fails after its keys were claimed and its events copied:
    // the transaction rolls back whole and the runner applies the batch again.
    await agg.db.raw(`
      create sequence rollup_fault;
      create function rollup_fault() returns trigger language plpgsql as $$
      begin
        if nextval('rollup_fault') = 2 then raise exception 'injected failure mid-batch'; end if;
        return null;
      end $$;
      create trigger rollup_fault before insert on usage_rollups for each statement execute function rollup_fault();
    `);
    await agg.defineMetric({ key: 'API_CALL', name: 'API calls', unit: 'calls', aggregation: 'SUM' });
    const all = events();
    await agg.sendUsage(all);
    await agg.sendUsage(all);
    await agg.drained();

    const apiSum = all.filter((e) => e.metric === 'API_CALL').reduce((s, e) => s + Number(e.amount) * 2, 0) / 2;
    const expected = {
      events: String(N),
      keys: String(N),
      rolled: String(N),
      api_sum: apiSum.toFixed(1),
      unique_rows: '0',
    };
    expect(await totals(agg)).toEqual(expected);
    const { rows: fault } = await agg.db.raw<{ rows: Array<{ last_value: string }> }>(
      'select last_value from rollup_fault',
    );
    expect(Number(fault[0]!.last_value)).toBeGreaterThan(2); // the failure did happen, and was survived

    // Every offset commit lost: the whole topic (20,000 records) is read again and changes nothing.
    await agg.rereadAll();
    expect(await totals(agg)).toEqual(expected);
  }, 120_000);

  it('folds in the events of a metric defined after they arrived (UNIQUE_COUNT values backfilled)', async () => {
    await agg.defineMetric({
      key: 'ACTIVE_USERS',
      name: 'Active users',
      unit: 'users',
      aggregation: 'UNIQUE_COUNT',
      uniqueProperty: 'userId',
    });
    const rows = await waitFor('the backfilled unique values', async () => {
      const { rows } = await agg.db.raw<{ rows: Array<{ customer_id: string; n: string }> }>(
        `select customer_id, count(distinct value) as n from usage_unique_values
          where metric = 'ACTIVE_USERS' group by customer_id order by customer_id`,
      );
      return rows.length === 3 ? rows : undefined;
    });
    // each customer's ACTIVE_USERS events carry all seven user ids u0..u6
    expect(rows).toEqual([
      { customer_id: 'c0', n: '7' },
      { customer_id: 'c1', n: '7' },
      { customer_id: 'c2', n: '7' },
    ]);
    // new events of the now-known metric record their values as they are stored
    await agg.sendUsage([
      {
        eventId: 'late_user',
        customerId: 'c0',
        metric: 'ACTIVE_USERS',
        timestamp: new Date(MARCH).toISOString(),
        properties: { userId: 'u99' },
      },
    ]);
    await agg.drained();
    const { rows: after } = await agg.db.raw<{ rows: Array<{ n: string }> }>(
      `select count(distinct value) as n from usage_unique_values where metric = 'ACTIVE_USERS' and customer_id = 'c0'`,
    );
    expect(after[0]!.n).toBe('8');
  }, 60_000);

  it('parks a record that is not a valid usage event on the dead-letter topic and moves past it', async () => {
    const before = await totals(agg);
    await agg.producerSend([
      { key: 'garbage', value: 'not json at all' },
      { key: 'wrong', value: JSON.stringify({ id: 'x', type: 'usage.recorded', data: { amount: '-1' } }) },
    ]);
    await agg.sendUsage([{ eventId: 'after_garbage', customerId: 'c0', timestamp: new Date(MARCH).toISOString() }]);
    await agg.drained();
    const dead = await readTopic(agg.kafka, `${agg.topics.usage}.dlq`, { count: 2, settleMs: 500 });
    expect(dead.map((r) => r.value)).toEqual(['not json at all', expect.stringContaining('"amount":"-1"')]);
    expect(dead[0]!.headers['dlq-error']).toMatch(/not JSON/);
    // the valid event behind them was stored, and nothing else
    expect(Number((await totals(agg)).events)).toBe(Number(before.events) + 1);
  }, 60_000);
});
