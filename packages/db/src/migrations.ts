import type { Knex } from 'knex';

/** One forward-only migration; `name` orders them and is recorded once applied. */
export interface Migration {
  name: string;
  up(db: Knex): Promise<void>;
}

/**
 * Creates the service schema if missing and applies pending migrations in name order, inside
 * knex's migration lock so two replicas starting together apply each migration once.
 * Migrations never go down: a release that must undo something ships a new one.
 */
export async function migrate(db: Knex, schema: string, migrations: readonly Migration[]): Promise<string[]> {
  await db.raw('create schema if not exists ??', [schema]);
  const sorted = [...migrations].sort((a, b) => a.name.localeCompare(b.name));
  const names = new Set<string>();
  for (const m of sorted) {
    if (names.has(m.name)) throw new Error(`duplicate migration name ${m.name}`);
    names.add(m.name);
  }
  const source: Knex.MigrationSource<Migration> = {
    getMigrations: async () => sorted,
    getMigrationName: (m) => m.name,
    getMigration: async (m) => ({
      up: (k: Knex) => m.up(k),
      down: async () => {
        throw new Error(`migrations only move forward (${m.name})`);
      },
    }),
  };
  const [, applied] = (await db.migrate.latest({
    migrationSource: source,
    schemaName: schema,
    tableName: 'knex_migrations',
  })) as [number, string[]];
  return applied;
}
