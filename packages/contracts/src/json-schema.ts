// The contracts as standalone JSON Schema documents (2020-12), for consumers outside UsageFlow
// and for the OpenAPI document. `scripts/emit-json-schemas.cjs` writes them to `schemas/`.
// They are derived from the TypeBox schemas, never edited by hand.
import type { TSchema } from '@sinclair/typebox';
import { EVENT_CATALOG, EVENT_TYPES, eventEnvelopeSchema, type EventType } from './event-catalog';
import { ProblemDetails } from './http/problem';
import { UsageEventBatchBody, UsageEventBody } from './http/usage-event';

/** The JSON Schema dialect of every emitted document. */
export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** The base of every emitted document's `$id` (an identifier; not necessarily resolvable). */
export const JSON_SCHEMA_BASE_URI = 'https://schemas.usageflow.dev/';

/** A standalone JSON Schema document. */
export type JsonSchemaDocument = Record<string, unknown> & { $schema: string; $id: string };

// JSON round trip: drops TypeBox's symbol-keyed metadata and shares no object with the live schema.
function plain(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

/** The path of an event type's document under `schemas/` ("events/invoice.created.v1.json"). */
export function eventJsonSchemaPath(type: EventType): string {
  return `events/${type}.v${EVENT_CATALOG[type].version}.json`;
}

/** The standalone document of one event type: the envelope with its `data` schema inlined. */
export function eventJsonSchema(type: EventType): JsonSchemaDocument {
  const definition = EVENT_CATALOG[type];
  return {
    $schema: JSON_SCHEMA_DIALECT,
    $id: `${JSON_SCHEMA_BASE_URI}${eventJsonSchemaPath(type)}`,
    title: `${type} v${definition.version}`,
    description: `${definition.description} Topic: ${definition.topic}.`,
    ...plain(eventEnvelopeSchema(type)),
    examples: JSON.parse(JSON.stringify(definition.examples)) as unknown[],
  };
}

const HTTP_SCHEMAS: ReadonlyArray<readonly [name: string, title: string, schema: TSchema]> = [
  ['problem', 'Problem details (RFC 9457)', ProblemDetails],
  ['usage-event', 'POST /v1/events body', UsageEventBody],
  ['usage-event-batch', 'POST /v1/events/batch body', UsageEventBatchBody],
];

/** Every standalone document, keyed by its path under `schemas/`. */
export function allJsonSchemas(): Record<string, JsonSchemaDocument> {
  const documents: Record<string, JsonSchemaDocument> = {};
  for (const type of EVENT_TYPES) documents[eventJsonSchemaPath(type)] = eventJsonSchema(type);
  for (const [name, title, schema] of HTTP_SCHEMAS) {
    const path = `http/${name}.json`;
    documents[path] = { $schema: JSON_SCHEMA_DIALECT, $id: `${JSON_SCHEMA_BASE_URI}${path}`, title, ...plain(schema) };
  }
  return documents;
}
