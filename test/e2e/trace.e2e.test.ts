// "Where is my event?" end to end, on real Kafka and Postgres: the ingestion gateway, the
// subscription, aggregation and billing services side by side, talking only through topics. The
// reference scenario's 12,000 API calls (and 200 of them sent twice) go in through the ingestion
// API; the test clock passes March; one event is traced to the invoice line that billed it, a
// duplicate to its first arrival, an unknown metric's event to its reason, and March reconciles
// exactly (12,000 events, 10,000 included, 2,000 billed). A late March call is then traced to the
// late usage line of April's invoice.
import { TOPICS } from '@usageflow/contracts';
import { waitFor } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { startAggregation, type Aggregation } from '../../services/aggregation/test/harness';
import { startBilling, type Billing } from '../../services/billing/test/harness';
import { startIngestion, type Ingestion } from '../../services/ingestion/test/harness';
import { PRO_PLAN, startSubscription, type Subscription } from '../../services/subscription/test/harness';

const MARCH = { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' };
const APRIL = { start: '2025-04-01T00:00:00.000Z', end: '2025-05-01T00:00:00.000Z' };
const at = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

let g: Ingestion;
let s: Subscription;
let a: Aggregation;
let b: Billing;
beforeAll(async () => {
  g = await startIngestion();
  s = await startSubscription({ config: { usageTopic: g.usageTopic } });
  a = await startAggregation({
    topics: {
      usage: g.usageTopic,
      catalog: TOPICS.catalog,
      subscriptions: TOPICS.subscriptions,
      invoices: s.invoicesTopic,
    },
  });
  b = await startBilling({
    topics: {
      catalog: TOPICS.catalog,
      subscriptions: TOPICS.subscriptions,
      invoices: s.invoicesTopic,
      summaries: a.topics.summaries,
    },
  });
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
  await s?.stop();
  await g?.stop();
});

it('traces an event from the ingestion API to its invoice line, and March reconciles exactly', async () => {
  const org = randomUUID();
  const admin = await s.tokenFor(org, 'ADMIN');
  const viewer = await a.tokenFor(org, 'VIEWER');
  await s.api('POST', '/v1/metrics', { token: admin, body: { key: 'API_CALL', name: 'API calls', unit: 'calls' } });
  await s.api('POST', '/v1/plans', { token: admin, body: PRO_PLAN });
  const clock = await s.api('POST', '/v1/test-clocks', { token: admin, body: { frozenTime: MARCH.start } });
  const testClockId = clock.body.id as string;
  await s.api('POST', '/v1/customers', {
    token: admin,
    body: { customerId: 'user_123', name: 'User 123', testClockId },
  });
  const created = await s.api('POST', '/v1/subscriptions', {
    token: admin,
    body: { customerId: 'user_123', planCode: 'pro' },
  });
  expect(created.status).toBe(201);
  const subscriptionId = created.body.id as string;

  // the gateway: a test key (test-clock time may lie in the past), API_CALL known, unknown
  // metrics accepted so the MYSTERY call below is taken in and shown as unbilled
  const { key } = await g.apiKey(org, { mode: 'test' });
  await g.metric(org, 'API_CALL');
  await g.unknownMetrics(org, 'ACCEPT');
  const call = (i: number) => ({
    id: `req_${i}`,
    metric: 'API_CALL',
    amount: 1,
    customerId: 'user_123',
    timestamp: at(MARCH.start, i * 200_000),
  });
  const send = async (events: unknown[]) => {
    const res = await g.api('POST', '/v1/events/batch', { apiKey: key, body: { events } });
    expect([res.status, res.body.refused]).toEqual([202, 0]);
  };
  for (let i = 0; i < 12_000; i += 1000) await send(Array.from({ length: 1000 }, (_, j) => call(i + j)));
  // 200 retries of calls already accepted, and a metric nobody defined
  await send([
    ...Array.from({ length: 200 }, (_, i) => call(i * 50)),
    { id: 'mystery_1', metric: 'MYSTERY', amount: 1, customerId: 'user_123', timestamp: at(MARCH.start, 5) },
  ]);
  await a.drained(120_000);

  // March passes on the test clock (its grace hour too): closed, summarized, invoiced
  const advance = (frozenTime: string) =>
    s.api('POST', `/v1/test-clocks/${testClockId}/advance`, { token: admin, body: { frozenTime } });
  expect((await advance('2025-04-01T02:00:00.000Z')).status).toBe(200);
  // NOTE: aggregation and billing replay the real catalog and subscriptions topics from offset 0
  // (their groups are new), which on a long-lived local broker may take minutes.
  const trace = async (id: string, token = viewer) => a.api('GET', `/v1/events/${id}`, { token });
  const billed = await waitFor(
    'req_4242 to be billed',
    async () => {
      const res = await trace('req_4242');
      return res.body.outcome === 'BILLED' && res.body;
    },
    { timeoutMs: 200_000, intervalMs: 500 },
  );
  const invoice = (await b.db('invoices').where({ subscription_id: subscriptionId }).first())!;
  expect(billed).toMatchObject({
    eventId: 'req_4242',
    customerId: 'user_123',
    amount: '1',
    accepted: { topic: g.usageTopic },
    duplicates: { count: 0 },
    subscriptions: [
      {
        subscriptionId,
        period: MARCH,
        outcome: 'BILLED',
        summary: { included: true },
        invoice: { invoiceId: invoice.id, number: invoice.number, period: MARCH, currency: 'USD' },
        line: {
          position: 1,
          kind: 'usage',
          metricKey: 'API_CALL',
          quantity: '12000',
          includedUnits: '10000',
          billableUnits: '2000',
          amountCents: 2000,
          amount: 20,
        },
      },
    ],
  });
  // the line is billing's own: its source names the summary the trace names
  const detail = (await b.api('GET', `/v1/invoices/${invoice.id}`, { token: await b.tokenFor(org, 'VIEWER') })).body;
  expect([detail.amountCents, detail.lines[1].quantity, detail.lines[1].source.summaryEventId]).toEqual([
    12000,
    '12000',
    billed.subscriptions[0].summary.summaryId,
  ]);

  // a retried call is traced to its first arrival
  const retried = (await trace('req_100')).body;
  expect(retried.duplicates.count).toBe(1);
  expect(BigInt(retried.duplicates.arrivals[0].offset)).toBeGreaterThan(BigInt(retried.accepted.offset));
  // the unknown metric's event is accepted, stored, and unbilled with the reason
  expect((await trace('mystery_1')).body).toMatchObject({ outcome: 'UNBILLED', waiting: { code: 'METRIC_UNKNOWN' } });
  // another organization cannot see it
  expect((await trace('req_4242', await a.tokenFor(randomUUID(), 'OWNER'))).status).toBe(404);

  // March lines up: 12,200 received, 200 dropped, 12,000 stored and summarized; 10,000 included, 2,000 billed
  const reconcile = async () =>
    (await a.api('GET', `/v1/reconciliation?customerId=user_123&period=${at(MARCH.start, 1)}`, { token: viewer })).body
      .data;
  expect(await reconcile()).toMatchObject([
    {
      subscriptionId,
      metricKey: 'API_CALL',
      state: 'SUMMARIZED',
      events: { received: 12_200, duplicatesDropped: 200, stored: 12_000, summarized: 12_000, late: 0 },
      summary: { quantity: '12000', eventCount: 12_000 },
      invoice: { invoiceId: invoice.id, quantity: '12000', includedUnits: '10000', billableUnits: '2000' },
      lateRecords: { count: 0, unbilled: 0 },
      linesUp: true,
      differences: [],
      waiting: [],
    },
  ]);

  // a March call arrives after March was summarized: late, billed on April's invoice
  await send([
    { id: 'late_1', metric: 'API_CALL', amount: 1, customerId: 'user_123', timestamp: at(MARCH.end, -60_000) },
  ]);
  await a.drained();
  expect((await trace('late_1')).body).toMatchObject({
    outcome: 'PENDING',
    waiting: { code: 'AWAITING_NEXT_SUMMARY' },
    subscriptions: [{ period: MARCH, summary: { included: false }, late: { sequence: 1, quantity: '1' } }],
  });
  expect((await advance('2025-05-01T02:00:00.000Z')).status).toBe(200);
  const late = await waitFor(
    'late_1 to be billed',
    async () => {
      const res = await trace('late_1');
      return res.body.outcome === 'BILLED' && res.body;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  const april = (await b.db('invoices').where({ subscription_id: subscriptionId, period_start: APRIL.start }).first())!;
  expect(late.subscriptions[0]).toMatchObject({
    period: MARCH,
    invoice: { invoiceId: april.id, period: APRIL },
    line: { kind: 'late_usage', period: MARCH, quantity: '1', billableUnits: '1', amountCents: 1 },
  });
  expect(await reconcile()).toMatchObject([
    {
      events: { received: 12_201, stored: 12_001, summarized: 12_000, late: 1 },
      lateRecords: {
        count: 1,
        quantity: '1',
        billed: [{ invoiceId: april.id, records: 1, quantity: '1' }],
        unbilled: 0,
      },
      linesUp: true,
    },
  ]);
});
