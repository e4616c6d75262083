// Billing periods closing on real Postgres and Kafka: test clocks advancing across month
// boundaries, the grace window, the real-time closer catching up, and cancellations cutting or
// ending the last period. Events are read from the outbox, in append order, and then from the
// subscriptions topic the relay sent them to.
import { TOPICS } from '@usageflow/contracts';
import { waitFor } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { closeDuePeriods } from '../src/app/period-closing';
import { PRO_PLAN, startSubscription, type Subscription } from './harness';

let s: Subscription;
beforeAll(async () => {
  s = await startSubscription({ config: { graceMs: 3_600_000 } });
});
afterAll(() => s?.stop());

const HOUR = 3_600_000;

/** An organization with API_CALL, Pro and user_123, subscribed; on a test clock at `frozenTime` when given. */
async function subscribed(options: { frozenTime?: string; startAt?: string } = {}) {
  const org = randomUUID();
  const token = await s.tokenFor(org, 'ADMIN');
  await s.api('POST', '/v1/metrics', { token, body: { key: 'API_CALL', name: 'API calls', unit: 'calls' } });
  await s.api('POST', '/v1/plans', { token, body: PRO_PLAN });
  let testClockId: string | undefined;
  if (options.frozenTime) {
    testClockId = (await s.api('POST', '/v1/test-clocks', { token, body: { frozenTime: options.frozenTime } })).body.id;
  }
  await s.api('POST', '/v1/customers', { token, body: { customerId: 'user_123', name: 'User 123', testClockId } });
  const created = await s.api('POST', '/v1/subscriptions', {
    token,
    body: { customerId: 'user_123', planCode: 'pro', ...(options.startAt ? { startAt: options.startAt } : {}) },
  });
  expect(created.status).toBe(201);
  return { org, token, testClockId, subscriptionId: created.body.id as string };
}

/** The events appended for `key`, in order. */
async function eventsFor(key: string, type?: string) {
  const rows = await s.db('outbox').where({ key }).orderBy('seq');
  return rows.map((r) => r.payload).filter((e) => type === undefined || e.type === type);
}

const closingsOf = (key: string) => eventsFor(key, 'subscription.period_closed');

