// Keyset pagination over (created time, id), shared by the identity lists.
import { commonErrors, decodeCursor, toPage } from '@usageflow/http';
import type { PageOf, PageRequest } from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Pages `query` ordered by (`timeColumn`, `idColumn`), mapping rows with `toItem`. */
export async function keysetPage<R extends Record<string, unknown>, T>(
  query: Knex.QueryBuilder,
  page: PageRequest,
  columns: { time: string; id: string; timeKey: keyof R; idKey: keyof R },
  toItem: (row: R) => T,
): Promise<PageOf<T>> {
  if (page.cursor) {
    const [time, id] = decodeCursor(page.cursor, 2);
    if (typeof time !== 'string' || Number.isNaN(Date.parse(time)) || typeof id !== 'string' || !UUID.test(id))
      throw commonErrors.INVALID_CURSOR('the cursor was not issued by this API');
    query.whereRaw(`(??, ??) > (?::timestamptz, ?::uuid)`, [columns.time, columns.id, time, id]);
  }
  const rows = (await query
    .orderBy([
      { column: columns.time, order: 'asc' },
      { column: columns.id, order: 'asc' },
    ])
    .limit(page.limit + 1)) as R[];
  const result = toPage(rows, page.limit, (r) => [
    new Date(r[columns.timeKey] as string).toISOString(),
    String(r[columns.idKey]),
  ]);
  return { data: result.data.map(toItem), nextCursor: result.nextCursor };
}
