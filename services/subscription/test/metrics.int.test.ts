// Metrics over HTTP on real Postgres and Kafka: created once per key, role-checked, validated,
// scoped to the caller's organization, and announced on the catalog topic through the outbox.
import { randomUUID } from 'node:crypto';
import { startSubscription, type Subscription } from './harness';

let s: Subscription;
beforeAll(async () => {
  s = await startSubscription();
});
afterAll(() => s?.stop());

const apiCall = { key: 'API_CALL', name: 'API calls', unit: 'calls' };

describe('metrics', () => {
  it('an ADMIN creates a metric (SUM by default) and its metric.created event is in the outbox', async () => {
    const org = randomUUID();
    const admin = await s.tokenFor(org, 'ADMIN');
    const created = await s.api('POST', '/v1/metrics', { token: admin, body: apiCall });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...apiCall, aggregation: 'SUM', uniqueProperty: null });
    const got = await s.api('GET', '/v1/metrics/API_CALL', { token: admin });
    expect(got.body).toEqual(created.body);
    const events = await s.db('outbox').where({ topic: 'usageflow.catalog.v1', key: org });
    expect(events.map((e) => e.payload.type)).toEqual(['metric.created']);
    expect(events[0]!.payload.data).toEqual({ ...apiCall, aggregation: 'SUM' });
  });

  it('a duplicate key is 409 METRIC_KEY_TAKEN and writes nothing', async () => {
    const org = randomUUID();
    const owner = await s.tokenFor(org, 'OWNER');
    expect((await s.api('POST', '/v1/metrics', { token: owner, body: apiCall })).status).toBe(201);
    const again = await s.api('POST', '/v1/metrics', { token: owner, body: { ...apiCall, name: 'Other' } });
    expect([again.status, again.body.code]).toEqual([409, 'METRIC_KEY_TAKEN']);
    expect(again.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await s.db('outbox').where({ key: org })).toHaveLength(1);
    // the same key in another organization is another metric
    const other = await s.tokenFor(randomUUID(), 'OWNER');
    expect((await s.api('POST', '/v1/metrics', { token: other, body: apiCall })).status).toBe(201);
  });

  it('bad input is a problem+json 400 naming the field', async () => {
    const owner = await s.tokenFor(randomUUID(), 'OWNER');
    const lower = await s.api('POST', '/v1/metrics', { token: owner, body: { ...apiCall, key: 'api_call' } });
    expect([lower.status, lower.body.code, lower.body.errors[0].field]).toEqual([400, 'VALIDATION_FAILED', 'key']);
    const unique = await s.api('POST', '/v1/metrics', {
      token: owner,
      body: { key: 'ACTIVE_USER', name: 'Active users', unit: 'users', aggregation: 'UNIQUE_COUNT' },
    });
    expect(unique.body.errors.map((e: { field: string }) => e.field)).toContain('uniqueProperty');
    const missing = await s.api('POST', '/v1/metrics', { token: owner, body: { key: 'X' } });
    expect(missing.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['name', 'unit']);
  });

  it('roles: everyone reads; only OWNER and ADMIN (and keys with catalog:manage) write', async () => {
    const org = randomUUID();
    const results: Record<string, number[]> = {};
    for (const role of ['OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER'] as const) {
      const token = await s.tokenFor(org, role);
      const write = await s.api('POST', '/v1/metrics', { token, body: { ...apiCall, key: `M_${role}` } });
      const read = await s.api('GET', '/v1/metrics', { token });
      results[role] = [write.status, read.status];
    }
    expect(results).toEqual({ OWNER: [201, 200], ADMIN: [201, 200], DEVELOPER: [403, 200], VIEWER: [403, 200] });
    const manage = await s.apiKeyFor(org, ['catalog:manage', 'catalog:read']);
    const events = await s.apiKeyFor(org, ['events:write']);
    expect((await s.api('POST', '/v1/metrics', { apiKey: manage, body: { ...apiCall, key: 'BY_KEY' } })).status).toBe(
      201,
    );
    expect((await s.api('POST', '/v1/metrics', { apiKey: events, body: { ...apiCall, key: 'NO' } })).status).toBe(403);
    expect((await s.api('GET', '/v1/metrics', {})).status).toBe(401);
  });

  it("another organization's metric is 404, and lists hold only the caller's", async () => {
    const a = await s.tokenFor(randomUUID(), 'OWNER');
    const b = await s.tokenFor(randomUUID(), 'OWNER');
    await s.api('POST', '/v1/metrics', { token: b, body: { ...apiCall, key: 'B_ONLY' } });
    expect((await s.api('GET', '/v1/metrics/B_ONLY', { token: a })).status).toBe(404);
    expect((await s.api('PATCH', '/v1/metrics/B_ONLY', { token: a, body: { name: 'mine' } })).status).toBe(404);
    expect((await s.api('GET', '/v1/metrics', { token: a })).body.data).toEqual([]);
  });

  it('updates name, unit and description, never key or aggregation, and pages by key', async () => {
    const org = randomUUID();
    const owner = await s.tokenFor(org, 'OWNER');
    for (const key of ['A_ONE', 'B_TWO', 'C_THREE'])
      await s.api('POST', '/v1/metrics', { token: owner, body: { ...apiCall, key } });
    const updated = await s.api('PATCH', '/v1/metrics/B_TWO', { token: owner, body: { name: 'Two', unit: 'units' } });
    expect(updated.body).toMatchObject({ key: 'B_TWO', name: 'Two', unit: 'units', aggregation: 'SUM' });
    const refused = await s.api('PATCH', '/v1/metrics/B_TWO', { token: owner, body: { aggregation: 'MAX' } });
    expect([refused.status, refused.body.errors[0].field]).toEqual([400, 'aggregation']);
    const first = await s.api('GET', '/v1/metrics?limit=2', { token: owner });
    expect(first.body.data.map((m: { key: string }) => m.key)).toEqual(['A_ONE', 'B_TWO']);
    const second = await s.api('GET', `/v1/metrics?limit=2&cursor=${first.body.nextCursor}`, { token: owner });
    expect([second.body.data.map((m: { key: string }) => m.key), second.body.nextCursor]).toEqual([['C_THREE'], null]);
    const types = (await s.db('outbox').where({ key: org }).orderBy('seq')).map((e) => e.payload.type);
    expect(types).toEqual(['metric.created', 'metric.created', 'metric.created', 'metric.updated']);
  });

  it('an Idempotency-Key retry creates once', async () => {
    const owner = await s.tokenFor(randomUUID(), 'OWNER');
    const headers = { 'idempotency-key': randomUUID() };
    const first = await s.api('POST', '/v1/metrics', { token: owner, body: apiCall, headers });
    const retry = await s.api('POST', '/v1/metrics', { token: owner, body: apiCall, headers });
    expect([first.status, retry.status, retry.headers.get('idempotent-replayed')]).toEqual([201, 201, 'true']);
  });
});
