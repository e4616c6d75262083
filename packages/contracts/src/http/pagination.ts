// Cursor pagination, the one list shape of the HTTP surface:
//   GET /v1/things?limit=50&cursor=...  ->  { "data": [...], "nextCursor": "..." | null }
// Cursors are opaque to clients (a service encodes its own sort key in them); `nextCursor` is
// null on the last page.
import {
  Type,
  type Static,
  type TSchema,
  type TObject,
  type TArray,
  type TUnion,
  type TString,
  type TNull,
} from '@sinclair/typebox';
import { compileValidator, type ValidationResult } from '../validate';

/** The page size when a client gives none. */
export const DEFAULT_PAGE_LIMIT = 50;
/** The largest page a client may ask for. */
export const MAX_PAGE_LIMIT = 200;

/** The pagination query parameters (open: a list endpoint adds its own filters beside them). */
export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
});
export type PageQuery = Static<typeof PageQuery>;

/** The query parameters of a list route, as a RouteSpec declares them (beside its own filters). */
export const LIST_QUERY = {
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT }),
  cursor: Type.String({ minLength: 1, maxLength: 1024 }),
};

/** A page request with its defaults applied. */
export interface PageRequest {
  limit: number;
  cursor: string | null;
}

/** One page of `item`s. */
export function Page<T extends TSchema>(item: T): TObject<{ data: TArray<T>; nextCursor: TUnion<[TString, TNull]> }> {
  return Type.Object(
    {
      data: Type.Array(item),
      nextCursor: Type.Union([Type.String({ minLength: 1 }), Type.Null()]),
    },
    { additionalProperties: false },
  );
}
/** The body of one page of `T`s. */
export interface PageOf<T> {
  data: T[];
  nextCursor: string | null;
}

const validatePageQuery = compileValidator(PageQuery);

/**
 * Reads `limit` and `cursor` from a parsed query string (where everything is a string): a
 * decimal `limit` becomes a number, then the values are validated and defaulted. Anything else
 * (`limit=abc`, `limit=0`, a repeated parameter) is a readable error.
 */
export function parsePageQuery(query: Readonly<Record<string, unknown>>): ValidationResult<PageRequest> {
  const rawLimit = query['limit'];
  const candidate: Record<string, unknown> = {};
  if (rawLimit !== undefined && rawLimit !== '') {
    candidate['limit'] = typeof rawLimit === 'string' && /^\d{1,9}$/.test(rawLimit) ? Number(rawLimit) : rawLimit;
  }
  if (query['cursor'] !== undefined && query['cursor'] !== '') candidate['cursor'] = query['cursor'];
  const result = validatePageQuery(candidate);
  if (!result.ok) return result;
  return { ok: true, value: { limit: result.value.limit ?? DEFAULT_PAGE_LIMIT, cursor: result.value.cursor ?? null } };
}
