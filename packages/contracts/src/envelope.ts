// The one envelope of every domain event on every topic. Consumers outside UsageFlow read these
// topics directly, so the envelope is public API: it is closed (an unknown field is a contract
// violation, not an extension point) and evolves only through a new `.vN` topic.
// Trace context travels in Kafka headers, not here, so the payload stays a pure business fact.
import {
  Type,
  type Static,
  type TSchema,
  type TLiteral,
  type TObject,
  type TString,
  type TInteger,
} from '@sinclair/typebox';
import { Described, IsoDateTime, OrganizationId, Uuid } from './common';

/** The shape of an event type: dotted lowercase words, past tense ("invoice.created"). */
export const EVENT_TYPE_PATTERN = '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$';

/** The shape of a producer: a service name in kebab-case ("billing", "webhook-dispatch"). */
export const PRODUCER_PATTERN = '^[a-z][a-z0-9-]{0,62}$';

/** The producing service's name. */
export const Producer = Type.String({
  pattern: PRODUCER_PATTERN,
  description: 'The service that produced it ("billing").',
});

const EventId = Described(Uuid, 'Unique id of this event; consumers record it to apply the event once.');
const Tenant = Described(OrganizationId, 'The organization (tenant) the fact belongs to.');
const OccurredAt = Described(
  IsoDateTime,
  "When the fact happened, ISO 8601 UTC (the producer's business time, e.g. a test clock's).",
);

/** A domain event: the envelope around the data of one event type. */
export interface Envelope<T extends string = string, Data = unknown> {
  /** Unique id of this event (UUID); consumers record it in their inbox to apply it once. */
  id: string;
  /** The event type, past tense as on the topics table ("usage.recorded"). */
  type: T;
  /** The schema version of `data` for this type (starts at 1). */
  version: number;
  /** The tenant the fact belongs to; every consumer scopes its projection by it. */
  organizationId: string;
  /** When the fact happened, ISO 8601 UTC (the producer's business time, e.g. a test clock's). */
  occurredAt: string;
  /** The service that produced it ("billing"). */
  producer: string;
  /** The event type's payload. */
  data: Data;
}

/** The envelope schema of one event type: `type` and `version` fixed, `data` the type's schema. */
export function EnvelopeSchema<T extends string, V extends number, D extends TSchema>(
  type: T,
  version: V,
  data: D,
): TObject<{
  id: typeof Uuid;
  type: TLiteral<T>;
  version: TLiteral<V>;
  organizationId: typeof OrganizationId;
  occurredAt: typeof IsoDateTime;
  producer: typeof Producer;
  data: D;
}> {
  return Type.Object(
    {
      id: EventId,
      type: Type.Literal(type, { description: 'The event type.' }),
      version: Type.Literal(version, { description: 'The schema version of `data` for this type.' }),
      organizationId: Tenant,
      occurredAt: OccurredAt,
      producer: Producer,
      data,
    },
    { additionalProperties: false },
  );
}

/**
 * The envelope of any event, whatever its type: what can be checked before the type is known
 * (routing, DLQ triage, unknown types).
 */
export const AnyEnvelope: TObject<{
  id: typeof Uuid;
  type: TString;
  version: TInteger;
  organizationId: typeof OrganizationId;
  occurredAt: typeof IsoDateTime;
  producer: typeof Producer;
  data: TObject;
}> = Type.Object(
  {
    id: EventId,
    type: Type.String({ pattern: EVENT_TYPE_PATTERN, maxLength: 100 }),
    version: Type.Integer({ minimum: 1 }),
    organizationId: Tenant,
    occurredAt: OccurredAt,
    producer: Producer,
    data: Type.Object({}),
  },
  { additionalProperties: false },
);
/** Any well-formed envelope, its data not yet checked against its type. */
export type AnyEnvelope = Static<typeof AnyEnvelope>;
