// Reading requests the same way in every service: bodies validated against the contracts'
// schemas, pagination parameters parsed once, cursors opaque and tamper-evident.
import { parsePageQuery, validateBody, type FieldIssue, type PageOf, type PageRequest } from '@usageflow/contracts';
import type { Static, TSchema } from '@sinclair/typebox';
import { commonErrors, type FieldProblem } from './problem';

const PROPERTY_ISSUE = /^must (have required|NOT have additional) property '(.+)'$/;

/**
 * A client reads `errors[].field` to highlight a form field, so a missing or unknown property is
 * reported on the property itself (`name: is required`), not on the object that lacks it.
 */
export function toFieldProblems(issues: readonly FieldIssue[]): FieldProblem[] {
  return issues.map((issue) => {
    const m = PROPERTY_ISSUE.exec(issue.message);
    if (!m) return { field: issue.field, message: issue.message };
    const field = issue.field ? `${issue.field}.${m[2]}` : m[2]!;
    return { field, message: m[1] === 'have required' ? 'is required' : 'is not allowed' };
  });
}

/**
 * Returns `body` typed when it satisfies `schema`; otherwise throws VALIDATION_FAILED (400)
 * listing every field that is wrong, so nothing is written on bad input.
 */
export function parseBody<S extends TSchema>(schema: S, body: unknown): Static<S> {
  const result = validateBody(schema, body ?? {});
  if (result.ok) return result.value;
  throw commonErrors.VALIDATION_FAILED(result.errors.join('; '), { errors: toFieldProblems(result.issues) });
}

/** `?limit=&cursor=` with defaults applied; a bad value is a 400 naming the parameter. */
export function pageRequest(query: Readonly<Record<string, unknown>>): PageRequest {
  const result = parsePageQuery(query);
  if (result.ok) return result.value;
  throw commonErrors.VALIDATION_FAILED(result.errors.join('; '), { errors: toFieldProblems(result.issues) });
}

/** Encodes a keyset position (the sort key of the last row of a page) as an opaque cursor. */
export function encodeCursor(position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by `encodeCursor` into `arity` values; anything else is
 * INVALID_CURSOR (400), never a 500.
 */
export function decodeCursor(cursor: string, arity: number): (string | number)[] {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw commonErrors.INVALID_CURSOR('the cursor was not issued by this API');
  }
  if (
    !Array.isArray(value) ||
    value.length !== arity ||
    !value.every((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))
  ) {
    throw commonErrors.INVALID_CURSOR('the cursor was not issued by this API');
  }
  return value as (string | number)[];
}

/**
 * Builds a page from rows fetched with `limit + 1` (keyset pagination): the extra row only says
 * that another page exists; the cursor points after the last row returned.
 */
export function toPage<T>(rows: readonly T[], limit: number, positionOf: (row: T) => (string | number)[]): PageOf<T> {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(positionOf(last)) : null };
}
