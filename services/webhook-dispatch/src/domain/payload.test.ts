import { EVENT_CATALOG, EVENT_TYPES, TOPICS, eventTypesOn, type DomainEvent } from '@usageflow/contracts';
import { WEBHOOK_EVENT_TYPES, isWebhookEvent, matchesEndpoint, webhookPayload } from './payload';

const invoiceCreated = EVENT_CATALOG['invoice.created'].examples[0]!;
const suspended = EVENT_CATALOG['subscription.suspended'].examples[0]!;

describe('WEBHOOK_EVENT_TYPES', () => {
  it('holds every type of the invoices and subscriptions topics, and only those', () => {
    const expected = [...eventTypesOn(TOPICS.subscriptions), ...eventTypesOn(TOPICS.invoices)];
    expect([...WEBHOOK_EVENT_TYPES].sort()).toEqual(expected.sort());
    expect(WEBHOOK_EVENT_TYPES).toEqual(
      expect.arrayContaining(['invoice.created', 'invoice.paid', 'invoice.failed', 'subscription.suspended']),
    );
    for (const type of EVENT_TYPES.filter((t) => !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(t))) {
      expect([TOPICS.invoices, TOPICS.subscriptions]).not.toContain(EVENT_CATALOG[type].topic);
    }
  });

  it('leaves out the internal topics (usage, summaries, identity, catalog)', () => {
    for (const topic of [TOPICS.usageEvents, TOPICS.usageSummaries, TOPICS.identity, TOPICS.catalog]) {
      for (const type of eventTypesOn(topic)) expect(WEBHOOK_EVENT_TYPES).not.toContain(type);
    }
  });
});

describe('matchesEndpoint', () => {
  it('matches exactly the types the endpoint chose', () => {
    expect(matchesEndpoint('invoice.created', ['invoice.created', 'invoice.paid'])).toBe(true);
    expect(matchesEndpoint('invoice.failed', ['invoice.created', 'invoice.paid'])).toBe(false);
    expect(matchesEndpoint('invoice.created', [])).toBe(false);
    expect(matchesEndpoint('invoice.created', ['invoice.*', 'INVOICE.CREATED'])).toBe(false);
  });

  it('never matches a type that is not deliverable, even if listed', () => {
    const internal = eventTypesOn(TOPICS.usageEvents)[0]!;
    expect(matchesEndpoint(internal, [internal])).toBe(false);
    expect(matchesEndpoint('nope.happened', ['nope.happened'])).toBe(false);
  });
});

describe('webhookPayload', () => {
  it('gives invoice.created as in the product docs: type, timestamp, data with the amounts', () => {
    const payload = webhookPayload(invoiceCreated);
    expect(payload.type).toBe('invoice.created');
    expect(payload.timestamp).toBe(invoiceCreated.occurredAt);
    expect(payload.data).toMatchObject({
      invoiceId: invoiceCreated.data.invoiceId,
      amount: 120,
      amountCents: 12000,
      currency: 'USD',
      customerId: 'user_123',
      period: { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' },
    });
    expect(Object.keys(payload)).toEqual(['type', 'timestamp', 'data']);
  });

  it('serializes to the documented shape', () => {
    const body = JSON.parse(JSON.stringify(webhookPayload(invoiceCreated)));
    expect(body).toEqual({ type: 'invoice.created', timestamp: '2025-04-01T01:00:10.000Z', data: invoiceCreated.data });
  });

  it('carries subscription events the same way', () => {
    expect(webhookPayload(suspended)).toEqual({
      type: 'subscription.suspended',
      timestamp: suspended.occurredAt,
      data: suspended.data,
    });
  });

  it('refuses an event that is not delivered by webhook', () => {
    const internal = EVENT_CATALOG[eventTypesOn(TOPICS.usageEvents)[0]!].examples[0] as unknown as DomainEvent;
    expect(isWebhookEvent(internal)).toBe(false);
    expect(isWebhookEvent(invoiceCreated)).toBe(true);
    expect(() => webhookPayload(internal as never)).toThrow(/not delivered by webhook/);
  });
});
