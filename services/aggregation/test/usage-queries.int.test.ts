// Live usage queries over HTTP on real Postgres: each aggregation's current-period quantity with
// periods that start and end mid-hour (edges read from the events, exactly), LATEST's tie broken
// by event id bytewise, UNIQUE_COUNT distinct across hours, the metric filter, range buckets by
// hour and day across customers, range refusals, tenancy, and who may read.
import { seedIdentityProjection, serviceAuth } from '@usageflow/auth';
import { createDatabase, type Knex } from '@usageflow/db';
import { createHttpApp, startHttpServer, type RunningServer } from '@usageflow/http';
import { EventProducer } from '@usageflow/kafka';
import { httpCall, testInfra, testKafka, testLogger, type HttpCallOptions } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { usageRoutes } from '../src/adapters/http/routes';
import type { AggregationContext } from '../src/app/context';
import { aggregationDatabase } from './harness';

let db: Knex;
/** The service's own connections, in a session time zone half an hour off UTC. */
let serviceDb: Knex;
let schema: string;
let drop: () => Promise<void>;
let server: RunningServer;
let baseUrl: string;
let tokenFor: Awaited<ReturnType<typeof seedIdentityProjection>>['tokenFor'];
let apiKeyFor: Awaited<ReturnType<typeof seedIdentityProjection>>['apiKeyFor'];

const api = (path: string, o?: HttpCallOptions) => httpCall(baseUrl, 'GET', path, o);

beforeAll(async () => {
  const logger = testLogger('aggregation');
  ({ db, schema, drop } = await aggregationDatabase('aggregation'));
  // The projection is seeded below: no consumer, so the client and producer never connect.
  const kafka = testKafka(logger);
  const producer = new EventProducer(kafka, { logger });
  const { authenticator } = serviceAuth({
    service: 'aggregation',
    db,
    kafka,
    producer,
    logger,
    identityProjection: false,
  });
  // Hours and days are UTC whatever the database session's zone: the service runs in one whose
  // offset is not whole hours, so a date_trunc or day interval read in local time would show.
  const { databaseUrl } = testInfra();
  const zone = `options=${encodeURIComponent('-c TimeZone=Asia/Kolkata')}`;
  serviceDb = createDatabase({
    url: `${databaseUrl}${databaseUrl.includes('?') ? '&' : '?'}${zone}`,
    schema,
    poolMax: 3,
  });
  const ctx: AggregationContext = { db: serviceDb, logger, clock: () => new Date() };
  const app = createHttpApp({
    logger,
    readiness: {},
    routes: usageRoutes(ctx, authenticator, { usageTopic: 'usageflow.usage-events.v1' }),
  });
  server = await startHttpServer(app, 0, '127.0.0.1');
  baseUrl = `http://127.0.0.1:${server.port}`;
  ({ tokenFor, apiKeyFor } = await seedIdentityProjection(db));
  for (const month of ['2025_03', '2025_04']) {
    const [year, m] = month.split('_').map(Number) as [number, number];
    const next = m === 12 ? `${year + 1}-01-01` : `${year}-${String(m + 1).padStart(2, '0')}-01`;
    await db.raw(
      `create table if not exists ??.?? partition of ??.usage_events
         for values from ('${year}-${String(m).padStart(2, '0')}-01 00:00:00+00') to ('${next} 00:00:00+00')`,
      [schema, `usage_events_${month}`, schema],
    );
  }
});

afterAll(async () => {
  await server?.close(1000);
  await serviceDb?.destroy();
  await drop?.();
});

// ---------------------------------------------------------------------------------------------
// Seeding: rows as the usage consumer leaves them. Events go to their month's partition, and the
// rollups and unique values are each hour's fold of those events, so the two sources agree.

interface Usage {
  customer: string;
  metric: string;
  ts: string;
  amount?: string;
  id?: string;
  properties?: Record<string, string | number | boolean>;
}

