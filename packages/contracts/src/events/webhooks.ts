// Events of `usageflow.webhooks.v1`, produced by webhook-dispatch, keyed by organizationId.
// Consumers: identity, which e-mails an organization's owners and developers (the roles that
// manage endpoints) when one of its endpoints was disabled, so they learn of it from us rather
// than from the events they missed.
import { Type } from '@sinclair/typebox';
import { Closed, Described, IsoDateTime, StringEnum, Uuid } from '../common';
import { defineEvent, keyByOrganization } from '../event-definition';
import { TOPICS } from '../topics';
import { exampleEventId } from './examples';

const topic = TOPICS.webhooks;

/**
 * webhook_endpoint.disabled: UsageFlow disabled a webhook endpoint because every attempt to it
 * failed since `failingSince`, for longer than the configured window. Its deliveries are held
 * (PENDING), not dropped: enabling the endpoint again resumes them.
 */
export const WebhookEndpointDisabledData = Closed({
  endpointId: Uuid,
  url: Type.String({ minLength: 1, maxLength: 2048 }),
  reason: Described(
    StringEnum(['FAILING'] as const),
    "Why UsageFlow disabled it (the endpoint's disabledReason; one its owners disabled is not announced).",
  ),
  failingSince: Described(IsoDateTime, 'The first failed attempt of the streak that disabled it.'),
  lastError: Type.Optional(
    Described(Type.String({ maxLength: 500 }), 'What the last attempt got: a status code or the error.'),
  ),
});

/** The webhooks topic's event types. */
export const WEBHOOK_EVENTS = [
  defineEvent({
    type: 'webhook_endpoint.disabled',
    version: 1,
    topic,
    key: keyByOrganization,
    description: 'A webhook endpoint was disabled because every attempt failed for too long; its deliveries are held.',
    data: WebhookEndpointDisabledData,
    examples: [
      {
        id: exampleEventId(701),
        occurredAt: '2025-03-12T09:00:00.000Z',
        data: {
          endpointId: '3d1c2b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
          url: 'https://billing.example.com/webhooks/usageflow',
          reason: 'FAILING',
          failingSince: '2025-03-09T08:41:17.000Z',
          lastError: 'HTTP 503',
        },
      },
    ],
  }),
] as const;
