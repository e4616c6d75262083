import knex, { type Knex } from 'knex';
import pg from 'pg';

export type { Knex };

// numeric (money, usage) and bigint (offsets, sequences) come back as strings, never JS numbers:
// these are pg's defaults, restated here because a float here would be a billing bug.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => v);
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => v);

/**
 * A knex instance bound to one service's own schema: unqualified table names resolve there,
 * and nothing of another service's is on the search path.
 */
export function createDatabase(options: {
  url: string;
  schema: string;
  poolMax?: number;
  applicationName?: string;
}): Knex {
  return knex({
    client: 'pg',
    connection: { connectionString: options.url, application_name: options.applicationName ?? options.schema },
    searchPath: [options.schema],
    pool: { min: 0, max: options.poolMax ?? 10 },
    acquireConnectionTimeout: 10_000,
  });
}

/** True when the database answers `select 1`. */
export async function databaseReachable(db: Knex): Promise<boolean> {
  try {
    await db.raw('select 1');
    return true;
  } catch {
    return false;
  }
}
