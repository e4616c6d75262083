// A consumer killed mid-batch: the service runs as its own process (dist/main.js, as deployed),
// is SIGKILLed while it drains 10,000 events produced twice, and a fresh process finishes the
// job. Whatever the kill interrupted (a transaction in flight, an offset commit not yet made),
// every event is stored and rolled up exactly once.
import { buildEvent, type DomainEvent } from '@usageflow/contracts';
import { EventProducer, encodeEvent, highWaterMarks } from '@usageflow/kafka';
import { testInfra, testKafka, testLogger, testTopic, uniqueName, waitFor } from '@usageflow/testkit';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { aggregationDatabase } from './harness';

const MAIN = join(__dirname, '..', 'dist', 'main.js');
const N = 10_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('a consumer process killed mid-batch', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  it('loses and doubles nothing: a new process finishes what the killed one started', async () => {
    expect(existsSync(MAIN)).toBe(true); // `npm test` builds before it tests
    const logger = testLogger('aggregation-kill');
    const { db, schema, drop } = await aggregationDatabase('aggkill');
    const kafka = testKafka(logger);
    const topic = await testTopic(kafka, 'usage-kill', 3);
    const producer = new EventProducer(kafka, { logger });
    await producer.connect();
    const organizationId = randomUUID();
    const records = Array.from({ length: N }, (_, i) => {
      const timestamp = new Date(Date.parse('2025-03-01T00:00:00.000Z') + i * 1000).toISOString();
      const event = buildEvent('usage.recorded', {
        id: randomUUID(),
        organizationId,
        occurredAt: timestamp,
        producer: 'ingestion',
        data: {
          eventId: `evt_${i}`,
          customerId: `c${i % 7}`,
          metric: 'API_CALL',
          amount: '1',
          timestamp,
          receivedAt: timestamp,
          properties: {},
        },
      });
      return encodeEvent(event as DomainEvent).message;
    });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < N; i += 1000) await producer.send(topic, records.slice(i, i + 1000));
    }
    await producer.disconnect();
    const total = [...(await highWaterMarks(kafka, topic)).values()].reduce((a, b) => a + b, 0n);
    expect(total).toBe(BigInt(2 * N));

    const { databaseUrl, kafkaBrokers } = testInfra();
    const groupPrefix = uniqueName('aggkill');
    const start = async () => {
      const child = spawn(process.execPath, [MAIN], {
        env: {
          ...process.env,
          DATABASE_URL: databaseUrl,
          DATABASE_SCHEMA: schema,
          KAFKA_BROKERS: kafkaBrokers.join(','),
          PORT: String(await freePort()),
          LOG_LEVEL: 'error',
          AGGREGATION_USAGE_TOPIC: topic,
          AGGREGATION_GROUP_ID: groupPrefix,
          // small fetches: many batches, so the kill lands in the middle of the drain
          AGGREGATION_FETCH_MAX_BYTES: '65536',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      return child;
    };
    const progress = async () => {
      const { rows } = await db.raw<{ rows: Array<{ n: string | null }> }>(
        'select sum(next_offset) as n from usage_progress where topic = ?',
        [topic],
      );
      return BigInt(rows[0]!.n ?? 0);
    };

    const first = await start();
    await waitFor('the first process to store some batches', async () => (await progress()) > 2_000n, {
      timeoutMs: 60_000,
      intervalMs: 10,
    });
    first.kill('SIGKILL');
    await new Promise((resolve) => first.once('exit', resolve));
    expect(await progress()).toBeLessThan(total); // it was killed before the end

    const second = await start();
    await waitFor('the second process to reach the end of the topic', async () => (await progress()) === total, {
      timeoutMs: 90_000,
      intervalMs: 100,
    });
    second.kill('SIGTERM');
    await new Promise((resolve) => second.once('exit', resolve));

    const { rows } = await db.raw<{ rows: Array<Record<string, string>> }>(
      `select (select count(*) from usage_events) as events,
              (select count(*) from usage_event_keys) as keys,
              (select sum(event_count) from usage_rollups) as rolled,
              (select sum(amount_sum) from usage_rollups) as amount`,
    );
    expect(rows[0]).toEqual({ events: String(N), keys: String(N), rolled: String(N), amount: String(N) });
    await drop();
  }, 180_000);
});
