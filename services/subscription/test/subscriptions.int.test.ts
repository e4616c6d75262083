// Subscriptions over HTTP: a customer on one plan version, periods counted from the anchor,
// one live subscription per plan family, in-tenant only.
import { randomUUID } from 'node:crypto';
import { PRO_PLAN, startSubscription, type Subscription } from './harness';

let s: Subscription;
beforeAll(async () => {
  s = await startSubscription();
});
afterAll(() => s?.stop());

const pro = PRO_PLAN;

/** CloudAI's catalog: API_CALL, plan Pro, and customer user_123 (on a test clock when given). */
async function cloudAi(frozenTime?: string) {
  const org = randomUUID();
  const token = await s.tokenFor(org, 'ADMIN');
  await s.api('POST', '/v1/metrics', { token, body: { key: 'API_CALL', name: 'API calls', unit: 'calls' } });
  await s.api('POST', '/v1/plans', { token, body: pro });
  let testClockId: string | undefined;
  if (frozenTime) {
    testClockId = (await s.api('POST', '/v1/test-clocks', { token, body: { frozenTime } })).body.id;
  }
  await s.api('POST', '/v1/customers', { token, body: { customerId: 'user_123', name: 'User 123', testClockId } });
  return { org, token, testClockId };
}

describe('subscriptions', () => {
  it('subscribe user_123 to Pro on a test clock: the calendar month of the clock is the first period', async () => {
    const { org, token, testClockId } = await cloudAi('2025-03-01T00:00:00.000Z');
    const created = await s.api('POST', '/v1/subscriptions', {
      token,
      body: { customerId: 'user_123', planCode: 'pro' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      customerId: 'user_123',
      planCode: 'pro',
      planVersion: 1,
      status: 'ACTIVE',
      startAt: '2025-03-01T00:00:00.000Z',
      billingAnchorKind: 'CALENDAR',
      currentPeriod: { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' },
      testClockId,
    });
    const events = (await s.db('outbox').where({ key: created.body.id })).map((e) => e.payload);
    expect(events.map((e) => [e.type, e.organizationId, e.data.currentPeriod])).toEqual([
      ['subscription.created', org, created.body.currentPeriod],
    ]);
  });

  it('an anniversary on the 31st starts a stub-free period ending on the last day of a short month', async () => {
    const { token } = await cloudAi();
    const created = await s.api('POST', '/v1/subscriptions', {
      token,
      body: {
        customerId: 'user_123',
        planCode: 'pro',
        startAt: '2025-01-31T10:00:00.000Z',
        billingAnchor: 'ANNIVERSARY',
      },
    });
    expect(created.body.currentPeriod).toEqual({ start: '2025-01-31T10:00:00.000Z', end: '2025-02-28T10:00:00.000Z' });
  });

  it('keeps its plan version when prices change, and one live subscription per plan family', async () => {
    const { token } = await cloudAi();
    const first = await s.api('POST', '/v1/subscriptions', {
      token,
      body: { customerId: 'user_123', planCode: 'pro' },
    });
    await s.api('POST', '/v1/plans/pro/versions', {
      token,
      body: { basePrice: '150.00', planMetrics: pro.planMetrics },
    });
    expect((await s.api('GET', `/v1/subscriptions/${first.body.id}`, { token })).body.planVersion).toBe(1);
    const second = await s.api('POST', '/v1/subscriptions', {
      token,
      body: { customerId: 'user_123', planCode: 'pro' },
    });
    expect([second.status, second.body.code]).toEqual([409, 'ALREADY_SUBSCRIBED']);
  });

  it('refuses unknown customers, plans and versions (404), archived plans (409), bad input (400)', async () => {
    const { org, token } = await cloudAi();
    const cases = [
      [{ customerId: 'nobody', planCode: 'pro' }, 404, 'CUSTOMER_NOT_FOUND'],
      [{ customerId: 'user_123', planCode: 'nope' }, 404, 'PLAN_NOT_FOUND'],
      [{ customerId: 'user_123', planCode: 'pro', planVersion: 9 }, 404, 'PLAN_NOT_FOUND'],
      [{ customerId: 'user_123', planCode: 'pro', billingAnchor: 'WEEKLY' }, 400, 'VALIDATION_FAILED'],
    ] as const;
    for (const [body, status, code] of cases) {
      const r = await s.api('POST', '/v1/subscriptions', { token, body });
      expect([r.status, r.body.code]).toEqual([status, code]);
    }
    await s.api('POST', '/v1/plans/pro/archive', { token });
    const archived = await s.api('POST', '/v1/subscriptions', {
      token,
      body: { customerId: 'user_123', planCode: 'pro' },
    });
    expect([archived.status, archived.body.code]).toEqual([409, 'PLAN_ARCHIVED']);
    // nothing half-written: no subscription row, no event
    expect(await s.db('subscriptions').where({ organization_id: org })).toEqual([]);
    expect(
      (await s.db('outbox').where({ topic: 'usageflow.subscriptions.v1' })).map((e) => e.payload.organizationId),
    ).not.toContain(org);
  });

  it('lists by customer and status, in-tenant only', async () => {
    const { token } = await cloudAi();
    const created = await s.api('POST', '/v1/subscriptions', {
      token,
      body: { customerId: 'user_123', planCode: 'pro' },
    });
    const listed = await s.api('GET', '/v1/subscriptions?customerId=user_123&status=ACTIVE', { token });
    expect(listed.body.data.map((x: { id: string }) => x.id)).toEqual([created.body.id]);
    expect((await s.api('GET', '/v1/subscriptions?status=CANCELLED', { token })).body.data).toEqual([]);
    // a forged cursor of the right shape but a non-uuid id is refused before it reaches SQL
    const forged = Buffer.from(JSON.stringify(['2025-01-01T00:00:00.000Z', 'x'])).toString('base64url');
    const bad = await s.api('GET', `/v1/subscriptions?cursor=${forged}`, { token });
    expect([bad.status, bad.body.code]).toEqual([400, 'INVALID_CURSOR']);
    const stranger = await s.tokenFor(randomUUID(), 'OWNER');
    expect((await s.api('GET', `/v1/subscriptions/${created.body.id}`, { token: stranger })).status).toBe(404);
    expect((await s.api('GET', '/v1/subscriptions', { token: stranger })).body.data).toEqual([]);
  });
});
