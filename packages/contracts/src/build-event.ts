// Building a domain event. Pure: the id and the time come in as arguments (no clock, no random
// here), so a decider that emits events stays a plain function test, and replays are exact.
import type { DataOf, EventOf, EventType } from './event-catalog';
import { EVENT_CATALOG } from './event-catalog';
import { assertValidEvent } from './validate-event';

/** What a producer supplies for an event; type and version come from the catalog. */
export interface BuildEventInput<T extends EventType> {
  /** A fresh UUID for this event (lowercase). */
  id: string;
  organizationId: string;
  /** When the fact happened: an ISO 8601 UTC string or a Date (serialized with toISOString). */
  occurredAt: string | Date;
  /** The producing service's name. */
  producer: string;
  data: DataOf<T>;
}

/**
 * Builds the envelope of a `type` event at its catalog version and validates it, throwing
 * `ContractViolationError` rather than letting an invalid event reach the outbox.
 */
export function buildEvent<T extends EventType>(type: T, input: BuildEventInput<T>): EventOf<T> {
  const event = {
    id: input.id,
    type,
    version: EVENT_CATALOG[type].version,
    organizationId: input.organizationId,
    occurredAt: typeof input.occurredAt === 'string' ? input.occurredAt : input.occurredAt.toISOString(),
    producer: input.producer,
    data: input.data,
  };
  assertValidEvent(event);
  return event as EventOf<T>;
}
