// Reusable building blocks of every event and HTTP body. Each one is a TypeBox schema (the
// source of truth) whose TS type is derived with `Static<>`.
//
// Schema conventions every file follows:
// - objects that we produce or accept are closed (`additionalProperties: false`) so a typo is an
//   error, not a silently dropped field;
// - money and quantities are decimal strings or integer minor units, never JS floats (the one
//   exception is the display-only `amount` in major units, see `MajorAmount`);
// - time is an ISO 8601 UTC instant with a `Z` suffix, periods are half-open [start, end).
import {
  CloneType,
  Type,
  type ObjectOptions,
  type Static,
  type TObject,
  type TProperties,
  type TSchema,
  type TUnsafe,
} from '@sinclair/typebox';
import { ROLES, API_KEY_SCOPES } from './roles';

/**
 * A string enum as `{ type: 'string', enum: [...] }`: one readable error ("must be one of ...")
 * instead of the `anyOf` of constants TypeBox's `Union` of literals would produce.
 */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: Record<string, unknown> = {},
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/** A closed object: unknown properties are rejected (the convention for every contract object). */
export function Closed<T extends TProperties>(properties: T, options: ObjectOptions = {}): TObject<T> {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/**
 * A union of closed objects told apart by a string tag (`kind`): `oneOf` + `discriminator`, so
 * a validator checks only the variant the tag names and reports that variant's errors.
 */
export function TaggedUnion<T extends TObject[]>(tag: string, variants: [...T]): TUnsafe<Static<T[number]>> {
  return Type.Unsafe<Static<T[number]>>({
    type: 'object',
    discriminator: { propertyName: tag },
    properties: { [tag]: { type: 'string' } },
    required: [tag],
    oneOf: variants,
  });
}

/**
 * A copy of `schema` with a `description`: field docs live in the schema itself, so they reach
 * the published JSON Schemas and the OpenAPI document (a shared schema such as `Uuid` is cloned,
 * never mutated).
 */
export function Described<T extends TSchema>(schema: T, description: string): T {
  return CloneType(schema, { description });
}

/** `T | null`, for fields that are always present but may be empty. */
export function Nullable<T extends TSchema>(schema: T) {
  return Type.Union([schema, Type.Null()]);
}

// Lowercase canonical form only (what Postgres `uuid` prints): ids are compared as strings in
// Kafka keys and caches, so "ABC..." and "abc..." must not both be valid spellings of one id.
const UUID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/** A UUID in lowercase canonical form. */
export const Uuid = Type.String({ format: 'uuid', pattern: UUID_PATTERN });
export type Uuid = Static<typeof Uuid>;

/** The all-zero UUID, the `organizationId` of platform-wide events (signing keys). */
export const SYSTEM_ORGANIZATION_ID = '00000000-0000-0000-0000-000000000000';

/** An organization (tenant) id. */
export const OrganizationId = Uuid;
export type OrganizationId = Uuid;

/** A user id (a person; members are users in an organization). */
export const UserId = Uuid;
export type UserId = Uuid;

/** The pattern of `IsoDateTime`: RFC 3339 in UTC with a `Z`, optional fraction up to ns. */
export const ISO_DATE_TIME_UTC_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$';

/**
 * An instant as ISO 8601 / RFC 3339 in UTC (`2025-03-01T00:00:00.000Z`, what
 * `Date#toISOString` prints). The format checks the calendar, the pattern enforces `Z`: an
 * offset such as `+02:00` is rejected, UTC is the only zone on the wire.
 */
export const IsoDateTime = Type.String({ format: 'date-time', pattern: ISO_DATE_TIME_UTC_PATTERN });
export type IsoDateTime = Static<typeof IsoDateTime>;

/** The pattern of `DecimalString`: no sign, no exponent, no leading zeros, no bare dot. */
export const DECIMAL_PATTERN = '^(0|[1-9]\\d*)(\\.\\d+)?$';

/**
 * A non-negative exact decimal as a string ("0.01", "100.00", "2.5"): prices and usage
 * quantities. Compute with a decimal library and store as Postgres `numeric`; never parse it into
 * a JS number. 64 characters is far beyond any price or usage total and keeps payloads bounded.
 */
export const DecimalString = Type.String({ pattern: DECIMAL_PATTERN, maxLength: 64 });
export type DecimalString = Static<typeof DecimalString>;

/** An ISO 4217 alphabetic currency code ("USD", "EUR", "JPY"). */
export const Currency = Type.String({ pattern: '^[A-Z]{3}$' });
export type Currency = Static<typeof Currency>;

/**
 * A non-negative amount in the currency's minor unit (cents for USD, yen for JPY), the amount
 * of record on invoices. Bounded by 2^53 - 1 so a JSON number stays exact.
 */
export const MinorUnits = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
export type MinorUnits = Static<typeof MinorUnits>;

/**
 * The same amount in major units as a JSON number (`120` for 12000 cents), published beside
 * `amountCents` because webhook receivers expect it. Display only: it is derived from the
 * minor units and must never be used for arithmetic.
 */
export const MajorAmount = Type.Number({ minimum: 0 });
export type MajorAmount = Static<typeof MajorAmount>;

/** A metric key in UPPER_SNAKE_CASE ("API_CALL"), unique within an organization. */
export const MetricKey = Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,63}$' });
export type MetricKey = Static<typeof MetricKey>;

