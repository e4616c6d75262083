// Webhook endpoints over HTTP on real Postgres: a secret shown once and never read back, rotation
// with an overlap, URL safety at registration, roles (DEVELOPER and OWNER manage, everyone
// reads, ADMIN does not), tenancy, and the delivery log's shape.
import { randomUUID } from 'node:crypto';
import { startReceiver, startWebhookDispatch, type WebhookDispatch } from './harness';

let s: WebhookDispatch;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  s = await startWebhookDispatch();
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver?.close();
  await s?.stop();
});

async function developer() {
  const org = randomUUID();
  return { org, token: await s.tokenFor(org, 'DEVELOPER') };
}

describe('webhook endpoints', () => {
  it('are registered with a secret shown once; reads never show it', async () => {
    const { token } = await developer();
    const created = await s.api('POST', '/v1/webhook-endpoints', {
      token,
      body: { url: receiver.url, eventTypes: ['invoice.created', 'invoice.paid'], description: 'billing' },
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(created.body.endpoint).toMatchObject({
      url: receiver.url,
      eventTypes: ['invoice.created', 'invoice.paid'],
      description: 'billing',
      enabled: true,
      disabledReason: null,
      previousSecretExpiresAt: null,
    });
    const id = created.body.endpoint.id;
    const read = await s.api('GET', `/v1/webhook-endpoints/${id}`, { token });
    expect(read.body).toEqual(created.body.endpoint);
    const list = await s.api('GET', '/v1/webhook-endpoints', { token });
    expect(list.body.data).toEqual([created.body.endpoint]);
    expect(JSON.stringify([read.body, list.body])).not.toContain(created.body.secret);
  });

  it('update, disable and enable again, delete; another organization gets 404 for all of it', async () => {
    const { token } = await developer();
    const id = (
      await s.api('POST', '/v1/webhook-endpoints', { token, body: { url: receiver.url, eventTypes: ['invoice.paid'] } })
    ).body.endpoint.id;
    const stranger = await s.tokenFor(randomUUID(), 'OWNER');
    for (const [method, path, body] of [
      ['GET', `/v1/webhook-endpoints/${id}`, undefined],
      ['PATCH', `/v1/webhook-endpoints/${id}`, { enabled: false }],
      ['POST', `/v1/webhook-endpoints/${id}/rotate-secret`, {}],
      ['GET', `/v1/webhook-endpoints/${id}/deliveries`, undefined],
      ['DELETE', `/v1/webhook-endpoints/${id}`, undefined],
    ] as const) {
      const res = await s.api(method, path, { token: stranger, body });
      expect([method, path, res.status, res.body?.code]).toEqual([method, path, 404, 'ENDPOINT_NOT_FOUND']);
    }

    const disabled = await s.api('PATCH', `/v1/webhook-endpoints/${id}`, { token, body: { enabled: false } });
    expect(disabled.body).toMatchObject({ enabled: false, disabledReason: 'MANUAL' });
    const changed = await s.api('PATCH', `/v1/webhook-endpoints/${id}`, {
      token,
      body: { enabled: true, eventTypes: ['invoice.failed', 'subscription.suspended'], description: null },
    });
    expect(changed.body).toMatchObject({
      enabled: true,
      disabledReason: null,
      eventTypes: ['invoice.failed', 'subscription.suspended'],
      description: null,
    });
    expect((await s.api('DELETE', `/v1/webhook-endpoints/${id}`, { token })).status).toBe(204);
    expect((await s.api('GET', `/v1/webhook-endpoints/${id}`, { token })).status).toBe(404);
  });

  it('rotating the secret shows the new one once and keeps the old one signing for the overlap', async () => {
    const { token } = await developer();
    const created = await s.api('POST', '/v1/webhook-endpoints', {
      token,
      body: { url: receiver.url, eventTypes: ['invoice.created'] },
    });
    const id = created.body.endpoint.id;
    const before = Date.now();
    const rotated = await s.api('POST', `/v1/webhook-endpoints/${id}/rotate-secret`, {
      token,
      body: { overlapSeconds: 3600 },
    });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    const expires = Date.parse(rotated.body.previousSecretExpiresAt);
    expect(expires - before).toBeGreaterThanOrEqual(3_599_000);
    expect(expires - before).toBeLessThan(3_660_000);
    const row = await s.db('webhook_endpoints').where({ id }).first();
    expect([row.secret, row.previous_secret]).toEqual([rotated.body.secret, created.body.secret]);
    expect((await s.api('GET', `/v1/webhook-endpoints/${id}`, { token })).body.previousSecretExpiresAt).toBe(
      rotated.body.previousSecretExpiresAt,
    );
  });

  it('refuses URLs that are not http(s), carry credentials, or resolve to private addresses not allow-listed', async () => {
    const { token } = await developer();
    for (const url of [
      'ftp://127.0.0.1/hooks',
      'http://user:pass@127.0.0.1/hooks',
      'http://10.0.0.1/hooks',
      'http://169.254.169.254/latest/meta-data',
      'http://[::ffff:192.168.1.1]/hooks',
      'http://no-such-host.invalid/hooks',
    ]) {
      const res = await s.api('POST', '/v1/webhook-endpoints', { token, body: { url, eventTypes: ['invoice.paid'] } });
      expect([url, res.status, res.body.code, res.body.errors?.[0]?.field]).toEqual([
        url,
        400,
        'ENDPOINT_URL_REFUSED',
        'url',
      ]);
    }
    expect((await s.api('GET', '/v1/webhook-endpoints', { token })).body.data).toEqual([]);
  });

  it('bad input names the field; nothing is written', async () => {
    const { token } = await developer();
    const bad = await s.api('POST', '/v1/webhook-endpoints', {
      token,
      body: { url: receiver.url, eventTypes: ['usage.recorded'], extra: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['eventTypes[0]', 'extra']);
    expect((await s.api('GET', '/v1/webhook-endpoints', { token })).body.data).toEqual([]);
  });

  it('DEVELOPER and OWNER manage endpoints; ADMIN and VIEWER read only; API keys have no webhook access', async () => {
    const org = randomUUID();
    const body = { url: receiver.url, eventTypes: ['invoice.created'] };
    const status = async (role: 'OWNER' | 'ADMIN' | 'DEVELOPER' | 'VIEWER') => {
      const token = await s.tokenFor(org, role);
      return [
        role,
        (await s.api('POST', '/v1/webhook-endpoints', { token, body })).status,
        (await s.api('GET', '/v1/webhook-endpoints', { token })).status,
      ];
    };
    expect([await status('OWNER'), await status('ADMIN'), await status('DEVELOPER'), await status('VIEWER')]).toEqual([
      ['OWNER', 201, 200],
      ['ADMIN', 403, 200],
      ['DEVELOPER', 201, 200],
      ['VIEWER', 403, 200],
    ]);
    const key = await s.apiKeyFor(org, ['catalog:manage']);
    expect((await s.api('GET', '/v1/webhook-endpoints', { apiKey: key })).status).toBe(401);
  });

  it('the delivery log of a new endpoint is empty, and resending an unknown delivery is 404', async () => {
    const { token } = await developer();
    const id = (
      await s.api('POST', '/v1/webhook-endpoints', { token, body: { url: receiver.url, eventTypes: ['invoice.paid'] } })
    ).body.endpoint.id;
    expect((await s.api('GET', `/v1/webhook-endpoints/${id}/deliveries`, { token })).body).toEqual({
      data: [],
      nextCursor: null,
    });
    const missing = await s.api('POST', '/v1/webhook-deliveries/msg_nope/resend', { token });
    expect([missing.status, missing.body.code]).toEqual([404, 'DELIVERY_NOT_FOUND']);
    const range = { from: '2025-01-01T00:00:00Z', to: '2030-01-01T00:00:00Z' };
    expect((await s.api('POST', `/v1/webhook-endpoints/${id}/resend-failed`, { token, body: range })).body).toEqual({
      resent: 0,
    });
  });
});