let offset = 0;
async function record(org: string, events: readonly Usage[]): Promise<void> {
  await db('usage_events').insert(
    events.map((e) => ({
      organization_id: org,
      customer_id: e.customer,
      metric: e.metric,
      amount: e.amount ?? '1',
      ts: e.ts,
      event_id: e.id ?? randomUUID(),
      key: randomUUID(),
      properties: JSON.stringify(e.properties ?? {}),
      received_at: e.ts,
      kafka_partition: 0,
      kafka_offset: offset++,
    })),
  );
  await db.raw('delete from usage_rollups where organization_id = ?', [org]);
  await db.raw('delete from usage_unique_values where organization_id = ?', [org]);
  await db.raw(
    `insert into usage_rollups (organization_id, customer_id, metric, hour, event_count, amount_sum, amount_max,
                                latest_ts, latest_event_id, latest_amount)
     select organization_id, customer_id, metric, date_trunc('hour', ts, 'UTC'), count(*), sum(amount), max(amount),
            (array_agg(ts order by ts desc, event_id desc))[1],
            (array_agg(event_id order by ts desc, event_id desc))[1],
            (array_agg(amount order by ts desc, event_id desc))[1]
       from usage_events where organization_id = ?
      group by organization_id, customer_id, metric, date_trunc('hour', ts, 'UTC')`,
    [org],
  );
  await db.raw(
    `insert into usage_unique_values (organization_id, customer_id, metric, hour, value)
     select distinct e.organization_id, e.customer_id, e.metric, date_trunc('hour', e.ts, 'UTC'),
            (e.properties -> m.unique_property)::text
       from usage_events e
       join metrics m on m.organization_id = e.organization_id and m.key = e.metric and m.unique_property is not null
      where e.organization_id = ? and (e.properties -> m.unique_property) is not null`,
    [org],
  );
}

async function defineMetrics(org: string, metrics: Record<string, string>): Promise<void> {
  await db('metrics').insert(
    Object.entries(metrics).map(([key, aggregation]) => {
      const [agg, property] = aggregation.split(':');
      return { organization_id: org, key, aggregation: agg, unique_property: property ?? null, updated_at: new Date() };
    }),
  );
}

async function subscribe(
  org: string,
  customer: string,
  o: { status?: string; start: string | null; end: string | null; plan?: string },
): Promise<string> {
  const id = randomUUID();
  await db('subscriptions').insert({
    id,
    organization_id: org,
    customer_id: customer,
    plan_code: o.plan ?? 'pro',
    plan_version: 1,
    status: o.status ?? 'ACTIVE',
    current_period_start: o.start,
    current_period_end: o.end,
    updated_at: new Date(),
  });
  return id;
}

const METRICS = {
  API_CALL: 'SUM',
  REQUESTS: 'COUNT',
  PEAK_GB: 'MAX',
  SEATS: 'LATEST',
  ACTIVE_USER: 'UNIQUE_COUNT:user',
  UNUSED: 'SUM',
};

// The period of user_123's main subscription: [10 Mar 10:30, 12 Mar 14:15). Its whole hours are
// [10 Mar 11:00, 12 Mar 14:00); the edges [10:30, 11:00) and [14:00, 14:15) come from the events.
const PERIOD = { start: '2025-03-10T10:30:00.000Z', end: '2025-03-12T14:15:00.000Z' };

