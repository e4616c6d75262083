// Webhook delivery end to end on real Kafka, Postgres and local HTTP receivers: events produced
// to (test) topics are fanned out to the matching endpoints of their organization and sent,
// signed per Standard Webhooks (checked with the independent `standardwebhooks` verifier),
// retried with the same webhook-id, never lost across a stop or a crash, never held up by a slow
// receiver, never sent to an address that is not allowed.
import { type EventOf } from '@usageflow/contracts';
import { encodeEvent } from '@usageflow/kafka';
import { sampleEvent, testLogger, testTopic, uniqueName, waitFor } from '@usageflow/testkit';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { sendWebhook } from '../src/adapters/http/sender';
import { fanOut } from '../src/adapters/kafka/fanout';
import type { WebhookContext } from '../src/app/context';
import { claimDue, type DispatcherOptions } from '../src/app/dispatcher';
import { recordSuccesses } from '../src/app/success-recorder';
import type { EndpointRow } from '../src/app/endpoints';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from '../src/config';
import { generateSecret } from '../src/domain/signing';
import { buildWebhookDispatch } from '../src/service';
import { LOCAL_RECEIVERS, startReceiver, startWebhookDispatch, type Received, type WebhookDispatch } from './harness';

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

// Retries come back after 200 ms instead of the real schedule's 5 s, 5 min, ...; still 10 attempts.
const FAST_RETRIES: DispatcherOptions = { retryDelayMs: (attempt) => (attempt < 10 ? 200 : null) };

const receivers: Receiver[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  // receivers first (a hanging one would hold up a dispatcher's stop), then workers, then schemas
  for (const r of receivers.splice(0)) await r.close();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A service of its own (own schema) with a test topic; `startWorkers` runs fan-out and dispatcher on it. */
async function setup(config: Partial<WebhookSettings> = {}) {
  const h = await startWebhookDispatch({ config });
  cleanups.push(() => h.stop());
  const topic = await testTopic(h.kafka, 'webhooks');
  const groupId = uniqueName('webhook_fanout');
  return {
    h,
    topic,
    /**
     * A new service instance on the same schema (as after a restart) running its workers: fan-out
     * on the test topic (same group each time), and the dispatcher.
     */
    async startWorkers(
      o: { config?: Partial<WebhookSettings>; dispatcher?: false | DispatcherOptions; fanout?: boolean } = {},
    ) {
      const service = buildWebhookDispatch({
        db: h.db,
        kafka: h.kafka,
        producer: h.producer,
        logger: testLogger('webhook-dispatch'),
        config: { ...h.ctx.settings, pollIntervalMs: 50, ...o.config },
        identityProjection: false,
        fanout: o.fanout === false ? false : { topics: [topic], groupId },
        dispatcher: o.dispatcher === false ? false : { ...FAST_RETRIES, ...o.dispatcher },
      });
      for (const worker of service.workers) await worker.start();
      let stopped = false;
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        for (const worker of [...service.workers].reverse()) await worker.stop();
      };
      cleanups.push(stop);
      return { ctx: service.ctx, stop };
    },
    /** Produces events (as the billing service would) to the test topic. */
    async produce(...events: Array<EventOf<'invoice.created'>>) {
      await h.producer.send(
        topic,
        events.map((e) => encodeEvent(e).message),
      );
    },
  };
}

async function receiver(respond?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  const r = await startReceiver(respond);
  receivers.push(r);
  return r;
}

/** Registers an endpoint over the API as a DEVELOPER of `org`. */
async function createEndpoint(h: WebhookDispatch, org: string, url: string, eventTypes = ['invoice.created']) {
  const token = await h.tokenFor(org, 'DEVELOPER');
  const res = await h.api('POST', '/v1/webhook-endpoints', { token, body: { url, eventTypes } });
  expect([res.status, res.body?.code]).toEqual([201, undefined]);
  return { id: res.body.endpoint.id as string, secret: res.body.secret as string, token };
}

function invoiceCreated(organizationId: string) {
  return sampleEvent('invoice.created', { organizationId, data: { invoiceId: randomUUID() } });
}

const headersOf = (r: Received) => r.headers as Record<string, string>;

