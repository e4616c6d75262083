// Reading requests the same way in every service: bodies validated against the contracts'
// schemas, pagination parameters parsed once, cursors opaque and tamper-evident.
import { parsePageQuery, validateBody, type FieldIssue, type PageOf, type PageRequest } from '@usageflow/contracts';
import type { Static, TSchema } from '@sinclair/typebox';
import type { Knex } from 'knex';
import { commonErrors, type FieldProblem } from './problem';

/**
 * The `errors[]` of a 400 from the contracts' issues. A missing or unknown property is already
 * reported on the property itself (`name: is required`), so a client can highlight that field.
 */
export function toFieldProblems(issues: readonly FieldIssue[]): FieldProblem[] {
  return issues.map((issue) => ({ field: issue.field, message: issue.message }));
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

/** One sort column of a keyset page: the SQL column, the row field it reads, and its type. */
export interface KeysetColumn<R> {
  column: string;
  field: keyof R;
  type: 'timestamptz' | 'uuid' | 'text';
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A cursor value as stored: instants as ISO strings, the rest as they are. */
function cursorValue(value: unknown, type: KeysetColumn<unknown>['type']): string {
  return type === 'timestamptz' ? new Date(value as string).toISOString() : String(value);
}

/** Whether a decoded cursor value could have come from `cursorValue` (else INVALID_CURSOR, never a 500). */
function validCursorValue(value: unknown, type: KeysetColumn<unknown>['type']): boolean {
  if (typeof value !== 'string') return false;
  if (type === 'timestamptz') return !Number.isNaN(Date.parse(value));
  if (type === 'uuid') return UUID_TEXT.test(value);
  return true;
}

/**
 * One page of `query` in keyset order over `columns` (ascending, or newest first with
 * `descending`), fetching `limit + 1` rows: the cursor holds the last row's sort key, checked
 * before it reaches SQL.
 */
export async function keysetPage<R extends object, T>(
  query: Knex.QueryBuilder,
  page: PageRequest,
  columns: readonly KeysetColumn<R>[],
  toItem: (row: R) => T,
  { descending = false }: { descending?: boolean } = {},
): Promise<PageOf<T>> {
  if (page.cursor) {
    const values = decodeCursor(page.cursor, columns.length);
    if (!values.every((v, i) => validCursorValue(v, columns[i]!.type)))
      throw commonErrors.INVALID_CURSOR('the cursor was not issued by this API');
    const tuple = (parts: string[]) => `(${parts.join(', ')})`;
    const after = descending ? '<' : '>';
    query.whereRaw(`${tuple(columns.map(() => '??'))} ${after} ${tuple(columns.map((c) => `?::${c.type}`))}`, [
      ...columns.map((c) => c.column),
      ...values,
    ]);
  }
  const rows = (await query
    .orderBy(columns.map((c) => ({ column: c.column, order: descending ? ('desc' as const) : ('asc' as const) })))
    .limit(page.limit + 1)) as R[];
  const result = toPage(rows, page.limit, (r) => columns.map((c) => cursorValue(r[c.field], c.type)));
  return { data: result.data.map(toItem), nextCursor: result.nextCursor };
}

/** The usual keyset order: creation time, then a uuid `id` to break ties. */
export const CREATED_ORDER: readonly KeysetColumn<{ created_at: unknown; id: unknown }>[] = [
  { column: 'created_at', field: 'created_at', type: 'timestamptz' },
  { column: 'id', field: 'id', type: 'uuid' },
];
