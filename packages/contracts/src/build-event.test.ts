import { buildEvent } from './build-event';
import { EVENT_CATALOG } from './event-catalog';
import { ContractViolationError } from './errors';
import { validateEvent } from './validate-event';

const organizationId = '2a53f096-5115-4b80-8205-6621e87546c3';
const subscriptionId = '974ebc8e-25b6-403c-bf8e-838c1d977c08';

describe('buildEvent', () => {
  it('builds a valid envelope at the catalog version from the given id and time', () => {
    // given the data of a period summary
    const data = {
      subscriptionId,
      customerId: 'user_123',
      planCode: 'pro',
      planVersion: 1,
      period: { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' },
      metrics: [{ metricKey: 'API_CALL', aggregation: 'SUM' as const, quantity: '12000', eventCount: 12000 }],
      fingerprint: 'a'.repeat(64),
      highWaterMarks: [{ partition: 0, offset: '5012' }],
    };
    // when the event is built
    const event = buildEvent('usage.period_summarized', {
      id: '8b152ea3-25e7-4fce-b6ae-1906662221ad',
      organizationId,
      occurredAt: '2025-04-01T01:00:05.000Z',
      producer: 'aggregation',
      data,
    });
    // then it is the complete envelope, and valid
    expect(event).toEqual({
      id: '8b152ea3-25e7-4fce-b6ae-1906662221ad',
      type: 'usage.period_summarized',
      version: EVENT_CATALOG['usage.period_summarized'].version,
      organizationId,
      occurredAt: '2025-04-01T01:00:05.000Z',
      producer: 'aggregation',
      data,
    });
    expect(validateEvent(event)).toEqual({ ok: true, event });
  });

  it('serializes a Date occurredAt as ISO 8601 UTC', () => {
    const event = buildEvent('plan.archived', {
      id: 'a35e3aef-8611-40b3-ad38-ce0138c50eb0',
      organizationId,
      occurredAt: new Date(Date.UTC(2025, 5, 1)),
      producer: 'subscription',
      data: { code: 'pro', archivedAt: '2025-06-01T00:00:00.000Z' },
    });
    expect(event.occurredAt).toBe('2025-06-01T00:00:00.000Z');
  });

  it('is pure: the same input builds the same event', () => {
    const input = {
      id: 'adb7da7b-fd23-480c-a4de-5689dd1bc9cb',
      organizationId,
      occurredAt: '2025-03-01T00:00:00.000Z',
      producer: 'subscription',
      data: { testClockId: '072e9aa5-c191-48d4-a29a-36d0bd697388', frozenTime: '2025-03-01T00:00:00.000Z' },
    };
    expect(buildEvent('test_clock.created', input)).toEqual(buildEvent('test_clock.created', input));
  });

  it('refuses to build an invalid event, so it never reaches the outbox', () => {
    // given usage data with a float-ish amount (a pattern the type checker cannot see)
    const data = {
      eventId: 'req_1',
      customerId: 'user_123',
      metric: 'API_CALL',
      amount: '1e5',
      timestamp: '2025-03-14T12:00:00.000Z',
      properties: {},
      receivedAt: '2025-03-14T12:00:00.000Z',
    };
    // when built, then it throws naming the field
    expect(() =>
      buildEvent('usage.recorded', {
        id: 'f4bf1720-fc1f-4dcf-9112-adbb6c846b25',
        organizationId,
        occurredAt: '2025-03-14T12:00:00.000Z',
        producer: 'ingestion',
        data,
      }),
    ).toThrow(new ContractViolationError(['data.amount: must match pattern "^(0|[1-9]\\d*)(\\.\\d+)?$"'], 'event'));
  });
});