/** The delivery log of an endpoint, as its owners see it. */
async function deliveryLog(h: WebhookDispatch, endpoint: { id: string; token: string }) {
  const res = await h.api('GET', `/v1/webhook-endpoints/${endpoint.id}/deliveries`, { token: endpoint.token });
  expect(res.status).toBe(200);
  return res.body.data as Array<{
    id: string;
    eventId: string;
    status: string;
    nextAttemptAt: string | null;
    attempts: Array<{ attempt: number; statusCode: number | null; error: string | null; latencyMs: number }>;
  }>;
}

describe('webhook dispatch', () => {
  it('delivers a body that verifies with the independent Standard Webhooks verifier', async () => {
    const s = await setup();
    const org = randomUUID();
    const r = await receiver();
    const endpoint = await createEndpoint(s.h, org, r.url);
    await s.startWorkers();
    const event = invoiceCreated(org);
    await s.produce(event);

    const [got] = await waitFor('the delivery', () => r.received.length > 0 && r.received);
    const verified = new Webhook(endpoint.secret).verify(got!.body, headersOf(got!));
    expect(verified).toEqual({
      type: 'invoice.created',
      timestamp: event.occurredAt,
      data: expect.objectContaining({
        invoiceId: event.data.invoiceId,
        amount: 120,
        amountCents: 12000,
        currency: 'USD',
        customerId: event.data.customerId,
        period: event.data.period,
      }),
    });
    expect(got!.headers).toMatchObject({ 'content-type': 'application/json', 'user-agent': 'UsageFlow-Webhooks/1' });
    const webhookId = got!.headers['webhook-id'];
    expect(webhookId).toMatch(/^msg_[0-9a-f]{32}$/);
    // a receiver holding another secret refuses it
    const other = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(() => new Webhook(other).verify(got!.body, headersOf(got!))).toThrow();

    const log = await waitFor('the DELIVERED log entry', async () => {
      const entries = await deliveryLog(s.h, endpoint);
      return entries[0]?.status === 'DELIVERED' && entries;
    });
    expect(log).toEqual([
      expect.objectContaining({ id: webhookId, eventId: event.id, status: 'DELIVERED', nextAttemptAt: null }),
    ]);
    expect(log[0]!.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: 204, error: null })]);
  });

  it('retries a failing receiver with the same webhook-id; the log shows every attempt', async () => {
    const s = await setup();
    const org = randomUUID();
    const r = await receiver((_req, i) => (i < 2 ? 500 : 200));
    const endpoint = await createEndpoint(s.h, org, r.url);
    await s.startWorkers();
    const event = invoiceCreated(org);
    await s.produce(event);

    const log = await waitFor('the DELIVERED log entry', async () => {
      const entries = await deliveryLog(s.h, endpoint);
      return entries[0]?.status === 'DELIVERED' && entries;
    });
    expect(r.received).toHaveLength(3);
    const ids = r.received.map((x) => x.headers['webhook-id']);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toBe(log[0]!.id);
    // same bytes every time; each attempt signed anew (timestamps may differ)
    expect(new Set(r.received.map((x) => x.body)).size).toBe(1);
    // the retry waited for its schedule (200 ms here), it did not hammer the receiver
    expect(r.received[1]!.at - r.received[0]!.at).toBeGreaterThanOrEqual(150);
    expect(log).toHaveLength(1);
    expect(log[0]!.attempts.map((a) => [a.attempt, a.statusCode])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(log[0]!.nextAttemptAt).toBeNull();
  });

  it('loses nothing when the dispatcher is stopped mid-retry and a new instance takes over', async () => {
    const s = await setup();
    const org = randomUUID();
    const r = await receiver((_req, i) => (i < 2 ? 503 : 204));
    const endpoint = await createEndpoint(s.h, org, r.url);
    // a retry 1.5 s after each failure: time enough to stop in between
    const first = await s.startWorkers({ dispatcher: { retryDelayMs: () => 1_500 } });
    await s.produce(invoiceCreated(org));
    await waitFor('a failed first attempt', async () => {
      const row = await s.h.db('webhook_deliveries').where({ endpoint_id: endpoint.id }).first();
      return row?.attempt_count === 1 && row;
    });
    await first.stop();

    const stopped = await s.h.db('webhook_deliveries').where({ endpoint_id: endpoint.id }).first();
    expect(stopped).toMatchObject({ status: 'PENDING', attempt_count: 1 });
    expect(r.received).toHaveLength(1);

    await s.startWorkers({ dispatcher: { retryDelayMs: () => 200 } });
    await waitFor('the delivery after the restart', () => r.received.length === 3);
    expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set([stopped.id]));
    const done = await waitFor('DELIVERED', async () => {
      const row = await s.h.db('webhook_deliveries').where({ id: stopped.id }).first();
      return row?.status === 'DELIVERED' && row;
    });
    expect(done.attempt_count).toBe(3);
    const attempts = await s.h.db('webhook_attempts').where({ delivery_id: stopped.id }).orderBy('attempt');
    expect(attempts.map((a) => [a.attempt, a.status_code])).toEqual([
      [1, 503],
      [2, 503],
      [3, 204],
    ]);
  });

  it('loses nothing when a dispatcher dies between claiming and recording: the claim runs out', async () => {
    const s = await setup();
    const org = randomUUID();
    const r = await receiver();
    const endpoint = await createEndpoint(s.h, org, r.url);
    const fanOnly = await s.startWorkers({ dispatcher: false });
    await s.produce(invoiceCreated(org));
    const row = await waitFor('the PENDING delivery', () =>
      s.h.db('webhook_deliveries').where({ endpoint_id: endpoint.id }).first(),
    );
    // A replica claims it and dies before sending anything (nothing is recorded).
    const claimedAt = Date.now();
    const crashed = await claimDue(fanOnly.ctx, {
      now: new Date(),
      leaseUntil: new Date(claimedAt + 1_500),
      limit: 10,
      perEndpoint: 4,
      busy: new Map(),
    });
    expect(crashed.map((d) => d.id)).toEqual([row.id]);
    expect(await s.h.db('webhook_deliveries').where({ id: row.id }).first()).toMatchObject({ status: 'PENDING' });

    await s.startWorkers({ fanout: false });
    const [got] = await waitFor('the delivery once the claim ran out', () => r.received.length > 0 && r.received);
    expect(got!.at - claimedAt).toBeGreaterThanOrEqual(1_400);
    expect(got!.headers['webhook-id']).toBe(row.id);
    await waitFor('DELIVERED', async () => {
      const after = await s.h.db('webhook_deliveries').where({ id: row.id }).first();
      return after?.status === 'DELIVERED';
    });
    expect(r.received).toHaveLength(1);
  });

  it('records successes in one group, each only while its claim holds and its endpoint exists', async () => {
    const s = await setup();
    const org = randomUUID();
    const r = await receiver();
    const kept = await createEndpoint(s.h, org, r.url);
    const deleted = await createEndpoint(s.h, org, `${r.url}gone`);
    const fanOnly = await s.startWorkers({ dispatcher: false });
    await s.produce(invoiceCreated(org), invoiceCreated(org));
    await waitFor('four PENDING deliveries', async () => {
      const rows = await s.h.db('webhook_deliveries').where({ organization_id: org });
      return rows.length === 4;
    });
    const claimed = await claimDue(fanOnly.ctx, {
      now: new Date(),
      leaseUntil: new Date(Date.now() + 60_000),
      limit: 10,
      perEndpoint: 4,
      busy: new Map(),
    });
    expect(claimed).toHaveLength(4);
    const [delivered, superseded] = claimed.filter((d) => d.endpoint_id === kept.id);
    // Another replica recorded this one after our claim ran out: ours must not count.
    await s.h.db('webhook_deliveries').where({ id: superseded!.id }).update({ attempt_count: 1 });
    const del = await s.h.api('DELETE', `/v1/webhook-endpoints/${deleted.id}`, { token: deleted.token });
    expect(del.status).toBe(204);

    const result = { statusCode: 204, latencyMs: 3.7, error: null };
    const outcomes = await recordSuccesses(
      fanOnly.ctx,
      claimed.map((delivery) => ({ delivery, result, at: new Date() })),
    );
    expect(Object.fromEntries(outcomes)).toEqual({
      [delivered!.id]: 'DELIVERED',
      [superseded!.id]: 'SUPERSEDED',
      ...Object.fromEntries(claimed.filter((d) => d.endpoint_id === deleted.id).map((d) => [d.id, 'ENDPOINT_GONE'])),
    });
    const rows = await s.h.db('webhook_deliveries').where({ organization_id: org }).orderBy('id');
    expect(rows.map((x) => [x.id, x.status, x.attempt_count, x.next_attempt_at === null])).toEqual(
      [
        [delivered!.id, 'DELIVERED', 1, true],
        [superseded!.id, 'PENDING', 1, false],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    const attempts = await s.h.db('webhook_attempts').whereIn('delivery_id', [delivered!.id, superseded!.id]);
    expect(attempts.map((a) => [a.delivery_id, a.attempt, a.status_code, a.latency_ms, a.error])).toEqual([
      [delivered!.id, 1, 204, 3, null],
    ]);
  });

  it('a slow endpoint does not delay a fast one', async () => {
    const s = await setup();
    const org = randomUUID();
    const slow = await receiver(() => new Promise((resolve) => setTimeout(() => resolve(204), 3_000)));
    const fast = await receiver();
    const slowEndpoint = await createEndpoint(s.h, org, slow.url);
    await createEndpoint(s.h, org, fast.url);
    await s.startWorkers({ config: { endpointConcurrency: 2 } });
    const events = Array.from({ length: 6 }, () => invoiceCreated(org));
    await s.produce(...events);

    await waitFor('every delivery at the fast receiver', () => fast.received.length === 6);
    // ...while the slow receiver has not answered once, and holds only its own two slots
    const slowAttempts = await s.h
      .db('webhook_attempts')
      .join('webhook_deliveries', 'webhook_deliveries.id', 'webhook_attempts.delivery_id')
      .where('webhook_deliveries.endpoint_id', slowEndpoint.id)
      .select('webhook_attempts.delivery_id', 'webhook_attempts.status_code', 'webhook_attempts.latency_ms');
    expect(slowAttempts).toHaveLength(0);
    expect(slow.received.length).toBeGreaterThanOrEqual(1);
    expect(slow.received.length).toBeLessThanOrEqual(2);
    expect(Math.max(...fast.received.map((x) => x.at)) - slow.received[0]!.at).toBeLessThan(3_000);
    expect(new Set(fast.received.map((x) => JSON.parse(x.body).data.invoiceId))).toEqual(
      new Set(events.map((e) => e.data.invoiceId)),
    );
  });

  it("an endpoint of organization A never receives organization B's events", async () => {
    const s = await setup();
    const [orgA, orgB] = [randomUUID(), randomUUID()];
    const [ra, rb] = [await receiver(), await receiver()];
    const a = await createEndpoint(s.h, orgA, ra.url);
    const b = await createEndpoint(s.h, orgB, rb.url);
    await s.startWorkers();
    const [eventB, eventA] = [invoiceCreated(orgB), invoiceCreated(orgA)];
    await s.produce(eventB, eventA);

    await waitFor('both deliveries', () => ra.received.length >= 1 && rb.received.length >= 1);
    // both events are fanned out by now (each reached its receiver): no cross-tenant row exists
    const rows = await s.h.db('webhook_deliveries').orderBy('endpoint_id');
    expect(rows.map((d) => [d.endpoint_id, d.organization_id, d.event_id]).sort()).toEqual(
      [
        [a.id, orgA, eventA.id],
        [b.id, orgB, eventB.id],
      ].sort(),
    );
    expect(ra.received.map((x) => JSON.parse(x.body).data.invoiceId)).toEqual([eventA.data.invoiceId]);
    expect(rb.received.map((x) => JSON.parse(x.body).data.invoiceId)).toEqual([eventB.data.invoiceId]);
    // and A cannot read B's delivery log
    const res = await s.h.api('GET', `/v1/webhook-endpoints/${b.id}/deliveries`, { token: a.token });
    expect(res.status).toBe(404);
  });

  it('refuses a private address at registration unless allow-listed', async () => {
    const s = await setup();
    const strict = await startWebhookDispatch({ config: { allowHttp: true, allowedAddresses: [] } });
    cleanups.push(() => strict.stop());
    const r = await receiver();
    const org = randomUUID();
    const url = `http://127.0.0.1:${new URL(r.url).port}/x`;

    const token = await strict.tokenFor(org, 'DEVELOPER');
    const refused = await strict.api('POST', '/v1/webhook-endpoints', {
      token,
      body: { url, eventTypes: ['invoice.paid'] },
    });
    expect([refused.status, refused.body.code, refused.body.errors?.[0]?.field]).toEqual([
      400,
      'ENDPOINT_URL_REFUSED',
      'url',
    ]);
    expect(refused.body.detail).toContain('127.0.0.1');
    expect(await strict.db('webhook_endpoints')).toHaveLength(0);
    // the same URL is accepted where 127.0.0.0/8 is allow-listed
    await createEndpoint(s.h, org, url);
  });

  it('refuses at send time when DNS now points at a private address: recorded, nothing sent', async () => {
    const s = await setup();
    const org = randomUUID();
    const r = await receiver();
    // a host name (an IP literal is its own answer and never resolved): localhost is loopback, allowed
    const endpoint = await createEndpoint(s.h, org, `http://localhost:${new URL(r.url).port}/hooks`);
    const workers = await s.startWorkers({ dispatcher: { retryDelayMs: () => 1_000 } });
    const realResolve = workers.ctx.resolve;
    // DNS changed since registration: the name now points into a private network
    workers.ctx.resolve = async () => ['10.0.0.1'];
    await s.produce(invoiceCreated(org));

    const log = await waitFor('a refused attempt', async () => {
      const entries = await deliveryLog(s.h, endpoint);
      return entries[0]?.attempts.length ? entries : undefined;
    });
    expect(log[0]!.attempts[0]).toMatchObject({ attempt: 1, statusCode: null });
    expect(log[0]!.attempts[0]!.error).toContain('10.0.0.1');
    expect(log[0]!.status).toBe('PENDING');
    expect(r.received).toHaveLength(0);

    // DNS back to loopback: the retry goes through, so the refusal above was the address check
    workers.ctx.resolve = realResolve;
    await waitFor('the retried delivery', () => r.received.length === 1);
    expect(r.received[0]!.headers['webhook-id']).toBe(log[0]!.id);
  });

  it('disables an endpoint that keeps failing, holds its deliveries, and resumes them when enabled again', async () => {
    const s = await setup();
    const org = randomUUID();
    let status = 500;
    const r = await receiver(() => status);
    const endpoint = await createEndpoint(s.h, org, r.url);
    // failing for 100 ms is "failing for days" here
    await s.startWorkers({ config: { disableAfterMs: 100 } });
    await s.produce(invoiceCreated(org));

    const disabled = await waitFor('the endpoint disabled', async () => {
      const res = await s.h.api('GET', `/v1/webhook-endpoints/${endpoint.id}`, { token: endpoint.token });
      return res.body.enabled === false && res.body;
    });
    expect(disabled.disabledReason).toBe('FAILING');
    // ...and its owners are told: the event identity mails them from, written with the change.
    const notices = await s.h.db('outbox').where({ topic: 'usageflow.webhooks.v1', key: org });
    expect(notices.map((n) => n.payload)).toEqual([
      expect.objectContaining({
        type: 'webhook_endpoint.disabled',
        organizationId: org,
        producer: 'webhook-dispatch',
        data: {
          endpointId: endpoint.id,
          url: r.url,
          reason: 'FAILING',
          failingSince: expect.any(String),
          lastError: 'HTTP 500',
        },
      }),
    ]);
    const held = await s.h.db('webhook_deliveries').where({ endpoint_id: endpoint.id }).first();
    expect(held.status).toBe('PENDING');
    const sent = r.received.length;
    expect(held.attempt_count).toBe(sent);
    // An absence: three retry intervals (200 ms each) pass without an attempt while disabled.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(r.received).toHaveLength(sent);

    status = 204;
    const enabled = await s.h.api('PATCH', `/v1/webhook-endpoints/${endpoint.id}`, {
      token: endpoint.token,
      body: { enabled: true },
    });
    expect(enabled.status).toBe(200);
    await waitFor('DELIVERED after enabling', async () => {
      const row = await s.h.db('webhook_deliveries').where({ id: held.id }).first();
      return row?.status === 'DELIVERED';
    });
    expect(r.received).toHaveLength(sent + 1);
    expect(new Set(r.received.map((x) => x.headers['webhook-id']))).toEqual(new Set([held.id]));
    const row = await s.h.db('webhook_endpoints').where({ id: endpoint.id }).first();
    expect(row).toMatchObject({ enabled: true, failing_since: null });
  });

  it('signs with both secrets during a rotation overlap', async () => {
    const s = await setup();
    const org = randomUUID();
    const r = await receiver();
    const endpoint = await createEndpoint(s.h, org, r.url);
    const rotated = await s.h.api('POST', `/v1/webhook-endpoints/${endpoint.id}/rotate-secret`, {
      token: endpoint.token,
      body: {},
    });
    expect(rotated.status).toBe(200);
    const [oldSecret, newSecret] = [endpoint.secret, rotated.body.secret as string];
    await s.startWorkers();
    await s.produce(invoiceCreated(org));

    const [got] = await waitFor('the delivery', () => r.received.length > 0 && r.received);
    const signatures = headersOf(got!)['webhook-signature']!.split(' ');
    expect(signatures).toHaveLength(2);
    expect(signatures.every((sig) => sig.startsWith('v1,'))).toBe(true);
    const only = (signature: string) => ({ ...headersOf(got!), 'webhook-signature': signature });
    // the current secret's signature first, then the previous one's
    expect(() => new Webhook(newSecret).verify(got!.body, only(signatures[0]!))).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(got!.body, only(signatures[1]!))).not.toThrow();
    expect(() => new Webhook(oldSecret).verify(got!.body, only(signatures[0]!))).toThrow();
    expect(() => new Webhook(newSecret).verify(got!.body, only(signatures[1]!))).toThrow();
  });

  it('a redelivered event creates one delivery per endpoint', async () => {
    const s = await setup();
    const org = randomUUID();
    const [r1, r2] = [await receiver(), await receiver()];
    const e1 = await createEndpoint(s.h, org, r1.url);
    const e2 = await createEndpoint(s.h, org, r2.url);
    await s.startWorkers();
    const [twice, after] = [invoiceCreated(org), invoiceCreated(org)];
    // the same subscription: one key, one partition, so `after` is consumed after both copies
    await s.produce(twice);
    await s.produce(twice, after);

    await waitFor('the later event at both receivers', () =>
      [r1, r2].every((r) => r.received.some((x) => JSON.parse(x.body).data.invoiceId === after.data.invoiceId)),
    );
    const rows = await s.h.db('webhook_deliveries').where({ event_id: twice.id });
    expect(rows.map((d) => d.endpoint_id).sort()).toEqual([e1.id, e2.id].sort());
    for (const r of [r1, r2]) {
      expect(r.received.filter((x) => JSON.parse(x.body).data.invoiceId === twice.data.invoiceId)).toHaveLength(1);
    }
    // past the inbox too: fanning the same event out again creates nothing
    const again = await s.h.db.transaction((trx) => fanOut(trx, [twice], new Date()));
    expect(again).toBe(0);
    expect(await s.h.db('webhook_deliveries').where({ event_id: twice.id })).toHaveLength(2);
  });
});

