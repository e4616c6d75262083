// The gateway on real Kafka: what it accepts lands on the usage topic as usage.recorded envelopes,
// keyed and attributed by the API key's organization, with the request's trace; what it refuses
// never does. Each case reads the run's own usage topic back.
import { assertValidEvent } from '@usageflow/contracts';
import { waitFor } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { startIngestion, type Ingestion } from './harness';

let h: Ingestion;
beforeAll(async () => {
  h = await startIngestion({
    config: { maxBatchEvents: 50, rateBurst: 60, ratePerSecond: 20, maxBodyBytes: 64 * 1024 },
  });
});
afterAll(() => h?.stop());

const recordsFor = (ids: string[], expected?: number) => h.recordsFor(ids, expected);

describe('accepting usage', () => {
  it('the product docs shape: 202 after the ack, one usage.recorded on the topic, keyed by org + customer, with the trace', async () => {
    const { org, key, apiKeyId } = await h.organization();
    const traceId = randomUUID().replace(/-/g, '');
    const res = await h.api('POST', '/v1/events', {
      apiKey: key,
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: { metric: 'API_CALL', amount: 1, customerId: 'user_123', properties: { endpoint: '/v1/chat' } },
    });
    expect(res.status).toBe(202);
    const id = res.body.id as string;
    expect(id).toMatch(/^[0-9a-f-]{36}$/); // generated: the sender gave none

    const [record] = await recordsFor([id]);
    const event = assertValidEvent(record!.event);
    expect(event).toMatchObject({ type: 'usage.recorded', version: 1, organizationId: org, producer: 'ingestion' });
    expect(event.data).toMatchObject({
      eventId: id,
      customerId: 'user_123',
      metric: 'API_CALL',
      amount: '1',
      properties: { endpoint: '/v1/chat' },
      apiKeyId,
    });
    expect(record!.key).toBe(`${org}:user_123`);
    // the trace context is the one header: the envelope in the value carries id and type
    expect(Object.keys(record!.headers)).toEqual(['traceparent']);
    expect(record!.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });

  it('amounts are exact decimals; a repeated id is answered as accepted again (dedup is aggregation’s)', async () => {
    const { key } = await h.organization();
    const id = `req_${randomUUID()}`;
    const body = { id, metric: 'API_CALL', amount: '0.1', customerId: 'user_123', timestamp: new Date().toISOString() };
    expect((await h.api('POST', '/v1/events', { apiKey: key, body })).body).toEqual({ id });
    expect((await h.api('POST', '/v1/events', { apiKey: key, body })).status).toBe(202);
    const records = await recordsFor([id], 2);
    expect(records.map((r) => r.event.data.amount)).toEqual(['0.1', '0.1']);
  });

  it('a mixed batch: 207, exactly the good ones on the topic, and each refused index with its field and reason', async () => {
    const { key } = await h.organization();
    const good = [randomUUID(), randomUUID(), randomUUID()];
    const events = [
      { id: good[0], metric: 'API_CALL', amount: 1, customerId: 'user_1' },
      { id: 'bad-amount', metric: 'API_CALL', amount: -1, customerId: 'user_1' },
      { id: good[1], metric: 'API_CALL', amount: '2.5', customerId: 'user_2' },
      { id: 'unknown-metric', metric: 'NOT_DEFINED', amount: 1, customerId: 'user_1' },
      { id: 'no-customer', metric: 'API_CALL', amount: 1 },
      { id: good[2], metric: 'API_CALL', amount: 3, customerId: 'user_3' },
    ];
    const res = await h.api('POST', '/v1/events/batch', { apiKey: key, body: { events } });
    expect(res.status).toBe(207);
    expect(res.body.accepted).toBe(3);
    expect(res.body.refused).toBe(3);
    expect(res.body.results.map((r: { index: number; id?: string }) => [r.index, r.id ?? null])).toEqual([
      [0, good[0]],
      [1, null],
      [2, good[1]],
      [3, null],
      [4, null],
      [5, good[2]],
    ]);
    const fields = (i: number) => res.body.results[i].errors.map((e: { field: string }) => e.field);
    expect([fields(1), fields(3), fields(4)]).toEqual([['amount'], ['metric'], ['customerId']]);

    const everything = await recordsFor([...good, 'bad-amount', 'unknown-metric', 'no-customer'], 3);
    expect(everything.map((r) => r.event.data.eventId).sort()).toEqual([...good].sort());
  });

  it('a batch with nothing acceptable is 400 naming events[i].field, and nothing is produced', async () => {
    const { key } = await h.organization();
    const res = await h.api('POST', '/v1/events/batch', {
      apiKey: key,
      body: { events: [{ id: 'x1', metric: 'api call', amount: 1, customerId: 'u' }, { id: 'x2' }] },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(res.body.errors.map((e: { field: string }) => e.field)).toEqual(
      expect.arrayContaining(['events[0].metric', 'events[1].customerId']),
    );
    const single = await h.api('POST', '/v1/events', { apiKey: key, body: { metric: 'API_CALL', customerId: 'u' } });
    expect([single.status, single.body.code, single.body.errors[0].field]).toEqual([
      400,
      'VALIDATION_FAILED',
      'amount',
    ]);
  });

  it('unknown metrics are refused (422) until the organization accepts them', async () => {
    const { org, key } = await h.organization();
    const send = () =>
      h.api('POST', '/v1/events', { apiKey: key, body: { metric: 'GPU_SECONDS', amount: 3, customerId: 'user_1' } });
    const refused = await send();
    expect([refused.status, refused.body.code, refused.body.errors[0].field]).toEqual([
      422,
      'UNKNOWN_METRIC',
      'metric',
    ]);
    await h.unknownMetrics(org, 'ACCEPT');
    const accepted = await send();
    expect(accepted.status).toBe(202);
    await recordsFor([accepted.body.id]);
  });

  it('CloudEvents, one and in a batch, map to the same event', async () => {
    const { org, key } = await h.organization();
    const ce = (id: string, extra: object = {}) => ({
      specversion: '1.0',
      id,
      source: 'my-app',
      type: 'API_CALL',
      subject: 'user_123',
      time: '2026-11-24T10:00:00Z',
      data: { amount: 2, model: 'gpt-4' },
      ...extra,
    });
    const one = await h.api('POST', '/v1/events', {
      apiKey: key,
      headers: { 'content-type': 'application/cloudevents+json' },
      body: ce('ce-1'),
    });
    expect([one.status, one.body.id]).toEqual([202, 'ce-1']);
    const batch = await h.api('POST', '/v1/events/batch', {
      apiKey: key,
      headers: { 'content-type': 'application/cloudevents-batch+json' },
      body: [ce('ce-2'), ce('ce-3', { subject: undefined })],
    });
    expect(batch.status).toBe(207);
    expect(batch.body.results[1].errors.map((e: { field: string }) => e.field)).toEqual(['subject']);

    const records = await recordsFor(['ce-1', 'ce-2']);
    for (const r of records) {
      expect(r.event.organizationId).toBe(org);
      expect(r.event.data).toMatchObject({
        customerId: 'user_123',
        metric: 'API_CALL',
        amount: '2',
        timestamp: '2026-11-24T10:00:00.000Z',
        properties: { model: 'gpt-4' },
      });
    }
  });
});

describe('who may send', () => {
  it('no key, a malformed or unknown key: 401; a key without events:write: 403', async () => {
    const body = { metric: 'API_CALL', amount: 1, customerId: 'user_1' };
    expect((await h.api('POST', '/v1/events', { body })).body.code).toBe('UNAUTHENTICATED');
    expect((await h.api('POST', '/v1/events', { apiKey: 'nope', body })).body.code).toBe('API_KEY_INVALID');
    const unknown = `uf_live_${'a'.repeat(43)}`;
    expect((await h.api('POST', '/v1/events', { apiKey: unknown, body })).status).toBe(401);
    const { key } = await h.apiKey(randomUUID(), { scopes: ['usage:read'] });
    const forbidden = await h.api('POST', '/v1/events', { apiKey: key, body });
    expect([forbidden.status, forbidden.body.code]).toEqual([403, 'FORBIDDEN']);
  });

  it('a revoked key is refused within seconds of the revocation event', async () => {
    const { org, key, apiKeyId } = await h.organization();
    const send = () =>
      h.api('POST', '/v1/events', { apiKey: key, body: { metric: 'API_CALL', amount: 1, customerId: 'user_1' } });
    expect((await send()).status).toBe(202);
    const revokedAt = Date.now();
    await h.revoke(org, apiKeyId);
    const refused = await waitFor('the revocation to apply', async () => {
      const res = await send();
      return res.status === 401 ? res : undefined;
    });
    expect(refused.body.code).toBe('API_KEY_REVOKED');
    expect(Date.now() - revokedAt).toBeLessThan(5_000);
  });

  it("a key of organization A can never produce for organization B: the organization is the key's", async () => {
    const a = await h.organization();
    const b = await h.organization();
    const smuggled = await h.api('POST', '/v1/events', {
      apiKey: a.key,
      body: { metric: 'API_CALL', amount: 1, customerId: 'user_1', organizationId: b.org },
    });
    expect([smuggled.status, smuggled.body.errors[0].field]).toEqual([400, 'organizationId']);
    const id = randomUUID();
    const res = await h.api('POST', '/v1/events', {
      apiKey: a.key,
      headers: { 'x-usageflow-organization': b.org },
      body: { id, metric: 'API_CALL', amount: 1, customerId: 'user_1' },
    });
    expect(res.status).toBe(202);
    const [record] = await recordsFor([id]);
    expect([record!.event.organizationId, record!.key]).toEqual([a.org, `${a.org}:user_1`]);
  });
});

describe('the API document', () => {
  it('serves both routes at /openapi.json', async () => {
    const doc = (await h.api('GET', '/openapi.json')).body;
    expect(Object.keys(doc.paths).sort()).toEqual(['/v1/events', '/v1/events/batch']);
  });
});

describe('limits', () => {
  it('bodies over the byte limit and batches over the event limit are 413; nothing is produced', async () => {
    const { key } = await h.organization();
    const huge = await h.api('POST', '/v1/events/batch', {
      apiKey: key,
      rawBody: JSON.stringify({ events: [{ metric: 'API_CALL', amount: 1, customerId: 'x'.repeat(70 * 1024) }] }),
    });
    expect([huge.status, huge.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const events = Array.from({ length: 51 }, (_, i) => ({
      id: `too-many-${i}`,
      metric: 'API_CALL',
      amount: 1,
      customerId: 'u',
    }));
    const tooMany = await h.api('POST', '/v1/events/batch', { apiKey: key, body: { events } });
    expect([tooMany.status, tooMany.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.usage.filter((r) => String(r.event.data.eventId).startsWith('too-many-'))).toEqual([]);
  });

  it('over its rate an API key gets 429 with Retry-After; other keys are not affected', async () => {
    const { key } = await h.organization();
    const other = await h.organization();
    const events = Array.from({ length: 50 }, (_, i) => ({ metric: 'API_CALL', amount: 1, customerId: `u${i}` }));
    expect((await h.api('POST', '/v1/events/batch', { apiKey: key, body: { events } })).status).toBe(202);
    const limited = await h.api('POST', '/v1/events/batch', { apiKey: key, body: { events } });
    expect([limited.status, limited.body.code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await h.api('POST', '/v1/events/batch', { apiKey: other.key, body: { events } })).status).toBe(202);
  });

  it('live keys refuse timestamps too far in the future or past; test-mode keys (test clocks) take any time', async () => {
    const live = await h.organization();
    const test = await h.organization({ mode: 'test' });
    const at = (timestamp: string) => ({ metric: 'API_CALL', amount: 1, customerId: 'u', timestamp });
    const future = new Date(Date.now() + 3_600_000).toISOString();
    for (const timestamp of [future, '2025-03-14T12:00:00Z']) {
      const refused = await h.api('POST', '/v1/events', { apiKey: live.key, body: at(timestamp) });
      expect([refused.status, refused.body.errors[0].field]).toEqual([400, 'timestamp']);
      expect((await h.api('POST', '/v1/events', { apiKey: test.key, body: at(timestamp) })).status).toBe(202);
    }
  });
});
