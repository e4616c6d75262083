// Every service, run as its own process the way `npm start` and the containers run it, boots
// against the real broker and database, migrates its own schema, reports ready, and stops
// cleanly on SIGTERM. The ingestion gateway has no database: it is ready once its in-memory
// projection has read the identity and catalog topics, and it creates no schema.
import { createDatabase } from '@usageflow/db';
import { testInfra, uniqueName, waitFor } from '@usageflow/testkit';
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const SERVICES = ['identity', 'subscription', 'ingestion', 'aggregation', 'billing', 'webhook-dispatch'];
const STATELESS = new Set(['ingestion']);

describe('service processes', () => {
  it.each(SERVICES.map((name, i) => [name, 24_100 + i] as const))(
    '%s boots, migrates its own schema, is ready, and stops on SIGTERM',
    async (name, port) => {
      const { kafkaBrokers, databaseUrl } = testInfra();
      const schema = uniqueName(name.replace(/-/g, '_'));
      let output = '';
      const child = spawn(process.execPath, [path.join(ROOT, 'services', name, 'dist', 'main.js')], {
        env: {
          ...process.env,
          PORT: String(port),
          DATABASE_URL: databaseUrl,
          DATABASE_SCHEMA: schema,
          KAFKA_BROKERS: kafkaBrokers.join(','),
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const db = createDatabase({ url: databaseUrl, schema, poolMax: 1 });
      try {
        const ready = await waitFor(
          `${name} /readyz`,
          async () => {
            if (child.exitCode !== null) throw new Error(`${name} exited early:\n${output}`);
            const res = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
            return res?.status === 200 ? res.json() : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 200 },
        );
        const tables = await db('pg_tables').where({ schemaname: schema }).pluck('tablename');
        if (STATELESS.has(name)) {
          expect(ready).toEqual({ status: 'ready', checks: { kafka: 'ok', projection: 'ok' } });
          expect(tables).toEqual([]);
        } else {
          expect(ready).toMatchObject({ status: 'ready', checks: { database: 'ok', kafka: 'ok' } });
          expect(tables).toEqual(
            expect.arrayContaining(['outbox', 'inbox', 'outbox_relay_position', 'idempotency_keys']),
          );
        }
        const health = await fetch(`http://127.0.0.1:${port}/healthz`);
        expect(health.status).toBe(200);
      } finally {
        child.kill('SIGTERM');
        const code = await exited;
        await db.raw('drop schema if exists ?? cascade', [schema]);
        await db.destroy();
        // the output comes with a failed exit, to say which shutdown step failed
        expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
        expect(output).toContain('shutting down');
      }
    },
  );
});
