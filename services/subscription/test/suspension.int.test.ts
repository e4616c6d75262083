// Suspension on real Postgres and Kafka: billing's invoice.failed (produced to the run's own
// invoices topic) suspends the subscription once however often it is delivered; reactivation is
// explicit; roles and tenancy on the status changes; one live subscription per plan is a setting.
import { SUBSCRIPTION_ROUTES, type EventOf } from '@usageflow/contracts';
import { encodeEvent } from '@usageflow/kafka';
import { sampleEvent, waitFor } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { PRO_PLAN, startSubscription, type Subscription } from './harness';

let s: Subscription;
beforeAll(async () => {
  s = await startSubscription();
});
afterAll(() => s?.stop());

async function subscribed() {
  const org = randomUUID();
  const token = await s.tokenFor(org, 'ADMIN');
  await s.api('POST', '/v1/metrics', { token, body: { key: 'API_CALL', name: 'API calls', unit: 'calls' } });
  await s.api('POST', '/v1/plans', { token, body: PRO_PLAN });
  await s.api('POST', '/v1/customers', { token, body: { customerId: 'user_123', name: 'User 123' } });
  const created = await s.api('POST', '/v1/subscriptions', {
    token,
    body: { customerId: 'user_123', planCode: 'pro' },
  });
  return { org, token, subscriptionId: created.body.id as string };
}

/** An invoice.failed for `subscriptionId` in `org`, as billing would publish it. */
function invoiceFailed(org: string, subscriptionId: string, invoiceId = randomUUID()): EventOf<'invoice.failed'> {
  return sampleEvent('invoice.failed', {
    organizationId: org,
    data: { subscriptionId, customerId: 'user_123', invoiceId, failedAt: '2025-04-08T02:00:00.000Z' },
  });
}

/** An invoice.paid of `invoiceId`, as billing would publish it. */
function invoicePaid(org: string, subscriptionId: string, invoiceId: string): EventOf<'invoice.paid'> {
  return sampleEvent('invoice.paid', {
    organizationId: org,
    data: { subscriptionId, customerId: 'user_123', invoiceId, paidAt: '2025-04-12T09:00:00.000Z' },
  });
}

const deliver = (...events: Array<EventOf<'invoice.failed'> | EventOf<'invoice.paid'>>) =>
  s.producer.send(
    s.invoicesTopic,
    events.map((e) => encodeEvent(e).message),
  );

/** Waits until the consumer has taken `event` (its inbox row is there). */
const applied = (event: { id: string }): Promise<unknown> =>
  waitFor(`invoice.failed ${event.id} to be consumed`, async () =>
    Boolean(await s.db('inbox').where({ event_id: event.id }).first()),
  );

const eventsFor = async (key: string, type: string) =>
  (await s.db('outbox').where({ key }).orderBy('seq')).map((r) => r.payload).filter((e) => e.type === type);

describe('suspension', () => {
  it('invoice.failed suspends the subscription once, even when delivered twice or followed by another failure', async () => {
    const { org, token, subscriptionId } = await subscribed();
    const failed = invoiceFailed(org, subscriptionId);
    const later = invoiceFailed(org, subscriptionId);
    await deliver(failed, failed, later);
    await applied(later);

    const subscription = (await s.api('GET', `/v1/subscriptions/${subscriptionId}`, { token })).body;
    expect(subscription.status).toBe('SUSPENDED');
    expect((await eventsFor(subscriptionId, 'subscription.suspended')).map((e) => [e.organizationId, e.data])).toEqual([
      [
        org,
        {
          subscriptionId,
          customerId: 'user_123',
          reason: 'PAYMENT_FAILED',
          invoiceId: failed.data.invoiceId,
          effectiveAt: '2025-04-08T02:00:00.000Z',
        },
      ],
    ]);

    // reactivation is explicit, and a second one changes nothing
    const reactivated = await s.api('POST', `/v1/subscriptions/${subscriptionId}/reactivate`, { token });
    expect(reactivated.status).toBe(200);
    expect(reactivated.body.status).toBe('ACTIVE');
    expect((await s.api('POST', `/v1/subscriptions/${subscriptionId}/reactivate`, { token })).body.status).toBe(
      'ACTIVE',
    );
    expect((await eventsFor(subscriptionId, 'subscription.reactivated')).map((e) => e.data.reason)).toEqual(['MANUAL']);

    // the old failure redelivered after the reactivation (the inbox remembers it) does not
    // suspend again; the foreign event behind it on the same partition shows it was read
    const behind = invoiceFailed(randomUUID(), subscriptionId);
    await deliver(failed, behind);
    await applied(behind);
    expect((await s.api('GET', `/v1/subscriptions/${subscriptionId}`, { token })).body.status).toBe('ACTIVE');
    expect(await eventsFor(subscriptionId, 'subscription.suspended')).toHaveLength(1);
  });

  it('paying the invoice that failed reactivates the subscription, once; paying another invoice does not', async () => {
    const { org, token, subscriptionId } = await subscribed();
    const failed = invoiceFailed(org, subscriptionId);
    const otherPaid = invoicePaid(org, subscriptionId, randomUUID());
    await deliver(failed, otherPaid);
    await applied(otherPaid);
    expect((await s.api('GET', `/v1/subscriptions/${subscriptionId}`, { token })).body.status).toBe('SUSPENDED');

    const paid = invoicePaid(org, subscriptionId, failed.data.invoiceId);
    const foreign = invoicePaid(randomUUID(), subscriptionId, failed.data.invoiceId);
    await deliver(foreign, paid, paid);
    await applied(paid);
    expect((await s.api('GET', `/v1/subscriptions/${subscriptionId}`, { token })).body.status).toBe('ACTIVE');
    expect(
      (await eventsFor(subscriptionId, 'subscription.reactivated')).map((e) => [e.organizationId, e.data]),
    ).toEqual([
      [
        org,
        {
          subscriptionId,
          customerId: 'user_123',
          reason: 'PAYMENT_SUCCEEDED',
          invoiceId: failed.data.invoiceId,
          effectiveAt: '2025-04-12T09:00:00.000Z',
        },
      ],
    ]);
  });

  it("another organization's invoice.failed never touches the subscription", async () => {
    const { token, subscriptionId } = await subscribed();
    const foreign = invoiceFailed(randomUUID(), subscriptionId);
    await deliver(foreign);
    await applied(foreign);
    expect((await s.api('GET', `/v1/subscriptions/${subscriptionId}`, { token })).body.status).toBe('ACTIVE');
    expect(await eventsFor(subscriptionId, 'subscription.suspended')).toEqual([]);
  });

  it('a cancelled subscription stays cancelled: invoice.failed is taken and changes nothing, reactivation is refused', async () => {
    const { org, token, subscriptionId } = await subscribed();
    await s.api('POST', `/v1/subscriptions/${subscriptionId}/cancel`, { token, body: { at: 'IMMEDIATELY' } });
    const failed = invoiceFailed(org, subscriptionId);
    await deliver(failed);
    await applied(failed);
    expect((await s.api('GET', `/v1/subscriptions/${subscriptionId}`, { token })).body.status).toBe('CANCELLED');
    expect(await eventsFor(subscriptionId, 'subscription.suspended')).toEqual([]);
    const reactivate = await s.api('POST', `/v1/subscriptions/${subscriptionId}/reactivate`, { token });
    expect(reactivate.status).toBe(409);
    expect(reactivate.body.code).toBe('SUBSCRIPTION_CANCELLED');
  });
});