/** user_123's usage; `in` marks the events inside PERIOD. */
const USER_123: (Usage & { in?: true })[] = [
  // SUM: 1.5 + 2.25 + 10 + 0.1 + 0.2 + 3 + 4 = 21.05 (in JS numbers 21.049999999999997)
  { metric: 'API_CALL', ts: '2025-03-10T10:10:00Z', amount: '100' }, // the start's hour, before the start
  { metric: 'API_CALL', ts: '2025-03-10T10:30:00Z', amount: '1.5', in: true }, // exactly the start
  { metric: 'API_CALL', ts: '2025-03-10T10:59:59.999Z', amount: '2.25', in: true },
  { metric: 'API_CALL', ts: '2025-03-10T11:00:00Z', amount: '10', in: true },
  { metric: 'API_CALL', ts: '2025-03-11T05:20:00Z', amount: '0.1', in: true },
  { metric: 'API_CALL', ts: '2025-03-12T13:59:59.999Z', amount: '0.2', in: true },
  { metric: 'API_CALL', ts: '2025-03-12T14:00:00Z', amount: '3', in: true },
  { metric: 'API_CALL', ts: '2025-03-12T14:14:59.999Z', amount: '4', in: true },
  { metric: 'API_CALL', ts: '2025-03-12T14:15:00Z', amount: '1000' }, // exactly the end
  { metric: 'API_CALL', ts: '2025-03-12T14:40:00Z', amount: '1000' },
  // COUNT: 4
  { metric: 'REQUESTS', ts: '2025-03-10T10:20:00Z' },
  { metric: 'REQUESTS', ts: '2025-03-10T10:45:00Z', in: true },
  { metric: 'REQUESTS', ts: '2025-03-11T00:00:00Z', in: true },
  { metric: 'REQUESTS', ts: '2025-03-11T00:30:00Z', in: true },
  { metric: 'REQUESTS', ts: '2025-03-12T14:10:00Z', in: true },
  { metric: 'REQUESTS', ts: '2025-03-12T14:20:00Z' },
  // MAX: 8.125 (the greater amounts are outside the period, in its edge hours)
  { metric: 'PEAK_GB', ts: '2025-03-10T10:05:00Z', amount: '99' },
  { metric: 'PEAK_GB', ts: '2025-03-10T10:40:00Z', amount: '7.5', in: true },
  { metric: 'PEAK_GB', ts: '2025-03-11T12:00:00Z', amount: '7.25', in: true },
  { metric: 'PEAK_GB', ts: '2025-03-12T14:05:00Z', amount: '8.125', in: true },
  { metric: 'PEAK_GB', ts: '2025-03-12T14:30:00Z', amount: '50' },
  // LATEST: a tie at 14:10; "seat-a" > "seat-B" bytewise (a linguistic collation says otherwise)
  { metric: 'SEATS', ts: '2025-03-11T09:00:00Z', amount: '3', id: 'seat-0', in: true },
  { metric: 'SEATS', ts: '2025-03-12T14:10:00Z', amount: '5', id: 'seat-a', in: true },
  { metric: 'SEATS', ts: '2025-03-12T14:10:00Z', amount: '6', id: 'seat-B', in: true },
  { metric: 'SEATS', ts: '2025-03-12T14:20:00Z', amount: '99', id: 'seat-c' },
  // UNIQUE_COUNT: "ann", "bob", "cy", 1 and "1" = 5 (ann in an edge and in a whole hour, bob twice)
  { metric: 'ACTIVE_USER', ts: '2025-03-10T10:15:00Z', properties: { user: 'zed' } },
  { metric: 'ACTIVE_USER', ts: '2025-03-10T10:50:00Z', properties: { user: 'ann' }, in: true },
  { metric: 'ACTIVE_USER', ts: '2025-03-11T01:10:00Z', properties: { user: 'ann' }, in: true },
  { metric: 'ACTIVE_USER', ts: '2025-03-11T02:10:00Z', properties: { user: 'bob' }, in: true },
  { metric: 'ACTIVE_USER', ts: '2025-03-11T02:20:00Z', properties: { user: 'bob' }, in: true },
  { metric: 'ACTIVE_USER', ts: '2025-03-11T03:00:00Z', properties: { user: 1 }, in: true },
  { metric: 'ACTIVE_USER', ts: '2025-03-11T04:00:00Z', properties: { user: '1' }, in: true },
  { metric: 'ACTIVE_USER', ts: '2025-03-11T05:00:00Z', properties: { other: 'x' }, in: true },
  { metric: 'ACTIVE_USER', ts: '2025-03-12T14:01:00Z', properties: { user: 'cy' }, in: true },
  { metric: 'ACTIVE_USER', ts: '2025-03-12T14:20:00Z', properties: { user: 'dee' } },
  // a metric key nobody defined: rolled up, never listed
  { metric: 'GHOST', ts: '2025-03-11T00:00:00Z', in: true },
].map((e) => ({ ...e, customer: 'user_123' }));

