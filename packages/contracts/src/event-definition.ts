// How one event type is declared: its schema, where it goes, how it is keyed, and examples.
// Each `events/<area>.ts` declares its types with `defineEvent`; `event-catalog.ts` indexes them.
import type { Static, TSchema } from '@sinclair/typebox';
import type { Envelope } from './envelope';
import { topicOwner, type Topic } from './topics';

/** Everything known about one event type. */
export interface EventDefinition<T extends string = string, S extends TSchema = TSchema, P extends Topic = Topic> {
  /** The event type ("invoice.created"). */
  readonly type: T;
  /** The current schema version of `data`. */
  readonly version: number;
  /** The topic it is published on. */
  readonly topic: P;
  /** The service that produces it (the topic's owner), also the envelope's `producer`. */
  readonly producer: string;
  /** What the fact means, for docs and the emitted JSON Schema. */
  readonly description: string;
  /** The schema of `data`. */
  readonly data: S;
  /** The Kafka message key, which fixes the partition and so the order consumers see. */
  key(event: Envelope<T, Static<S>>): string;
  /** Complete, valid envelopes (validated by the tests; published in the JSON Schemas). */
  readonly examples: readonly Envelope<T, Static<S>>[];
}

/** What an example gives; the envelope's type, version, producer and tenant are filled in. */
export interface ExampleSpec<D> {
  id: string;
  occurredAt: string;
  data: D;
  organizationId?: string;
}

/** The tenant of every example: the reference scenario's CloudAI organization. */
export const EXAMPLE_ORGANIZATION_ID = '2a53f096-5115-4b80-8205-6621e87546c3';

/** Declares an event type (see `EventDefinition`); examples get a complete envelope. */
export function defineEvent<const T extends string, S extends TSchema, const P extends Topic>(def: {
  type: T;
  version: number;
  topic: P;
  description: string;
  data: S;
  key: (event: Envelope<T, Static<S>>) => string;
  examples: readonly ExampleSpec<Static<NoInfer<S>>>[];
}): EventDefinition<T, S, P> {
  const producer = topicOwner(def.topic);
  const examples = def.examples.map((example): Envelope<T, Static<S>> => ({
    id: example.id,
    type: def.type,
    version: def.version,
    organizationId: example.organizationId ?? EXAMPLE_ORGANIZATION_ID,
    occurredAt: example.occurredAt,
    producer,
    data: example.data,
  }));
  return Object.freeze({
    type: def.type,
    version: def.version,
    topic: def.topic,
    producer,
    description: def.description,
    data: def.data,
    key: def.key,
    examples: Object.freeze(examples),
  });
}

// The keys of the topics table. Kafka orders messages per key, so the key is the unit whose
// history must stay in order for its consumers.

/** Key by tenant: identity and catalog facts of one organization stay in order. */
export function keyByOrganization(event: { organizationId: string }): string {
  return event.organizationId;
}

/** Key by subscription: a subscription's periods, summaries and invoices stay in order. */
export function keyBySubscription(event: { data: { subscriptionId: string } }): string {
  return event.data.subscriptionId;
}

/** Key by test clock: a clock's advances stay in order. */
export function keyByTestClock(event: { data: { testClockId: string } }): string {
  return event.data.testClockId;
}

/**
 * Key by tenant and customer: one customer's usage stays in one partition (ordered for LATEST,
 * and spread across partitions by customer). The organization id is a fixed-length UUID, so a
 * `:` inside a customer id cannot make two tenants' keys collide.
 */
export function keyByCustomer(event: { organizationId: string; data: { customerId: string } }): string {
  return `${event.organizationId}:${event.data.customerId}`;
}