// Control characters are refused in the ids customers choose: they end up in URLs, Kafka keys
// and log lines.
const NO_CONTROL_CHARS = '^[^\\u0000-\\u001F\\u007F]*$';

/** The organization's own id for its customer ("user_123"), unique within the organization. */
export const CustomerId = Type.String({ minLength: 1, maxLength: 255, pattern: NO_CONTROL_CHARS });
export type CustomerId = Static<typeof CustomerId>;

/** An id chosen by the sender of a usage event (its idempotency key), unique per organization. */
export const ExternalEventId = Type.String({ minLength: 1, maxLength: 255, pattern: NO_CONTROL_CHARS });
export type ExternalEventId = Static<typeof ExternalEventId>;

/** A plan code chosen by the organization ("pro", "PRO_2025"), unique within it. */
export const PlanCode = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' });
export type PlanCode = Static<typeof PlanCode>;

/** A short human label (names, titles). */
export const Label = Type.String({ minLength: 1, maxLength: 200 });

/** An e-mail address. */
export const Email = Type.String({ format: 'email', maxLength: 254 });
export type Email = Static<typeof Email>;

/** A member role (see `ROLES`). */
export const RoleSchema = StringEnum(ROLES);

/** An API key scope (see `API_KEY_SCOPES`). */
export const ApiKeyScopeSchema = StringEnum(API_KEY_SCOPES);

/** The billing intervals. */
export const INTERVALS = ['MONTHLY', 'YEARLY'] as const;
/** A plan's billing interval. */
export const Interval = StringEnum(INTERVALS);
export type Interval = Static<typeof Interval>;

/**
 * How a metric rolls its events up over a period: SUM of amounts, COUNT of events, MAX amount,
 * LATEST amount (by event timestamp), UNIQUE_COUNT of distinct values of one property.
 */
export const AGGREGATIONS = ['SUM', 'COUNT', 'MAX', 'LATEST', 'UNIQUE_COUNT'] as const;
/** A metric's aggregation. */
export const Aggregation = StringEnum(AGGREGATIONS);
export type Aggregation = Static<typeof Aggregation>;

/** A half-open time range [start, end) in UTC; `start < end` is the producer's duty. */
export const Period = Closed({ start: IsoDateTime, end: IsoDateTime });
export type Period = Static<typeof Period>;

/**
 * A Kafka offset as a decimal string: offsets are int64 and can outgrow a JS number, and
 * kafkajs hands them over as strings already.
 */
export const KafkaOffset = Type.String({ pattern: '^(0|[1-9]\\d{0,18})$' });

/**
 * One partition's high-water mark of the usage topic: the offset of the next message to be
 * written, so every message below it is included.
 */
export const HighWaterMark = Closed({ partition: Type.Integer({ minimum: 0 }), offset: KafkaOffset });
export type HighWaterMark = Static<typeof HighWaterMark>;

/** The high-water marks of every partition of a topic at one moment. */
export const HighWaterMarks = Type.Array(HighWaterMark, { minItems: 1, maxItems: 1024 });

/** A SHA-256 digest as 64 lowercase hex characters. */
export const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });

/** The value of one usage event property: a flat scalar, never an object or array. */
export const PropertyValue = Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()]);

/**
 * The free-form dimensions of a usage event (`{"model": "gpt-4", "region": "eu"}`): a small
 * flat object, so it can be stored, grouped by and hashed without surprises.
 */
export const UsageProperties = Type.Record(Type.String(), PropertyValue, {
  maxProperties: 32,
  propertyNames: { type: 'string', minLength: 1, maxLength: 64 },
});
export type UsageProperties = Static<typeof UsageProperties>;