const USER_456: Usage[] = [
  { metric: 'API_CALL', ts: '2025-03-10T12:30:00Z', amount: '5' },
  { metric: 'ACTIVE_USER', ts: '2025-03-11T07:00:00Z', properties: { user: 'ann' } },
  { metric: 'ACTIVE_USER', ts: '2025-03-11T08:00:00Z', properties: { user: 'eve' } },
  { metric: 'SEATS', ts: '2025-03-12T14:20:00Z', amount: '42', id: 'seat-z' },
  { metric: 'PEAK_GB', ts: '2025-03-11T23:59:59Z', amount: '12' },
].map((e) => ({ ...e, customer: 'user_456' }));

/** Organization A: user_123 (three subscriptions, one cancelled, one without a period) and user_456. */
async function organizationA() {
  const org = randomUUID();
  await defineMetrics(org, METRICS);
  await record(org, [...USER_123, ...USER_456]);
  const main = await subscribe(org, 'user_123', PERIOD);
  const addOn = await subscribe(org, 'user_123', {
    plan: 'storage',
    status: 'SUSPENDED',
    start: '2025-03-01T00:00:00Z',
    end: '2025-04-01T00:00:00Z',
  });
  await subscribe(org, 'user_123', { status: 'CANCELLED', start: '2025-03-01T00:00:00Z', end: '2025-04-01T00:00:00Z' });
  await subscribe(org, 'user_123', { start: null, end: null });
  return { org, main, addOn, token: await tokenFor(org, 'VIEWER') };
}

let a: Awaited<ReturnType<typeof organizationA>>;
beforeAll(async () => {
  a = await organizationA();
});

const expectProblem = (res: Awaited<ReturnType<typeof api>>, status: number, code: string, fields?: string[]): void => {
  expect([res.status, res.headers.get('content-type')?.split(';')[0], res.body?.code]).toEqual([
    status,
    'application/problem+json',
    code,
  ]);
  if (fields) expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(fields);
};

