// The body of a webhook: `{ type, timestamp, data }`, the Standard Webhooks payload shape and the
// one the product documentation shows (`{"type": "invoice.created", "data": {"invoiceId": ...,
// "amount": 120, "amountCents": 12000, "currency": "USD", ...}}`).
import {
  WEBHOOK_EVENT_TYPES,
  type DataOf,
  type DomainEvent,
  type EventOf,
  type WebhookEventType,
} from '@usageflow/contracts';

// The deliverable types are declared once, in the contracts (endpoint bodies validate against them).
export { WEBHOOK_EVENT_TYPES, type WebhookEventType };

/** A domain event deliverable by webhook. */
export type WebhookEvent = { [T in WebhookEventType]: EventOf<T> }[WebhookEventType];

/** The JSON body of a webhook for event type `T`. */
export interface WebhookPayload<T extends WebhookEventType = WebhookEventType> {
  type: T;
  /** When the fact happened (the event's occurredAt), not when this attempt was made. */
  timestamp: string;
  data: DataOf<T>;
}

/** Whether `x` names an event type an endpoint can subscribe to. */
export function isWebhookEventType(x: unknown): x is WebhookEventType {
  return typeof x === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(x);
}

/** Whether a domain event is deliverable by webhook (narrows it for `webhookPayload`). */
export function isWebhookEvent(event: DomainEvent): event is WebhookEvent {
  return isWebhookEventType(event.type);
}

/** Whether an endpoint subscribed to `endpointTypes` receives events of `eventType`. */
export function matchesEndpoint(eventType: string, endpointTypes: readonly string[]): boolean {
  // An endpoint gets exactly the types it chose; a stored type that is no longer deliverable
  // matches nothing rather than leaking an internal event.
  return isWebhookEventType(eventType) && endpointTypes.includes(eventType);
}

/**
 * The webhook body of an event. `data` is the event's data as published: these topics are
 * public contract already (closed schemas that change only through a new topic version), so the
 * webhook tells a receiver the same fact, with the same fields, as a Kafka consumer sees; for
 * invoice.created that is invoiceId, number, customerId, subscriptionId, period, currency,
 * amountCents, amount, lines, issuedAt and dueAt.
 * Serialize it once and keep the string: every retry must send (and sign) the same bytes.
 */
export function webhookPayload<T extends WebhookEventType>(event: EventOf<T>): WebhookPayload<T> {
  if (!isWebhookEventType(event.type)) throw new Error(`"${event.type}" is not delivered by webhook`);
  return { type: event.type, timestamp: event.occurredAt, data: event.data };
}