describe('test clocks', () => {
  it('advancing across three month boundaries closes exactly three periods, in order, contiguous and half-open', async () => {
    const { org, token, testClockId, subscriptionId } = await subscribed({ frozenTime: '2025-01-15T12:00:00.000Z' });
    const advanced = await s.api('POST', `/v1/test-clocks/${testClockId}/advance`, {
      token,
      body: { frozenTime: '2025-04-15T00:00:00.000Z' },
    });
    expect(advanced.status).toBe(200);
    expect(advanced.body).toMatchObject({ id: testClockId, frozenTime: '2025-04-15T00:00:00.000Z' });

    const closings = await closingsOf(subscriptionId);
    expect(closings.map((e) => e.data.period)).toEqual([
      { start: '2025-01-15T12:00:00.000Z', end: '2025-02-01T00:00:00.000Z' },
      { start: '2025-02-01T00:00:00.000Z', end: '2025-03-01T00:00:00.000Z' },
      { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' },
    ]);
    for (const [i, e] of closings.entries()) {
      expect(e).toMatchObject({ organizationId: org, producer: 'subscription' });
      expect(e.data).toMatchObject({
        subscriptionId,
        customerId: 'user_123',
        planCode: 'pro',
        planVersion: 1,
        closedAt: '2025-04-15T00:00:00.000Z',
        testClockId,
        graceEndsAt: new Date(Date.parse(e.data.period.end) + HOUR).toISOString(),
      });
      // each period's end is the next one's start, and nextPeriod names it
      const next = closings[i + 1]?.data.period ?? {
        start: '2025-04-01T00:00:00.000Z',
        end: '2025-05-01T00:00:00.000Z',
      };
      expect(e.data.nextPeriod).toEqual(next);
      expect(e.data.period.end).toBe(next.start);
      // the usage topic's marks at the closing: one per partition, in partition order
      expect(e.data.usageHighWaterMarks.map((m: { partition: number }) => m.partition)).toEqual([
        ...Array(e.data.usageHighWaterMarks.length).keys(),
      ]);
    }
    const subscription = (await s.api('GET', `/v1/subscriptions/${subscriptionId}`, { token })).body;
    expect(subscription.currentPeriod).toEqual({ start: '2025-04-01T00:00:00.000Z', end: '2025-05-01T00:00:00.000Z' });
    expect(await eventsFor(testClockId!, 'test_clock.advanced')).toEqual([
      expect.objectContaining({
        data: { testClockId, from: '2025-01-15T12:00:00.000Z', to: '2025-04-15T00:00:00.000Z' },
      }),
    ]);

    // the relay put them on the subscriptions topic, keyed by the subscription, in the same order
    const ids = closings.map((e) => e.id);
    await waitFor('the closings to be published', async () => {
      const rows = await s.db('outbox').whereIn('id', ids).whereNotNull('published_at');
      return rows.length === ids.length;
    });
    const published = await s.db('outbox').whereIn('id', ids).orderBy('seq');
    expect(published.map((r) => [r.topic, r.key])).toEqual(ids.map(() => [TOPICS.subscriptions, subscriptionId]));
  });

  it('a period closes only once its grace window has passed; advancing to the same time again changes nothing', async () => {
    const { token, testClockId, subscriptionId } = await subscribed({ frozenTime: '2025-03-01T00:00:00.000Z' });
    const advance = (frozenTime: string) =>
      s.api('POST', `/v1/test-clocks/${testClockId}/advance`, { token, body: { frozenTime } });

    expect((await advance('2025-04-01T00:59:59.999Z')).status).toBe(200);
    expect(await closingsOf(subscriptionId)).toEqual([]);
    expect((await advance('2025-04-01T01:00:00.000Z')).status).toBe(200);
    const [march] = await closingsOf(subscriptionId);
    expect(march.data).toMatchObject({
      period: { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' },
      closedAt: '2025-04-01T01:00:00.000Z',
      graceEndsAt: '2025-04-01T01:00:00.000Z',
    });

    const before = await eventsFor(testClockId!);
    const again = await advance('2025-04-01T01:00:00.000Z');
    expect(again.status).toBe(200);
    expect(await eventsFor(testClockId!)).toEqual(before);
    expect(await closingsOf(subscriptionId)).toHaveLength(1);
  });

  it('never moves backwards, refuses bad times naming the field, and is in-tenant only', async () => {
    const { token, testClockId } = await subscribed({ frozenTime: '2025-03-01T00:00:00.000Z' });
    const back = await s.api('POST', `/v1/test-clocks/${testClockId}/advance`, {
      token,
      body: { frozenTime: '2025-02-28T00:00:00.000Z' },
    });
    expect(back.status).toBe(409);
    expect(back.body.code).toBe('TEST_CLOCK_BACKWARDS');

    const bad = await s.api('POST', `/v1/test-clocks/${testClockId}/advance`, { token, body: { frozenTime: 'soon' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['frozenTime']);

    const tooFar = await s.api('POST', `/v1/test-clocks/${testClockId}/advance`, {
      token,
      body: { frozenTime: '2040-01-01T00:00:00.000Z' },
    });
    expect(tooFar.status).toBe(400);
    expect(tooFar.body.errors.map((e: { field: string }) => e.field)).toEqual(['frozenTime']);

    const stranger = await s.tokenFor(randomUUID(), 'OWNER');
    const foreign = await s.api('POST', `/v1/test-clocks/${testClockId}/advance`, {
      token: stranger,
      body: { frozenTime: '2025-06-01T00:00:00.000Z' },
    });
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe('TEST_CLOCK_NOT_FOUND');
    expect((await s.api('GET', `/v1/test-clocks/${testClockId}`, { token })).body.frozenTime).toBe(
      '2025-03-01T00:00:00.000Z',
    );
  });
});

describe('the real-time closer', () => {
  it('closes a period once end + grace has passed on the wall clock, then catches up period by period', async () => {
    const { subscriptionId } = await subscribed({ startAt: '2025-03-10T00:00:00.000Z' });
    const at = (iso: string) => ({ ...s.ctx, clock: () => new Date(iso) });

    await closeDuePeriods(at('2025-04-01T00:59:59.999Z'));
    expect(await closingsOf(subscriptionId)).toEqual([]);
    await closeDuePeriods(at('2025-04-01T01:00:00.000Z'));
    expect((await closingsOf(subscriptionId)).map((e) => e.data.period)).toEqual([
      { start: '2025-03-10T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' },
    ]);

    await closeDuePeriods(at('2025-07-15T00:00:00.000Z'));
    const closings = await closingsOf(subscriptionId);
    expect(closings.map((e) => e.data.period.start)).toEqual([
      '2025-03-10T00:00:00.000Z',
      '2025-04-01T00:00:00.000Z',
      '2025-05-01T00:00:00.000Z',
      '2025-06-01T00:00:00.000Z',
    ]);
    expect(closings.every((e) => e.data.closedAt <= '2025-07-15T00:00:00.000Z' && !('testClockId' in e.data))).toBe(
      true,
    );
    // a second sweep at the same time finds nothing due
    expect(await closeDuePeriods(at('2025-07-15T00:00:00.000Z'))).toBe(0);
    expect(await closingsOf(subscriptionId)).toHaveLength(4);
  });

  it('leaves test-clock subscriptions to their clock', async () => {
    const { subscriptionId } = await subscribed({ frozenTime: '2025-03-01T00:00:00.000Z' });
    await closeDuePeriods({ ...s.ctx, clock: () => new Date('2025-09-01T00:00:00.000Z') });
    expect(await closingsOf(subscriptionId)).toEqual([]);
  });
});

describe('cancellation', () => {
  const clockAt = async (token: string, testClockId: string, frozenTime: string) =>
    s.api('POST', `/v1/test-clocks/${testClockId}/advance`, { token, body: { frozenTime } });

  it('at period end: stays active until then, the closing ends it, and a repeat changes nothing', async () => {
    const { token, testClockId, subscriptionId } = await subscribed({ frozenTime: '2025-03-10T00:00:00.000Z' });
    const cancel = () =>
      s.api('POST', `/v1/subscriptions/${subscriptionId}/cancel`, { token, body: { reason: 'moving to Team' } });
    const cancelled = await cancel();
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'ACTIVE', cancelAt: '2025-04-01T00:00:00.000Z', endedAt: null });
    expect((await cancel()).body).toEqual(cancelled.body);
    expect((await eventsFor(subscriptionId, 'subscription.cancelled')).map((e) => e.data)).toEqual([
      {
        subscriptionId,
        customerId: 'user_123',
        atPeriodEnd: true,
        effectiveAt: '2025-04-01T00:00:00.000Z',
        reason: 'moving to Team',
      },
    ]);

    await clockAt(token, testClockId!, '2025-06-15T00:00:00.000Z');
    const closings = await closingsOf(subscriptionId);
    expect(closings.map((e) => [e.data.period.start, e.data.period.end, e.data.nextPeriod])).toEqual([
      ['2025-03-10T00:00:00.000Z', '2025-04-01T00:00:00.000Z', null],
    ]);
    const ended = (await s.api('GET', `/v1/subscriptions/${subscriptionId}`, { token })).body;
    expect(ended).toMatchObject({ status: 'CANCELLED', endedAt: '2025-04-01T00:00:00.000Z', currentPeriod: null });
  });

  it('immediately: the current period is cut at now and closes as the last one; the plan can be taken again', async () => {
    const { token, testClockId, subscriptionId } = await subscribed({ frozenTime: '2025-03-01T00:00:00.000Z' });
    await clockAt(token, testClockId!, '2025-03-10T12:00:00.000Z');
    const cancelled = await s.api('POST', `/v1/subscriptions/${subscriptionId}/cancel`, {
      token,
      body: { at: 'IMMEDIATELY' },
    });
    expect(cancelled.body).toMatchObject({
      status: 'CANCELLED',
      endedAt: '2025-03-10T12:00:00.000Z',
      currentPeriod: { start: '2025-03-01T00:00:00.000Z', end: '2025-03-10T12:00:00.000Z' },
    });
    expect((await eventsFor(subscriptionId, 'subscription.cancelled'))[0].data).toMatchObject({
      atPeriodEnd: false,
      effectiveAt: '2025-03-10T12:00:00.000Z',
    });
    await clockAt(token, testClockId!, '2025-03-10T13:00:00.000Z');
    expect((await closingsOf(subscriptionId)).map((e) => [e.data.period, e.data.nextPeriod])).toEqual([
      [{ start: '2025-03-01T00:00:00.000Z', end: '2025-03-10T12:00:00.000Z' }, null],
    ]);
    const again = await s.api('POST', '/v1/subscriptions', {
      token,
      body: { customerId: 'user_123', planCode: 'pro' },
    });
    expect(again.status).toBe(201);
  });

  it('immediately, inside the grace window of the last period: that period closes whole, then the short remainder', async () => {
    const { token, testClockId, subscriptionId } = await subscribed({ frozenTime: '2025-03-10T00:00:00.000Z' });
    await clockAt(token, testClockId!, '2025-04-01T00:30:00.000Z');
    await s.api('POST', `/v1/subscriptions/${subscriptionId}/cancel`, { token, body: { at: 'IMMEDIATELY' } });
    await clockAt(token, testClockId!, '2025-04-02T00:00:00.000Z');
    expect((await closingsOf(subscriptionId)).map((e) => [e.data.period, e.data.nextPeriod])).toEqual([
      [
        { start: '2025-03-10T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' },
        { start: '2025-04-01T00:00:00.000Z', end: '2025-04-01T00:30:00.000Z' },
      ],
      [{ start: '2025-04-01T00:00:00.000Z', end: '2025-04-01T00:30:00.000Z' }, null],
    ]);
  });

  it('immediately at the very start: nothing was used, so no period is left to close', async () => {
    const { token, testClockId, subscriptionId } = await subscribed({ frozenTime: '2025-03-10T00:00:00.000Z' });
    const cancelled = await s.api('POST', `/v1/subscriptions/${subscriptionId}/cancel`, {
      token,
      body: { at: 'IMMEDIATELY' },
    });
    expect(cancelled.body).toMatchObject({
      status: 'CANCELLED',
      endedAt: '2025-03-10T00:00:00.000Z',
      currentPeriod: null,
    });
    await clockAt(token, testClockId!, '2025-05-01T00:00:00.000Z');
    expect(await closingsOf(subscriptionId)).toEqual([]);
  });

  it('refuses a bad timing naming the field, and is in-tenant only', async () => {
    const { token, subscriptionId } = await subscribed({ frozenTime: '2025-03-10T00:00:00.000Z' });
    const bad = await s.api('POST', `/v1/subscriptions/${subscriptionId}/cancel`, { token, body: { at: 'LATER' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field)).toEqual(['at']);
    const stranger = await s.tokenFor(randomUUID(), 'OWNER');
    const foreign = await s.api('POST', `/v1/subscriptions/${subscriptionId}/cancel`, { token: stranger });
    expect(foreign.status).toBe(404);
    expect((await s.api('GET', `/v1/subscriptions/${subscriptionId}`, { token })).body.cancelAt).toBeNull();
    expect(await eventsFor(subscriptionId, 'subscription.cancelled')).toEqual([]);
  });
});