describe('GET /v1/customers/{customerId}/usage', () => {
  it("answers each aggregation's quantity in every current period, edges of mid-hour periods counted exactly", async () => {
    const res = await api('/v1/customers/user_123/usage', { token: a.token });
    expect(res.status).toBe(200);
    expect(res.body.customerId).toBe('user_123');
    // the add-on's calendar month starts first; the cancelled and the period-less ones are absent
    expect(res.body.periods.map((p: { subscriptionId: string }) => p.subscriptionId)).toEqual([a.addOn, a.main]);
    const [addOn, main] = res.body.periods;
    expect(main).toEqual({
      subscriptionId: a.main,
      planCode: 'pro',
      planVersion: 1,
      period: PERIOD,
      metrics: [
        { metricKey: 'ACTIVE_USER', aggregation: 'UNIQUE_COUNT', quantity: '5', eventCount: 8 },
        { metricKey: 'API_CALL', aggregation: 'SUM', quantity: '21.05', eventCount: 7 },
        { metricKey: 'PEAK_GB', aggregation: 'MAX', quantity: '8.125', eventCount: 3 },
        { metricKey: 'REQUESTS', aggregation: 'COUNT', quantity: '4', eventCount: 4 },
        { metricKey: 'SEATS', aggregation: 'LATEST', quantity: '5', eventCount: 3 },
      ],
    });
    // the counts agree with the events seeded inside the period, metric by metric
    const inside = (metric: string) => USER_123.filter((e) => e.in && e.metric === metric).length;
    for (const m of main.metrics) expect([m.metricKey, m.eventCount]).toEqual([m.metricKey, inside(m.metricKey)]);

    // an aligned calendar month: every hour from the rollups, every event of user_123 in March
    expect(addOn.period).toEqual({ start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' });
    expect(addOn.metrics).toEqual([
      { metricKey: 'ACTIVE_USER', aggregation: 'UNIQUE_COUNT', quantity: '7', eventCount: 10 },
      { metricKey: 'API_CALL', aggregation: 'SUM', quantity: '2121.05', eventCount: 10 },
      { metricKey: 'PEAK_GB', aggregation: 'MAX', quantity: '99', eventCount: 5 },
      { metricKey: 'REQUESTS', aggregation: 'COUNT', quantity: '6', eventCount: 6 },
      { metricKey: 'SEATS', aggregation: 'LATEST', quantity: '99', eventCount: 4 },
    ]);
  });

  it('a period inside one hour is read once, from the events', async () => {
    const org = randomUUID();
    await defineMetrics(org, { API_CALL: 'SUM', SEATS: 'LATEST' });
    await record(org, [
      { customer: 'tiny', metric: 'API_CALL', ts: '2025-03-20T10:09:59.999Z', amount: '100' },
      { customer: 'tiny', metric: 'API_CALL', ts: '2025-03-20T10:10:00Z', amount: '0.50' },
      { customer: 'tiny', metric: 'API_CALL', ts: '2025-03-20T10:39:59.999Z', amount: '0.50' },
      { customer: 'tiny', metric: 'API_CALL', ts: '2025-03-20T10:40:00Z', amount: '100' },
      // LATEST within the one edge: a tie at 10:20, and "b" > "a"
      { customer: 'tiny', metric: 'SEATS', ts: '2025-03-20T10:20:00Z', amount: '7', id: 'b' },
      { customer: 'tiny', metric: 'SEATS', ts: '2025-03-20T10:20:00Z', amount: '8', id: 'a' },
    ]);
    const id = await subscribe(org, 'tiny', { start: '2025-03-20T10:10:00Z', end: '2025-03-20T10:40:00Z' });
    const res = await api('/v1/customers/tiny/usage', { token: await tokenFor(org, 'OWNER') });
    expect(res.body.periods).toEqual([
      {
        subscriptionId: id,
        planCode: 'pro',
        planVersion: 1,
        period: { start: '2025-03-20T10:10:00.000Z', end: '2025-03-20T10:40:00.000Z' },
        metrics: [
          // numeric adds 0.50 + 0.50 to 1.00; quantities are canonical, as in the summaries
          { metricKey: 'API_CALL', aggregation: 'SUM', quantity: '1', eventCount: 2 },
          { metricKey: 'SEATS', aggregation: 'LATEST', quantity: '7', eventCount: 2 },
        ],
      },
    ]);
  });

  it('LATEST is the greatest (timestamp, event id) of the period: ties by id bytewise, edges included', async () => {
    const org = randomUUID();
    await defineMetrics(org, { SEATS: 'LATEST' });
    // period [09:30, 12:30): 10:00 and 11:00 are whole hours (rollups), the rest edges (events)
    await record(org, [
      { customer: 'c', metric: 'SEATS', ts: '2025-03-05T09:10:00Z', amount: '100', id: 'zzz' }, // before the start
      { customer: 'c', metric: 'SEATS', ts: '2025-03-05T09:45:00Z', amount: '50', id: 'zz' },
      // a tie in a whole hour: "y" > "Z" bytewise (a linguistic collation orders them the other way)
      { customer: 'c', metric: 'SEATS', ts: '2025-03-05T11:59:00Z', amount: '1', id: 'Z' },
      { customer: 'c', metric: 'SEATS', ts: '2025-03-05T11:59:00Z', amount: '2', id: 'y' },
    ]);
    await subscribe(org, 'c', { start: '2025-03-05T09:30:00Z', end: '2025-03-05T12:30:00Z' });
    const token = await tokenFor(org, 'OWNER');
    const seats = async () => (await api('/v1/customers/c/usage', { token })).body.periods[0].metrics;
    expect(await seats()).toEqual([{ metricKey: 'SEATS', aggregation: 'LATEST', quantity: '2', eventCount: 3 }]);
    // a later event in the end edge wins whatever its id; one at the end itself is outside
    await record(org, [
      { customer: 'c', metric: 'SEATS', ts: '2025-03-05T12:29:59Z', amount: '4', id: '0' },
      { customer: 'c', metric: 'SEATS', ts: '2025-03-05T12:30:00Z', amount: '100', id: 'zzzz' },
    ]);
    expect(await seats()).toEqual([{ metricKey: 'SEATS', aggregation: 'LATEST', quantity: '4', eventCount: 4 }]);
  });

  it('?metric= keeps one metric (at zero too); a key not defined is 404 METRIC_NOT_FOUND', async () => {
    const only = await api('/v1/customers/user_123/usage?metric=PEAK_GB', { token: a.token });
    expect(only.body.periods.map((p: { metrics: unknown[] }) => p.metrics)).toEqual([
      [{ metricKey: 'PEAK_GB', aggregation: 'MAX', quantity: '99', eventCount: 5 }],
      [{ metricKey: 'PEAK_GB', aggregation: 'MAX', quantity: '8.125', eventCount: 3 }],
    ]);
    const unused = await api('/v1/customers/user_123/usage?metric=UNUSED', { token: a.token });
    expect(unused.body.periods[1].metrics).toEqual([
      { metricKey: 'UNUSED', aggregation: 'SUM', quantity: '0', eventCount: 0 },
    ]);
    expectProblem(await api('/v1/customers/user_123/usage?metric=GHOST', { token: a.token }), 404, 'METRIC_NOT_FOUND');
    expectProblem(
      await api('/v1/customers/user_123/usage?metric=api-call', { token: a.token }),
      400,
      'VALIDATION_FAILED',
      ['query.metric'],
    );
  });

  it('a customer without a current period, or unknown, has no periods', async () => {
    for (const customer of ['user_456', 'nobody', 'x%2Fy']) {
      const res = await api(`/v1/customers/${customer}/usage`, { token: a.token });
      expect([res.status, res.body]).toEqual([200, { customerId: decodeURIComponent(customer), periods: [] }]);
    }
  });
});

describe('GET /v1/usage', () => {
  const range = (q: Record<string, string>) => `/v1/usage?${new URLSearchParams(q).toString()}`;
  const buckets = (res: Awaited<ReturnType<typeof api>>) =>
    res.body.buckets.map((b: { start: string; quantity: string; eventCount: number }) => [
      b.start.slice(0, 13),
      b.quantity,
      b.eventCount,
    ]);

  it('hourly buckets of one customer or of all, every bucket present', async () => {
    const q = { metric: 'API_CALL', from: '2025-03-10T10:00:00Z', to: '2025-03-10T14:00:00Z', granularity: 'HOUR' };
    const one = await api(range({ ...q, customerId: 'user_123' }), { token: a.token });
    expect(one.status).toBe(200);
    expect({ ...one.body, buckets: undefined }).toEqual({
      metric: 'API_CALL',
      aggregation: 'SUM',
      granularity: 'HOUR',
      from: '2025-03-10T10:00:00.000Z',
      to: '2025-03-10T14:00:00.000Z',
      customerId: 'user_123',
      buckets: undefined,
    });
    expect(one.body.buckets[0]).toEqual({
      start: '2025-03-10T10:00:00.000Z',
      end: '2025-03-10T11:00:00.000Z',
      quantity: '103.75',
      eventCount: 3,
    });
    expect(buckets(one)).toEqual([
      ['2025-03-10T10', '103.75', 3],
      ['2025-03-10T11', '10', 1],
      ['2025-03-10T12', '0', 0],
      ['2025-03-10T13', '0', 0],
    ]);
    const all = await api(range(q), { token: a.token });
    expect(all.body.customerId).toBeUndefined();
    expect(buckets(all)).toEqual([
      ['2025-03-10T10', '103.75', 3],
      ['2025-03-10T11', '10', 1],
      ['2025-03-10T12', '5', 1],
      ['2025-03-10T13', '0', 0],
    ]);
  });

  it('daily buckets are UTC days; across customers SUM adds, MAX, LATEST and UNIQUE_COUNT combine', async () => {
    const days = { from: '2025-03-10T00:00:00Z', to: '2025-03-14T00:00:00Z', granularity: 'DAY' };
    const get = async (metric: string, customerId?: string) =>
      buckets(await api(range({ metric, ...days, ...(customerId ? { customerId } : {}) }), { token: a.token }));
    expect(await get('API_CALL', 'user_123')).toEqual([
      ['2025-03-10T00', '113.75', 4],
      ['2025-03-11T00', '0.1', 1],
      ['2025-03-12T00', '2007.2', 5],
      ['2025-03-13T00', '0', 0],
    ]);
    expect((await get('API_CALL'))[0]).toEqual(['2025-03-10T00', '118.75', 5]);
    // user_123 on the 11th: ann, bob, 1, "1"; user_456 adds eve (ann again does not count)
    expect((await get('ACTIVE_USER', 'user_123'))[1]).toEqual(['2025-03-11T00', '4', 6]);
    expect((await get('ACTIVE_USER', 'user_456'))[1]).toEqual(['2025-03-11T00', '2', 2]);
    expect((await get('ACTIVE_USER'))[1]).toEqual(['2025-03-11T00', '5', 8]);
    expect((await get('PEAK_GB'))[1]).toEqual(['2025-03-11T00', '12', 2]);
    // on the 12th both customers' last events are at 14:20; "seat-z" > "seat-c"
    expect((await get('SEATS', 'user_123'))[2]).toEqual(['2025-03-12T00', '99', 3]);
    expect((await get('SEATS'))[2]).toEqual(['2025-03-12T00', '42', 4]);
    expect((await get('REQUESTS'))[3]).toEqual(['2025-03-13T00', '0', 0]);
  });

  it('takes up to 744 hours or 366 days', async () => {
    const hours = await api(
      range({ metric: 'API_CALL', from: '2025-03-01T00:00:00Z', to: '2025-04-01T00:00:00Z', granularity: 'HOUR' }),
      { token: a.token },
    );
    expect([hours.status, hours.body.buckets.length]).toEqual([200, 744]);
    const total = hours.body.buckets.reduce((n: number, b: { eventCount: number }) => n + b.eventCount, 0);
    expect(total).toBe(11); // user_123's ten API calls and user_456's one
    const days = await api(
      range({ metric: 'API_CALL', from: '2024-03-01T00:00:00Z', to: '2025-03-02T00:00:00Z', granularity: 'DAY' }),
      { token: a.token },
    );
    expect([days.status, days.body.buckets.length, days.body.buckets.at(-1).start]).toEqual([
      200,
      366,
      '2025-03-01T00:00:00.000Z',
    ]);
  });

  it('refuses misaligned, empty, inverted and too long ranges with a stable code', async () => {
    const q = { metric: 'API_CALL', from: '2025-03-10T00:00:00Z', to: '2025-03-11T00:00:00Z', granularity: 'HOUR' };
    const refused = async (over: Record<string, string>, status: number, code: string, fields?: string[]) =>
      expectProblem(await api(range({ ...q, ...over }), { token: a.token }), status, code, fields);
    await refused({ from: '2025-03-10T00:30:00Z' }, 400, 'USAGE_RANGE_NOT_ALIGNED', ['query.from']);
    await refused({ from: '2025-03-10T00:00:00.0000001Z' }, 400, 'USAGE_RANGE_NOT_ALIGNED', ['query.from']);
    await refused(
      { granularity: 'DAY', from: '2025-03-10T01:00:00Z', to: '2025-03-12T23:00:00Z' },
      400,
      'USAGE_RANGE_NOT_ALIGNED',
      ['query.from', 'query.to'],
    );
    await refused({ to: '2025-03-10T00:00:00Z' }, 400, 'USAGE_RANGE_EMPTY', ['query.to']);
    await refused({ to: '2025-03-09T00:00:00Z' }, 400, 'USAGE_RANGE_EMPTY', ['query.to']);
    await refused({ from: '2025-03-01T00:00:00Z', to: '2025-04-01T01:00:00Z' }, 400, 'USAGE_RANGE_TOO_LONG', [
      'query.to',
    ]);
    await refused(
      { granularity: 'DAY', from: '2024-03-01T00:00:00Z', to: '2025-03-03T00:00:00Z' },
      400,
      'USAGE_RANGE_TOO_LONG',
      ['query.to'],
    );
    await refused({ granularity: 'WEEK' }, 400, 'VALIDATION_FAILED', ['query.granularity']);
    await refused({ from: '2025-03-10T00:00:00+01:00' }, 400, 'VALIDATION_FAILED', ['query.from']);
    expectProblem(
      await api('/v1/usage?metric=API_CALL&from=2025-03-10T00:00:00Z', { token: a.token }),
      400,
      'VALIDATION_FAILED',
      ['query.to', 'query.granularity'],
    );
    await refused({ metric: 'GHOST' }, 404, 'METRIC_NOT_FOUND');
  });
});

describe('who reads usage', () => {
  it("another organization sees nothing of this one's, even for the same customer id and metric", async () => {
    const b = randomUUID();
    await defineMetrics(b, { API_CALL: 'SUM' });
    const token = await tokenFor(b, 'OWNER');
    expect((await api('/v1/customers/user_123/usage', { token })).body).toEqual({
      customerId: 'user_123',
      periods: [],
    });
    const q = { metric: 'API_CALL', from: '2025-03-10T00:00:00Z', to: '2025-03-13T00:00:00Z', granularity: 'DAY' };
    const none = await api(`/v1/usage?${new URLSearchParams(q).toString()}`, { token });
    expect(none.body.buckets.map((x: { eventCount: number }) => x.eventCount)).toEqual([0, 0, 0]);

    // B's own customer user_123, over the same hours as A's: only B's event
    await record(b, [{ customer: 'user_123', metric: 'API_CALL', ts: '2025-03-11T06:00:00Z', amount: '7' }]);
    await subscribe(b, 'user_123', PERIOD);
    const mine = await api('/v1/customers/user_123/usage', { token });
    expect(mine.body.periods.map((p: { metrics: unknown }) => p.metrics)).toEqual([
      [{ metricKey: 'API_CALL', aggregation: 'SUM', quantity: '7', eventCount: 1 }],
    ]);
    const own = await api(`/v1/usage?${new URLSearchParams({ ...q, customerId: 'user_123' }).toString()}`, { token });
    expect(own.body.buckets.map((x: { quantity: string }) => x.quantity)).toEqual(['0', '7', '0']);
    // and A's numbers did not move
    const aApi = await api('/v1/customers/user_123/usage?metric=API_CALL', { token: a.token });
    expect(aApi.body.periods[1].metrics[0].quantity).toBe('21.05');
  });

  it('every role and API keys with usage:read; an events:write key is 403, no credential 401', async () => {
    const path = '/v1/customers/user_123/usage?metric=API_CALL';
    for (const role of ['OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER'] as const) {
      const res = await api(path, { token: await tokenFor(a.org, role) });
      expect([role, res.status, res.body.periods[1].metrics[0].quantity]).toEqual([role, 200, '21.05']);
    }
    const reader = await api(path, { apiKey: await apiKeyFor(a.org, ['usage:read']) });
    expect([reader.status, reader.body.periods.length]).toEqual([200, 2]);
    const rangePath = '/v1/usage?metric=API_CALL&from=2025-03-10T00:00:00Z&to=2025-03-11T00:00:00Z&granularity=DAY';
    const writer = await apiKeyFor(a.org, ['events:write']);
    expectProblem(await api(path, { apiKey: writer }), 403, 'FORBIDDEN');
    expectProblem(await api(rangePath, { apiKey: writer }), 403, 'FORBIDDEN');
    expectProblem(await api(path), 401, 'UNAUTHENTICATED');
    expectProblem(await api(rangePath), 401, 'UNAUTHENTICATED');
  });

  it('the service answered every test above from a session in a +05:30 time zone', async () => {
    expect((await serviceDb.raw("select current_setting('TimeZone') as zone")).rows[0].zone).toBe('Asia/Kolkata');
  });

  it('serves its OpenAPI document', async () => {
    const doc = await api('/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths).sort()).toEqual([
      '/v1/customers/{customerId}/usage',
      '/v1/events/{id}',
      '/v1/reconciliation',
      '/v1/reconciliation/unbilled',
      '/v1/usage',
    ]);
    expect(doc.body.paths['/v1/usage'].get['x-usageflow-permission']).toBe('usage:read');
  });
});
