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

/** The 202 answer to `POST /v1/events/batch`: the events' ids, in request order. */
export const UsageEventBatchAccepted = Type.Object(
  { accepted: Type.Integer({ minimum: 1 }), ids: Type.Array(ExternalEventId) },
  { additionalProperties: false },
);
export type UsageEventBatchAccepted = Static<typeof UsageEventBatchAccepted>;

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
