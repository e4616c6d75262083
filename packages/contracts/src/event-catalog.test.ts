import {
  EVENT_CATALOG,
  EVENT_TYPES,
  eventDefinition,
  eventKey,
  eventTopic,
  eventTypesOn,
  isEventType,
  type DomainEvent,
  type EventType,
} from './event-catalog';
import { SYSTEM_ORGANIZATION_ID } from './common';
import { TOPICS, topicOwner, type Topic } from './topics';
import { validateEvent } from './validate-event';

// The topics table of ARCHITECTURE.md, copied on purpose rather than derived from the catalog:
// the test fails if the catalog drifts from the architecture.
const ARCHITECTURE_TOPICS: Record<Topic, string[]> = {
  'usageflow.identity.v1': [
    'organization.created',
    'organization.updated', // an addition to the table: name and settings changes
    'member.invited',
    'member.joined',
    'member.role_changed',
    'member.removed',
    'api_key.created',
    'api_key.revoked',
    'signing_key.published',
  ],
  'usageflow.catalog.v1': [
    'metric.created',
    'metric.updated',
    'plan.created',
    'plan.updated',
    'plan.archived',
    'customer.created',
    'customer.updated',
  ],
  'usageflow.subscriptions.v1': [
    'subscription.created',
    'subscription.period_closed',
    'subscription.suspended',
    'subscription.reactivated',
    'subscription.cancelled',
    'test_clock.created',
    'test_clock.advanced',
  ],
  'usageflow.usage-events.v1': ['usage.recorded'],
  'usageflow.usage-summaries.v1': ['usage.period_summarized', 'usage.late_recorded'],
  'usageflow.invoices.v1': ['invoice.created', 'invoice.paid', 'invoice.failed', 'payment.attempted'],
  // an addition to the table: webhook-dispatch tells identity (which mails the owners) of an
  // endpoint it disabled
  'usageflow.webhooks.v1': ['webhook_endpoint.disabled'],
};

const allExamples: Array<[EventType, DomainEvent]> = EVENT_TYPES.flatMap((type) =>
  EVENT_CATALOG[type].examples.map((example): [EventType, DomainEvent] => [type, example as DomainEvent]),
);

describe('event catalog', () => {
  describe('matches the architecture topics table', () => {
    it.each(Object.entries(ARCHITECTURE_TOPICS))('%s carries exactly its listed event types', (topic, types) => {
      // given the table's event types for the topic
      // when the catalog is asked which types go on that topic
      const actual = eventTypesOn(topic as Topic);
      // then they are the same types
      expect([...actual].sort()).toEqual([...types].sort());
    });

    it('declares no event type the table does not list', () => {
      const listed = Object.values(ARCHITECTURE_TOPICS).flat().sort();
      expect([...EVENT_TYPES].sort()).toEqual(listed);
    });
  });

  it.each(EVENT_TYPES.map((type) => [type]))('%s has a consistent entry with at least one example', (type) => {
    const definition = EVENT_CATALOG[type];
    expect(definition.type).toBe(type);
    expect(definition.version).toBeGreaterThanOrEqual(1);
    expect(definition.producer).toBe(topicOwner(definition.topic));
    expect(definition.description.length).toBeGreaterThan(10);
    expect(definition.examples.length).toBeGreaterThanOrEqual(1);
  });

  it.each(allExamples.map(([type, example]) => [type, example.id, example]))(
    'example %s (%s) is a valid event of its own type, version and producer',
    (type, _id, example) => {
      // given a catalog example
      // when it is validated
      const result = validateEvent(example);
      // then it passes, with the type, version and producer of its entry
      expect(result).toEqual({ ok: true, event: example });
      expect(example.type).toBe(type);
      expect(example.version).toBe(EVENT_CATALOG[type].version);
      expect(example.producer).toBe(EVENT_CATALOG[type].producer);
    },
  );

  it('gives every example a distinct envelope id', () => {
    const ids = allExamples.map(([, example]) => example.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('recognizes only catalog types', () => {
    expect(isEventType('invoice.created')).toBe(true);
    expect(isEventType('invoice.deleted')).toBe(false);
    expect(isEventType('toString')).toBe(false);
    expect(isEventType(42)).toBe(false);
  });

  describe('keys follow the topics table', () => {
    const organizationId = '2a53f096-5115-4b80-8205-6621e87546c3';
    const subscriptionId = '974ebc8e-25b6-403c-bf8e-838c1d977c08';
    const testClockId = '072e9aa5-c191-48d4-a29a-36d0bd697388';

    const expectedKey = (event: DomainEvent): string => {
      switch (eventTopic(event)) {
        case TOPICS.identity:
        case TOPICS.catalog:
        case TOPICS.webhooks:
          return event.organizationId;
        case TOPICS.usageEvents:
          return `${event.organizationId}:${(event.data as { customerId: string }).customerId}`;
        case TOPICS.subscriptions:
          return event.type.startsWith('test_clock.')
            ? (event.data as { testClockId: string }).testClockId
            : (event.data as { subscriptionId: string }).subscriptionId;
        case TOPICS.usageSummaries:
        case TOPICS.invoices:
          return (event.data as { subscriptionId: string }).subscriptionId;
      }
    };

    it.each(allExamples.map(([type, example]) => [type, example.id, example]))('%s (%s)', (_type, _id, example) => {
      expect(eventKey(example)).toBe(expectedKey(example));
    });

    it('keys identity and catalog events by organization', () => {
      const [created] = EVENT_CATALOG['metric.created'].examples;
      expect(eventKey(created as DomainEvent)).toBe(organizationId);
    });

    it('keys usage by organization and customer', () => {
      const [recorded] = EVENT_CATALOG['usage.recorded'].examples;
      expect(eventKey(recorded as DomainEvent)).toBe(`${organizationId}:user_123`);
    });

    it('keys subscription, summary and invoice events by subscription, test clocks by their id', () => {
      for (const type of ['subscription.period_closed', 'usage.period_summarized', 'invoice.created'] as const) {
        expect(eventKey(EVENT_CATALOG[type].examples[0] as DomainEvent)).toBe(subscriptionId);
      }
      expect(eventKey(EVENT_CATALOG['test_clock.advanced'].examples[0] as DomainEvent)).toBe(testClockId);
    });

    it('keys platform-wide signing keys under the system organization', () => {
      expect(eventKey(EVENT_CATALOG['signing_key.published'].examples[0] as DomainEvent)).toBe(SYSTEM_ORGANIZATION_ID);
    });
  });

  it('hands generic code a loosely typed definition of the same entry', () => {
    expect(eventDefinition('usage.recorded')).toBe(EVENT_CATALOG['usage.recorded']);
  });
});
