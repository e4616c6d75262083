// Events of `usageflow.usage-events.v1`, produced by ingestion, keyed by
// organizationId + ':' + customerId. The raw usage stream; aggregation is its consumer.
import { Type } from '@sinclair/typebox';
import {
  Closed,
  CustomerId,
  DecimalString,
  ExternalEventId,
  IsoDateTime,
  MetricKey,
  UsageProperties,
  Uuid,
  Described,
} from '../common';
import { defineEvent, keyByCustomer } from '../event-definition';
import { TOPICS } from '../topics';
import { EXAMPLE_CUSTOMER_ID, EXAMPLE_IDS, exampleEventId } from './examples';

/**
 * usage.recorded: one accepted usage event, normalized by the gateway. Its identity is
 * (organizationId, eventId): the sender's id, or one the gateway generated when the sender gave
 * none. A duplicate may be published again (the sender retried); aggregation counts it once.
 */
export const UsageRecordedData = Closed({
  eventId: Described(ExternalEventId, "The sender's id for the event (its idempotency key), not the envelope id."),
  customerId: CustomerId,
  metric: MetricKey,
  amount: Described(
    DecimalString,
    'The measured amount as an exact decimal (a number sent over HTTP is converted losslessly).',
  ),
  timestamp: Described(IsoDateTime, "When the usage happened (the sender's clock, or receivedAt when it gave none)."),
  properties: Described(UsageProperties, 'Free-form dimensions; `{}` when none were sent.'),
  receivedAt: Described(IsoDateTime, "When the gateway accepted it: decides lateness against a period's closing."),
  apiKeyId: Type.Optional(Described(Uuid, 'The API key that sent it.')),
});

/** The usage topic's event types. */
export const USAGE_EVENTS = [
  defineEvent({
    type: 'usage.recorded',
    version: 1,
    topic: TOPICS.usageEvents,
    key: keyByCustomer,
    description: 'A usage event was accepted by the gateway (raw, before deduplication).',
    data: UsageRecordedData,
    examples: [
      {
        id: exampleEventId(401),
        occurredAt: '2025-03-14T12:00:00.120Z',
        data: {
          eventId: 'req_8f2a1c',
          customerId: EXAMPLE_CUSTOMER_ID,
          metric: 'API_CALL',
          amount: '1',
          timestamp: '2025-03-14T12:00:00.000Z',
          properties: { endpoint: '/v1/chat', model: 'gpt-4', cached: false },
          receivedAt: '2025-03-14T12:00:00.120Z',
          apiKeyId: EXAMPLE_IDS.apiKey,
        },
      },
      {
        id: exampleEventId(402),
        occurredAt: '2025-03-14T12:00:01.000Z',
        data: {
          eventId: 'a3c1d6a0-1f7e-4c1b-9f57-3d1b8f0a6e21',
          customerId: EXAMPLE_CUSTOMER_ID,
          metric: 'STORAGE_GB',
          amount: '2.5',
          timestamp: '2025-03-14T12:00:01.000Z',
          properties: {},
          receivedAt: '2025-03-14T12:00:01.000Z',
        },
      },
    ],
  }),
] as const;