describe('who may change a subscription', () => {
  it('VIEWER and DEVELOPER read but cannot cancel, reactivate or advance; a catalog:manage key can', async () => {
    const { org, subscriptionId } = await subscribed();
    const admin = await s.tokenFor(org, 'ADMIN');
    const clock = (
      await s.api('POST', '/v1/test-clocks', { token: admin, body: { frozenTime: '2025-03-01T00:00:00Z' } })
    ).body.id;
    for (const role of ['VIEWER', 'DEVELOPER'] as const) {
      const token = await s.tokenFor(org, role);
      expect((await s.api('GET', `/v1/subscriptions/${subscriptionId}`, { token })).status).toBe(200);
      for (const [path, body] of [
        [`/v1/subscriptions/${subscriptionId}/cancel`, {}],
        [`/v1/subscriptions/${subscriptionId}/reactivate`, undefined],
        [`/v1/test-clocks/${clock}/advance`, { frozenTime: '2025-05-01T00:00:00Z' }],
      ] as const) {
        const refused = await s.api('POST', path, { token, body });
        expect([role, path, refused.status, refused.body.code]).toEqual([role, path, 403, 'FORBIDDEN']);
      }
    }
    const ingestOnly = await s.apiKeyFor(org, ['events:write']);
    expect((await s.api('POST', `/v1/subscriptions/${subscriptionId}/cancel`, { apiKey: ingestOnly })).status).toBe(
      403,
    );
    expect((await s.api('GET', `/v1/subscriptions/${subscriptionId}`, { token: admin })).body.cancelAt).toBeNull();

    const manager = await s.apiKeyFor(org, ['catalog:manage']);
    const cancelled = await s.api('POST', `/v1/subscriptions/${subscriptionId}/cancel`, { apiKey: manager });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.cancelAt).not.toBeNull();
  });

  it('serves every declared route in its OpenAPI document', async () => {
    const doc = (await s.api('GET', '/openapi.json')).body;
    const operations = Object.values(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap(
      (item) => Object.values(item).map((op) => op.operationId),
    );
    expect(operations.sort()).toEqual(SUBSCRIPTION_ROUTES.map((r) => r.operationId).sort());
  });
});

describe('ONE_LIVE_SUBSCRIPTION_PER_PLAN=false', () => {
  let many: Subscription;
  beforeAll(async () => {
    many = await startSubscription({ config: { oneLivePerPlan: false } });
  });
  afterAll(() => many?.stop());

  it('lets a customer hold several live subscriptions to one plan', async () => {
    const token = await many.tokenFor(randomUUID(), 'ADMIN');
    await many.api('POST', '/v1/metrics', { token, body: { key: 'API_CALL', name: 'API calls', unit: 'calls' } });
    await many.api('POST', '/v1/plans', { token, body: PRO_PLAN });
    await many.api('POST', '/v1/customers', { token, body: { customerId: 'user_123', name: 'User 123' } });
    const subscribe = () =>
      many.api('POST', '/v1/subscriptions', { token, body: { customerId: 'user_123', planCode: 'pro' } });
    expect([(await subscribe()).status, (await subscribe()).status]).toEqual([201, 201]);
    const live = await many.api('GET', '/v1/subscriptions?customerId=user_123&status=ACTIVE', { token });
    expect(live.body.data).toHaveLength(2);
  });
});
