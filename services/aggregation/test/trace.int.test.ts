// The event trace and the reconciliation on real Kafka and Postgres, aggregation's side: events
// through the usage topic, closings from the subscriptions topic and invoices from the invoices
// topic, as the owning services publish them. An event traced to its invoice line, a duplicate to
// its first arrival, a late event to the late usage line of the next invoice (and each step it
// waited at before), unbilled usage with its reason, a period that lines up, differences that are
// found when the data is made wrong, and tenancy.
import { waitFor } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { startAggregation, type Aggregation } from './harness';

const MARCH = { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' };
const APRIL = { start: '2025-04-01T00:00:00.000Z', end: '2025-05-01T00:00:00.000Z' };
const MAY = { start: '2025-05-01T00:00:00.000Z', end: '2025-06-01T00:00:00.000Z' };
const at = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

const base = { kind: 'base', description: 'Pro (monthly)', preciseAmount: '100', amountCents: 10000, amount: 100 };
const usageLine = (quantity: string, kind: 'usage' | 'late_usage' = 'usage') => ({
  kind,
  description: kind === 'usage' ? 'API calls' : 'API calls (late usage)',
  metricKey: 'API_CALL',
  quantity,
  includedUnits: '10',
  billableUnits: String(Math.max(0, Number(quantity) - 10)),
  unitPrice: '0.01',
  preciseAmount: '0',
  amountCents: 0,
  amount: 0,
});

const seatsLine = { ...usageLine('0'), metricKey: 'SEATS', description: 'Seats' };

describe('event trace and reconciliation', () => {
  let agg: Aggregation;
  let token: string;
  const subscriptionId = randomUUID();
  const sub = { subscriptionId, customerId: 'user_123', planCode: 'pro', planVersion: 1 };
  const trace = async (id: string, t = token) => agg.api('GET', `/v1/events/${encodeURIComponent(id)}`, { token: t });
  const marchInvoice = randomUUID();
  const aprilInvoice = randomUUID();

  beforeAll(async () => {
    agg = await startAggregation();
    token = await agg.tokenFor(agg.organizationId, 'VIEWER');
    await agg.defineMetric({ key: 'API_CALL', name: 'API calls', unit: 'calls', aggregation: 'SUM' });
    await agg.defineMetric({ key: 'STORAGE', name: 'Storage', unit: 'GB', aggregation: 'MAX' });
    await agg.defineMetric({ key: 'SEATS', name: 'Seats', unit: 'seats', aggregation: 'SUM' });
    await agg.definePlan({
      code: 'pro',
      version: 1,
      name: 'Pro',
      currency: 'USD',
      interval: 'MONTHLY',
      basePrice: '100.00',
      // two metrics: a period reconciles as one row per plan metric
      planMetrics: ['API_CALL', 'SEATS'].map((metricKey) => ({
        metricKey,
        includedUnits: '10',
        overageUnitPrice: '0.01',
      })),
    });
    await agg.subscribe({ ...sub, startAt: MARCH.start, billingAnchor: MARCH.start, currentPeriod: MARCH });
    await waitFor('the subscription', async () => (await agg.db('subscriptions').first()) ?? undefined);
  });
  afterAll(async () => {
    await agg?.stop();
  });

  it('follows events from the topic to the invoice lines, and the period reconciles', async () => {
    await agg.sendUsage([
      ...Array.from({ length: 30 }, (_, i) => ({ eventId: `call_${i}`, timestamp: at(MARCH.start, i * 60_000) })),
      { eventId: 'mystery_1', metric: 'MYSTERY', timestamp: at(MARCH.start, 5) },
      { eventId: 'storage_1', metric: 'STORAGE', amount: '2.5', timestamp: at(MARCH.start, 5) },
      { eventId: 'nobody_1', customerId: 'nobody', timestamp: at(MARCH.start, 5) },
    ]);
    // the same id twice more: counted once, each arrival kept as a dropped duplicate
    await agg.sendUsage([{ eventId: 'call_3', timestamp: at(MARCH.start, 3 * 60_000) }]);
    await agg.sendUsage([{ eventId: 'call_3', amount: '5', timestamp: at(MARCH.start, 3 * 60_000) }]);
    await agg.drained();

    // the period is open: the event waits for it
    const open = await trace('call_7');
    expect(open.status).toBe(200);
    expect(open.body).toMatchObject({
      eventId: 'call_7',
      customerId: 'user_123',
      metricKey: 'API_CALL',
      amount: '1',
      timestamp: at(MARCH.start, 7 * 60_000),
      outcome: 'PENDING',
      waiting: { code: 'AWAITING_CLOSING' },
      accepted: { topic: agg.topics.usage },
      duplicates: { count: 0, arrivals: [] },
      rollup: { metricKey: 'API_CALL', hour: { start: '2025-03-01T00:00:00.000Z', end: '2025-03-01T01:00:00.000Z' } },
      subscriptions: [{ subscriptionId, period: MARCH, outcome: 'PENDING', waiting: { code: 'AWAITING_CLOSING' } }],
    });
    const stored = await agg.db('usage_events').where({ event_id: 'call_7' }).first();
    expect([open.body.accepted.partition, open.body.accepted.offset]).toEqual([
      stored.kafka_partition,
      String(stored.kafka_offset),
    ]);

    // a duplicate is traced to its first arrival
    const duplicate = (await trace('call_3')).body;
    expect(duplicate.amount).toBe('1');
    expect(duplicate.duplicates.count).toBe(2);
    const first = BigInt(duplicate.accepted.offset);
    expect(duplicate.duplicates.arrivals.map((a: { partition: number }) => a.partition)).toEqual([
      duplicate.accepted.partition,
      duplicate.accepted.partition,
    ]);
    expect(duplicate.duplicates.arrivals.every((a: { offset: string }) => BigInt(a.offset) > first)).toBe(true);

    // unbilled, and why
    expect((await trace('mystery_1')).body).toMatchObject({
      outcome: 'UNBILLED',
      waiting: { code: 'METRIC_UNKNOWN' },
      subscriptions: [{ outcome: 'UNBILLED', waiting: { code: 'METRIC_UNKNOWN' } }],
    });
    expect((await trace('storage_1')).body).toMatchObject({
      outcome: 'UNBILLED',
      waiting: { code: 'METRIC_NOT_ON_PLAN', detail: 'STORAGE is not on plan pro v1' },
    });
    expect((await trace('nobody_1')).body).toMatchObject({
      outcome: 'UNBILLED',
      waiting: { code: 'SUBSCRIPTION_MISSING' },
      subscriptions: [],
    });
    const unbilled = await agg.api('GET', `/v1/reconciliation/unbilled?from=${MARCH.start}&to=${MARCH.end}`, { token });
    expect(unbilled.status).toBe(200);
    expect(
      unbilled.body.data.map((u: Record<string, unknown>) => [u.customerId, u.metricKey, u.reason, u.eventCount]),
    ).toEqual([
      ['nobody', 'API_CALL', 'SUBSCRIPTION_MISSING', 1],
      ['user_123', 'MYSTERY', 'METRIC_UNKNOWN', 1],
      ['user_123', 'STORAGE', 'METRIC_NOT_ON_PLAN', 1],
    ]);
    // a page at a time, one row per page: every row once, in order
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { data: Array<{ customerId: string; metricKey: string }>; nextCursor: string | null } } =
        await agg.api(
          'GET',
          `/v1/reconciliation/unbilled?from=${MARCH.start}&to=${MARCH.end}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
          { token },
        );
      walked.push(...res.body.data.map((u) => `${u.customerId}/${u.metricKey}`));
      cursor = res.body.nextCursor;
    } while (cursor && walked.length < 10);
    expect(walked).toEqual(['nobody/API_CALL', 'user_123/MYSTERY', 'user_123/STORAGE']);
    const one = await agg.api(
      'GET',
      `/v1/reconciliation/unbilled?from=${MARCH.start}&to=${MARCH.end}&customerId=user_123&limit=1`,
      { token },
    );
    const two = await agg.api(
      'GET',
      `/v1/reconciliation/unbilled?from=${MARCH.start}&to=${MARCH.end}&customerId=user_123&limit=1&cursor=${one.body.nextCursor}`,
      { token },
    );
    expect([...one.body.data, ...two.body.data].map((u: { metricKey: string }) => u.metricKey)).toEqual([
      'MYSTERY',
      'STORAGE',
    ]);
    expect(two.body.nextCursor).toBeNull();

    // March closes and is summarized; billing has not invoiced it yet
    await agg.closePeriod({
      ...sub,
      period: MARCH,
      closedAt: at(APRIL.start, 3_600_000),
      graceEndsAt: at(APRIL.start, 3_600_000),
      usageHighWaterMarks: await agg.marks(),
      nextPeriod: APRIL,
    });
    await waitFor(
      'March summarized',
      async () => (await agg.db('period_closings').whereNotNull('summarized_at').first()) ?? undefined,
    );
    const summarized = (await trace('call_7')).body;
    expect(summarized).toMatchObject({
      outcome: 'PENDING',
      waiting: { code: 'AWAITING_INVOICE' },
      subscriptions: [{ summary: { included: true }, waiting: { code: 'AWAITING_INVOICE' } }],
    });
    const closing = await agg.db('period_closings').first();
    expect(summarized.subscriptions[0].summary).toMatchObject({
      summaryId: closing.summary_event_id,
      fingerprint: closing.fingerprint,
    });

    // one more March call, after the summary: late
    await agg.sendUsage([{ eventId: 'late_1', amount: '4', timestamp: at(MARCH.end, -1000) }]);
    await agg.drained();
    const late = (await trace('late_1')).body;
    expect(late).toMatchObject({
      outcome: 'PENDING',
      waiting: { code: 'AWAITING_NEXT_SUMMARY' },
      subscriptions: [{ summary: { included: false }, late: { sequence: 1, quantity: '4' } }],
    });

    // billing issues March's invoice (as its invoice.created says)
    await agg.publishInvoice('invoice.created', {
      invoiceId: marchInvoice,
      number: 'INV-000001',
      ...sub,
      period: MARCH,
      currency: 'USD',
      amountCents: 10020,
      amount: 100.2,
      lines: [base, usageLine('30'), seatsLine] as never,
      issuedAt: at(APRIL.start, 3_700_000),
      dueAt: at(APRIL.start, 86_400_000 * 14),
    });
    const billed = await waitFor('call_7 billed', async () => {
      const body = (await trace('call_7')).body;
      return body.outcome === 'BILLED' && body;
    });
    expect(billed.subscriptions[0]).toMatchObject({
      invoice: { invoiceId: marchInvoice, number: 'INV-000001', status: 'PENDING', period: MARCH },
      line: {
        position: 1,
        kind: 'usage',
        metricKey: 'API_CALL',
        quantity: '30',
        includedUnits: '10',
        billableUnits: '20',
      },
    });
    expect(billed.waiting).toBeUndefined();

    // April closes: its summary reaches late record 1, whose line is on April's invoice
    await agg.closePeriod({
      ...sub,
      period: APRIL,
      closedAt: at(MAY.start, 3_600_000),
      graceEndsAt: at(MAY.start, 3_600_000),
      usageHighWaterMarks: await agg.marks(),
      nextPeriod: MAY,
    });
    await waitFor('April summarized', async () => {
      const row = await agg
        .db('period_closings')
        .where({ period_start: APRIL.start })
        .whereNotNull('summarized_at')
        .first();
      return row ?? undefined;
    });
    expect((await agg.db('period_closings').where({ period_start: APRIL.start }).first()).late_records_through).toBe(
      '1',
    );
    expect((await trace('late_1')).body).toMatchObject({
      outcome: 'PENDING',
      waiting: { code: 'AWAITING_INVOICE' },
    });
    await agg.publishInvoice('invoice.created', {
      invoiceId: aprilInvoice,
      number: 'INV-000002',
      ...sub,
      period: APRIL,
      currency: 'USD',
      amountCents: 10000,
      amount: 100,
      lines: [
        base,
        usageLine('0'),
        seatsLine,
        { ...usageLine('4', 'late_usage'), includedUnits: '0', billableUnits: '4', period: MARCH },
      ] as never,
      issuedAt: at(MAY.start, 3_700_000),
      dueAt: at(MAY.start, 86_400_000 * 14),
    });
    const lateBilled = await waitFor('late_1 billed', async () => {
      const body = (await trace('late_1')).body;
      return body.outcome === 'BILLED' && body;
    });
    expect(lateBilled.subscriptions[0]).toMatchObject({
      period: MARCH,
      invoice: { invoiceId: aprilInvoice, number: 'INV-000002', period: APRIL },
      line: { position: 3, kind: 'late_usage', period: MARCH, quantity: '4' },
    });

    // March reconciles: 33 arrivals, 2 duplicates, 31 stored, 30 summarized, 1 late on April's invoice
    const rec = await agg.api('GET', `/v1/reconciliation?customerId=user_123&period=${at(MARCH.start, 1)}`, { token });
    expect(rec.status).toBe(200);
    expect(rec.body.data.map((r: { metricKey: string; linesUp: boolean }) => [r.metricKey, r.linesUp])).toEqual([
      ['API_CALL', true],
      ['SEATS', true],
    ]);
    expect(rec.body.data[0]).toMatchObject({
      subscriptionId,
      metricKey: 'API_CALL',
      period: MARCH,
      state: 'SUMMARIZED',
      events: { received: 33, duplicatesDropped: 2, stored: 31, summarized: 30, late: 1 },
      summary: { quantity: '30', eventCount: 30, lateRecordsThrough: 0 },
      invoice: { invoiceId: marchInvoice, position: 1, quantity: '30', includedUnits: '10', billableUnits: '20' },
      lateRecords: {
        count: 1,
        quantity: '4',
        billed: [{ invoiceId: aprilInvoice, number: 'INV-000002', position: 3, records: 1, quantity: '4' }],
        unbilled: 0,
      },
      linesUp: true,
      differences: [],
      waiting: [],
    });
    // the organization's periods, a page at a time
    const all = await agg.api('GET', `/v1/reconciliation?metric=API_CALL&from=${MARCH.start}&to=${MAY.end}&limit=1`, {
      token,
    });
    const next = await agg.api(
      'GET',
      `/v1/reconciliation?metric=API_CALL&from=${MARCH.start}&to=${MAY.end}&limit=2&cursor=${all.body.nextCursor}`,
      { token },
    );
    expect(
      [...all.body.data, ...next.body.data].map((r: { period: { start: string }; state: string }) => [
        r.period.start,
        r.state,
      ]),
    ).toEqual([
      [MARCH.start, 'SUMMARIZED'],
      [APRIL.start, 'SUMMARIZED'],
      [MAY.start, 'OPEN'],
    ]);
    expect(next.body.nextCursor).toBeNull();
    expect(next.body.data[0]).toMatchObject({ linesUp: true, invoice: { invoiceId: aprilInvoice, quantity: '0' } });

    // made wrong, it says so: a late record lost, and an invoice line that bills another quantity
    await agg.db('late_events').where({ subscription_id: subscriptionId }).delete();
    await agg
      .db('invoices')
      .where({ id: marchInvoice })
      .update({ lines: JSON.stringify([base, usageLine('29')]) });
    const wrong = (await agg.api('GET', `/v1/reconciliation?customerId=user_123&period=${MARCH.start}`, { token })).body
      .data[0];
    expect(wrong.linesUp).toBe(false);
    expect(wrong.differences.map((d: { code: string; eventIds: string[] }) => [d.code, d.eventIds])).toEqual([
      ['LATE_NOT_RECORDED', ['late_1']],
      ['INVOICE_QUANTITY_MISMATCH', []],
    ]);
  });

  it("answers 404 for another organization's event id, and 400 for a bad query", async () => {
    const other = await agg.tokenFor(randomUUID(), 'OWNER');
    const res = await trace('call_7', other);
    expect([res.status, res.body.code]).toEqual([404, 'EVENT_NOT_FOUND']);
    expect((await trace('never_sent')).status).toBe(404);
    const none = await agg.api('GET', `/v1/reconciliation?customerId=user_123&period=${MARCH.start}`, {
      token: other,
    });
    expect([none.status, none.body.data]).toEqual([200, []]);
    const bad = await agg.api('GET', `/v1/reconciliation?period=${MARCH.start}&from=${MARCH.start}`, { token });
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    const missing = await agg.api('GET', '/v1/reconciliation/unbilled', { token });
    expect([missing.status, missing.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect((await agg.api('GET', '/v1/events/call_7')).status).toBe(401);
  });

  it('does not take a batch read again after a crash for duplicates of itself', async () => {
    const before = await agg.db('usage_duplicates').count({ n: '*' }).first();
    await agg.rereadAll();
    const after = await agg.db('usage_duplicates').count({ n: '*' }).first();
    expect(after).toEqual(before);
    expect((await trace('call_3')).body.duplicates.count).toBe(2);
  });
});
