// The ingestion API bodies: `POST /v1/events` (one event) and `POST /v1/events/batch`.
// The organization comes from the API key, never from the body. The gateway turns an accepted
// body into a `usage.recorded` event (see events/usage.ts).
import { Type, type Static } from '@sinclair/typebox';
import {
  CustomerId,
  DecimalString,
  ExternalEventId,
  IsoDateTime,
  MetricKey,
  UsageProperties,
  Described,
} from '../common';
import { ContractViolationError } from '../errors';
import type { RouteSpec } from './openapi';

/** The most events one batch request may carry (validated all together: all or nothing). */
export const MAX_BATCH_SIZE = 1000;

/**
 * A usage amount as sent: a decimal string ("2.5", exact, preferred) or a JSON number (`2.5`,
 * converted with `normalizeUsageAmount`). Never negative. Numbers are capped so their decimal
 * form stays within the 64 characters of a DecimalString.
 */
export const UsageAmountInput = Type.Union([Type.Number({ minimum: 0, maximum: 1e30 }), DecimalString]);

/** The body of `POST /v1/events`: one usage event. */
export const UsageEventBody = Type.Object(
  {
    id: Type.Optional(
      Described(ExternalEventId, "The sender's id for the event: resending the same id is a no-op (counted once)."),
    ),
    customerId: CustomerId,
    metric: MetricKey,
    amount: UsageAmountInput,
    timestamp: Type.Optional(
      Described(IsoDateTime, "When the usage happened, UTC; the gateway's receive time when omitted."),
    ),
    properties: Type.Optional(UsageProperties),
  },
  { additionalProperties: false },
);
export type UsageEventBody = Static<typeof UsageEventBody>;

/** The body of `POST /v1/events/batch`. */
export const UsageEventBatchBody = Type.Object(
  { events: Type.Array(UsageEventBody, { minItems: 1, maxItems: MAX_BATCH_SIZE }) },
  { additionalProperties: false },
);
export type UsageEventBatchBody = Static<typeof UsageEventBatchBody>;

/** The 202 answer to `POST /v1/events`: the event's id (the sender's, or the generated one). */
export const UsageEventAccepted = Type.Object({ id: ExternalEventId }, { additionalProperties: false });
export type UsageEventAccepted = Static<typeof UsageEventAccepted>;

/** One problem with one event: the field (relative to the event) and what is wrong. */
export const EventFieldError = Type.Object(
  { field: Type.String(), message: Type.String() },
  { additionalProperties: false },
);

/** The outcome of one event of a batch: accepted with its id, or refused with its errors. */
export const BatchEventResult = Type.Union([
  Type.Object({ index: Type.Integer({ minimum: 0 }), id: ExternalEventId }, { additionalProperties: false }),
  Type.Object(
    { index: Type.Integer({ minimum: 0 }), errors: Type.Array(EventFieldError, { minItems: 1 }) },
    { additionalProperties: false },
  ),
]);

/**
 * The answer to a batch: 202 when every event was accepted, 207 when some were refused (the
 * accepted ones were produced, the refused ones not). One result per event, in request order.
 * (A batch with nothing acceptable is a 400 problem naming `events[i].field`.)
 */
export const UsageEventBatchAccepted = Type.Object(
  {
    accepted: Type.Integer({ minimum: 1 }),
    refused: Type.Integer({ minimum: 0 }),
    results: Type.Array(BatchEventResult),
  },
  { additionalProperties: false },
);
export type UsageEventBatchAccepted = Static<typeof UsageEventBatchAccepted>;

/**
 * A CloudEvent (1.0, structured JSON mode) as ingestion maps it: `subject` is the customer, `type`
 * the metric, `time` the timestamp, `data.amount` (or `data.value`, default 1) the amount, and
 * the other scalar members of `data` the properties. Checked in full by the gateway.
 */
export const UsageCloudEvent = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: ExternalEventId,
    source: Type.String({ minLength: 1 }),
    type: MetricKey,
    subject: CustomerId,
    time: Type.Optional(Type.String()),
    datacontenttype: Type.Optional(Type.String()),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: true },
);

const DECIMAL = /^(0|[1-9]\d*)(\.\d+)?$/;

/**
 * The exact decimal string of a usage amount. A string is kept as sent; a number becomes its
 * shortest round-trip decimal (what `String(n)` prints, i.e. what the sender wrote for up to 15
 * significant digits), with any exponent expanded by moving the point in the digit string, so
 * no floating-point arithmetic touches it: `2.5` -> "2.5", `1e21` -> "1000000000000000000000",
 * `1e-7` -> "0.0000001". Throws `ContractViolationError` for a negative, non-finite or
 * oversized amount.
 */
export function normalizeUsageAmount(amount: number | string): string {
  const decimal = typeof amount === 'number' ? numberToDecimal(amount) : amount;
  if (decimal === undefined || !DECIMAL.test(decimal)) {
    throw new ContractViolationError(
      [`amount: must be a non-negative decimal, got ${JSON.stringify(String(amount))}`],
      'amount',
    );
  }
  if (decimal.length > 64) {
    throw new ContractViolationError(['amount: must NOT have more than 64 characters as a decimal'], 'amount');
  }
  return decimal;
}

function numberToDecimal(n: number): string | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined;
  const text = String(n === 0 ? 0 : n); // -0 prints "0" already; keep it explicit
  const match = /^(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!match) return text;
  const [, whole = '', fraction = '', exponentText = '0'] = match;
  const digits = whole + fraction;
  const point = whole.length + Number(exponentText);
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}

const ingestionProblems = {
  413: 'The body or the batch is too large',
  429: 'Over the rate of this API key (Retry-After says when to come back)',
  503: 'Kafka did not acknowledge in time, or the gateway is at capacity: retry with the same ids (Retry-After)',
};

/** The ingestion gateway's routes (API keys with events:write only). */
export const INGESTION_ROUTES: readonly RouteSpec[] = [
  {
    method: 'post',
    path: '/v1/events',
    operationId: 'ingestEvent',
    summary: 'Send one usage event (answered once Kafka acknowledged it)',
    tag: 'Usage events',
    auth: 'apiKey',
    scope: 'events:write',
    body: UsageEventBody,
    alternativeBodies: {
      'application/cloudevents+json': UsageCloudEvent,
      'application/cloudevents-batch+json': Type.Array(UsageCloudEvent, { minItems: 1 }),
    },
    responses: {
      202: { description: 'Accepted: on the usage topic', schema: UsageEventAccepted },
      207: { description: 'A CloudEvents batch with some events refused', schema: UsageEventBatchAccepted },
    },
    problems: { ...ingestionProblems, 422: 'The metric is not defined in your organization' },
  },
  {
    method: 'post',
    path: '/v1/events/batch',
    operationId: 'ingestEventBatch',
    summary: 'Send a batch of usage events, each accepted or refused on its own',
    tag: 'Usage events',
    auth: 'apiKey',
    scope: 'events:write',
    body: UsageEventBatchBody,
    alternativeBodies: { 'application/cloudevents-batch+json': Type.Array(UsageCloudEvent, { minItems: 1 }) },
    responses: {
      202: { description: 'Every event accepted', schema: UsageEventBatchAccepted },
      207: {
        description: 'Some events accepted (produced), some refused (not produced)',
        schema: UsageEventBatchAccepted,
      },
    },
    problems: ingestionProblems,
  },
];
