// The catalog of every domain event type: the index services, validators and the JSON Schema
// emitter read. Adding an event type means declaring it in its `events/<area>.ts`; it appears
// here, in the types below, in validation and in the emitted schemas without another edit.
import type { Static, TSchema } from '@sinclair/typebox';
import { EnvelopeSchema, type Envelope } from './envelope';
import type { EventDefinition } from './event-definition';
import { CATALOG_EVENTS } from './events/catalog';
import { IDENTITY_EVENTS } from './events/identity';
import { INVOICE_EVENTS } from './events/invoices';
import { SUBSCRIPTION_EVENTS } from './events/subscriptions';
import { SUMMARY_EVENTS } from './events/summaries';
import { USAGE_EVENTS } from './events/usage';
import { WEBHOOK_EVENTS } from './events/webhooks';
import type { Topic } from './topics';

type IndexByType<D extends readonly EventDefinition[]> = { readonly [E in D[number] as E['type']]: E };

function indexByType<const D extends readonly EventDefinition[]>(definitions: D): IndexByType<D> {
  const index: Record<string, EventDefinition> = {};
  for (const definition of definitions) {
    if (index[definition.type]) throw new Error(`event type "${definition.type}" is declared twice`);
    index[definition.type] = definition;
  }
  return Object.freeze(index) as IndexByType<D>;
}

/** Every domain event type, keyed by type: its version, topic, data schema, key and examples. */
export const EVENT_CATALOG = indexByType([
  ...IDENTITY_EVENTS,
  ...CATALOG_EVENTS,
  ...SUBSCRIPTION_EVENTS,
  ...USAGE_EVENTS,
  ...SUMMARY_EVENTS,
  ...INVOICE_EVENTS,
  ...WEBHOOK_EVENTS,
]);

type Catalog = typeof EVENT_CATALOG;

/** The name of a domain event type ("invoice.created"). */
export type EventType = keyof Catalog;

/** The `data` of an event type. */
export type DataOf<T extends EventType> = Static<Catalog[T]['data']>;

/** The complete envelope of an event type. */
export type EventOf<T extends EventType> = Envelope<T, DataOf<T>>;

/** Any domain event: a union discriminated by `type`, so `switch (event.type)` narrows `data`. */
export type DomainEvent = { [T in EventType]: EventOf<T> }[EventType];

/** The event types published on a topic. */
export type EventTypeOn<P extends Topic> = { [T in EventType]: Catalog[T]['topic'] extends P ? T : never }[EventType];

/** Every event type, in catalog order (grouped by topic as in the architecture's table). */
export const EVENT_TYPES: readonly EventType[] = Object.freeze(Object.keys(EVENT_CATALOG) as EventType[]);

/** Whether `x` names a domain event type. */
export function isEventType(x: unknown): x is EventType {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(EVENT_CATALOG, x);
}

/** The catalog entry of an event type (loosely typed, for generic code such as validators). */
export function eventDefinition(type: EventType): EventDefinition<EventType, TSchema> {
  return EVENT_CATALOG[type] as unknown as EventDefinition<EventType, TSchema>;
}

/** The event types published on `topic`, in catalog order. */
export function eventTypesOn(topic: Topic): readonly EventType[] {
  return EVENT_TYPES.filter((type) => EVENT_CATALOG[type].topic === topic);
}

/** The Kafka message key of an event, per the topics table. */
export function eventKey(event: DomainEvent): string {
  return eventDefinition(event.type).key(event);
}

/** The topic an event is published on. */
export function eventTopic(event: DomainEvent): Topic {
  return EVENT_CATALOG[event.type].topic;
}

const envelopeSchemas = new Map<EventType, TSchema>();

/** The complete envelope schema of an event type (`type` and `version` fixed, `data` inlined). */
export function eventEnvelopeSchema(type: EventType): TSchema {
  let schema = envelopeSchemas.get(type);
  if (!schema) {
    const definition = eventDefinition(type);
    schema = EnvelopeSchema(definition.type, definition.version, definition.data);
    envelopeSchemas.set(type, schema);
  }
  return schema;
}