describe('one attempt (the HTTP sender)', () => {
  const ctx = {
    clock: () => new Date(),
    settings: { ...DEFAULT_WEBHOOK_SETTINGS, ...LOCAL_RECEIVERS, timeoutMs: 500, maxResponseBytes: 1024 },
    resolve: async () => ['127.0.0.1'],
  } as unknown as WebhookContext;
  const delivery = { id: 'msg_sender', payload: '{"type":"invoice.created"}' };

  /** A local server answering with `handler`; closed after the test. */
  async function server(handler: RequestListener) {
    const srv = createServer(handler);
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          srv.closeAllConnections();
          srv.close(() => resolve());
        }),
    );
    return `http://127.0.0.1:${(srv.address() as AddressInfo).port}/hooks`;
  }
  const endpointAt = (url: string) =>
    ({
      url,
      secret: generateSecret(randomBytes),
      previous_secret: null,
      previous_secret_expires_at: null,
    }) as EndpointRow;

  it('does not follow a redirect: a 3xx is a failure', async () => {
    const target = await receiver();
    const url = await server((_req, res) => res.writeHead(302, { location: target.url }).end());
    const result = await sendWebhook(ctx, endpointAt(url), delivery);
    expect(result).toMatchObject({ statusCode: 302, error: 'redirect not followed' });
    expect(target.received).toHaveLength(0);
  });

  it('gives up at the deadline when the receiver does not answer', async () => {
    let requests = 0;
    const url = await server(() => void requests++); // never answers
    const result = await sendWebhook(ctx, endpointAt(url), delivery);
    expect(requests).toBe(1);
    expect(result).toMatchObject({ statusCode: null, error: 'timed out after 500 ms' });
    expect(result.latencyMs).toBeGreaterThanOrEqual(450);
    expect(result.latencyMs).toBeLessThan(2_000);
  });

  it('reads at most maxResponseBytes of an answer, then hangs up', async () => {
    // 200 with a body that never ends: only the cap can finish the attempt before the deadline
    const url = await server((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(512, 'x');
      const timer = setInterval(() => res.write(chunk), 5);
      res.on('close', () => clearInterval(timer));
    });
    const result = await sendWebhook(ctx, endpointAt(url), delivery);
    expect(result).toMatchObject({ statusCode: 200, error: null });
    expect(result.latencyMs).toBeLessThan(450);
  });
});
