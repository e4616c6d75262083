// Plans over HTTP: immutable versions (a price change is a new version), archive, validation.
import { randomUUID } from 'node:crypto';
import { PRO_PLAN, startSubscription, type Subscription } from './harness';

let s: Subscription;
beforeAll(async () => {
  s = await startSubscription();
});
afterAll(() => s?.stop());

const pro = PRO_PLAN;

async function orgWithMetric() {
  const org = randomUUID();
  const token = await s.tokenFor(org, 'ADMIN');
  await s.api('POST', '/v1/metrics', { token, body: { key: 'API_CALL', name: 'API calls', unit: 'calls' } });
  return { org, token };
}

describe('plans', () => {
  it('the reference plan: Pro, $100/month, 10,000 API calls included, $0.01 beyond, prices kept exactly', async () => {
    const { org, token } = await orgWithMetric();
    const created = await s.api('POST', '/v1/plans', { token, body: pro });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...pro, version: 1, latestVersion: 1, archivedAt: null });
    const events = await s.db('outbox').where({ key: org }).orderBy('seq');
    expect(events.map((e) => e.payload.type)).toEqual(['metric.created', 'plan.created']);
    expect(events[1]!.payload.data).toEqual({ ...pro, version: 1 });
  });

  it('a price change is a new version; version 1 stays as it was', async () => {
    const { org, token } = await orgWithMetric();
    await s.api('POST', '/v1/plans', { token, body: pro });
    const v2 = await s.api('POST', '/v1/plans/pro/versions', {
      token,
      body: { basePrice: '120.00', planMetrics: [{ ...pro.planMetrics[0], overageUnitPrice: '0.008' }] },
    });
    expect([v2.status, v2.body.version, v2.body.basePrice, v2.body.name]).toEqual([201, 2, '120.00', 'Pro']);
    const v1 = await s.api('GET', '/v1/plans/pro?version=1', { token });
    expect([
      v1.body.version,
      v1.body.basePrice,
      v1.body.planMetrics[0].overageUnitPrice,
      v1.body.latestVersion,
    ]).toEqual([1, '100.00', '0.01', 2]);
    expect((await s.api('GET', '/v1/plans/pro', { token })).body.version).toBe(2);
    const types = (await s.db('outbox').where({ key: org }).orderBy('seq')).map((e) => e.payload.type);
    expect(types).toEqual(['metric.created', 'plan.created', 'plan.updated']);
  });

  it('refuses a duplicate code (409), an unknown or repeated metric (naming the field), a float price (400)', async () => {
    const { token } = await orgWithMetric();
    expect((await s.api('POST', '/v1/plans', { token, body: pro })).status).toBe(201);
    const dup = await s.api('POST', '/v1/plans', { token, body: pro });
    expect([dup.status, dup.body.code]).toEqual([409, 'PLAN_CODE_TAKEN']);
    const unknown = await s.api('POST', '/v1/plans', {
      token,
      body: { ...pro, code: 'x', planMetrics: [{ ...pro.planMetrics[0], metricKey: 'NOPE' }] },
    });
    expect([unknown.status, unknown.body.code, unknown.body.errors[0].field]).toEqual([
      404,
      'METRIC_NOT_FOUND',
      'planMetrics[0].metricKey',
    ]);
    const twice = await s.api('POST', '/v1/plans', {
      token,
      body: { ...pro, code: 'y', planMetrics: [pro.planMetrics[0], pro.planMetrics[0]] },
    });
    expect([twice.status, twice.body.errors[0].field]).toEqual([400, 'planMetrics[1].metricKey']);
    const float = await s.api('POST', '/v1/plans', { token, body: { ...pro, code: 'z', basePrice: 100 } });
    expect([float.status, float.body.errors[0].field]).toEqual([400, 'basePrice']);
    expect((await s.api('GET', '/v1/plans', { token })).body.data.map((p: { code: string }) => p.code)).toEqual([
      'pro',
    ]);
  });

  it('archiving stops new versions, is idempotent, and is invisible to other organizations', async () => {
    const { token } = await orgWithMetric();
    await s.api('POST', '/v1/plans', { token, body: pro });
    const archived = await s.api('POST', '/v1/plans/pro/archive', { token });
    expect(archived.body.archivedAt).not.toBeNull();
    expect((await s.api('POST', '/v1/plans/pro/archive', { token })).body.archivedAt).toBe(archived.body.archivedAt);
    const v2 = await s.api('POST', '/v1/plans/pro/versions', { token, body: { basePrice: '1', planMetrics: [] } });
    expect([v2.status, v2.body.code]).toEqual([409, 'PLAN_ARCHIVED']);
    const stranger = await s.tokenFor(randomUUID(), 'OWNER');
    expect((await s.api('GET', '/v1/plans/pro', { token: stranger })).status).toBe(404);
    expect((await s.api('POST', '/v1/plans/pro/archive', { token: stranger })).status).toBe(404);
  });
});
