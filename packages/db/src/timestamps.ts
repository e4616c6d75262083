// A timestamptz column as a service reads it (pg hands out Date; a raw or JSON-aggregated query
// can hand out the string), turned into what APIs and domain code use. Written once here: every
// row mapper needs it.

/** A timestamp column value. */
export type TimestampValue = Date | string;

/** The ISO 8601 UTC form of a timestamp column, null for null. */
export function isoOrNull(value: TimestampValue | null): string | null {
  return value === null ? null : new Date(value).toISOString();
}

/** The ISO 8601 UTC form of a NOT NULL timestamp column. */
export function iso(value: TimestampValue): string {
  return new Date(value).toISOString();
}

/** A timestamp column as a Date, null for null. */
export function dateOrNull(value: TimestampValue | null): Date | null {
  return value === null ? null : new Date(value);
}
