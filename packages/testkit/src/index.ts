// Helpers for integration tests against the real broker and database. The jest globalSetup
// (test/global-setup.cjs) provides KAFKA_BROKERS and DATABASE_URL; every test makes its own
// schema, topics and groups so tests never see each other's data.
import { EVENT_CATALOG, type EventOf, type EventType } from '@usageflow/contracts';
import { createDatabase, type Knex } from '@usageflow/db';
import { createKafkaClient, ensureTopics, type Kafka } from '@usageflow/kafka';
import { createLogger, type Logger } from '@usageflow/telemetry';
import type { KafkaMessage } from 'kafkajs';
import { randomUUID } from 'node:crypto';

/** The infrastructure the suite runs against. */
export function testInfra(): { kafkaBrokers: string[]; databaseUrl: string } {
  const brokers = process.env.KAFKA_BROKERS;
  const databaseUrl = process.env.DATABASE_URL;
  if (!brokers || !databaseUrl)
    throw new Error(
      'KAFKA_BROKERS and DATABASE_URL are not set: run through `npm test` or the integration jest project',
    );
  return { kafkaBrokers: brokers.split(','), databaseUrl };
}

/** A unique lower-snake name, e.g. `outbox_test_3f9a1c2b`. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
}

/** A logger that stays quiet unless TEST_LOG_LEVEL says otherwise. */
export function testLogger(service = 'test'): Logger {
  return createLogger({ service, level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

export function testKafka(logger = testLogger()): Kafka {
  return createKafkaClient({ brokers: testInfra().kafkaBrokers, clientId: uniqueName('test'), logger });
}

/** A fresh schema of its own; `drop()` removes it. */
export async function testDatabase(prefix: string): Promise<{ db: Knex; schema: string; drop: () => Promise<void> }> {
  const schema = uniqueName(prefix);
  const db = createDatabase({ url: testInfra().databaseUrl, schema, poolMax: 5 });
  await db.raw('create schema ??', [schema]);
  return {
    db,
    schema,
    drop: async () => {
      await db.raw('drop schema if exists ?? cascade', [schema]);
      await db.destroy();
    },
  };
}

/** A scratch topic of its own. */
export async function testTopic(kafka: Kafka, prefix: string, numPartitions = 3): Promise<string> {
  const topic = `test.${uniqueName(prefix)}`;
  await ensureTopics(kafka, [{ topic, numPartitions }]);
  return topic;
}

/** A record as read back from a topic. */
export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/**
 * Reads `topic` from the beginning until `count` records arrived (then waits `settleMs` more to
 * catch any extra record, e.g. a duplicate), or fails after `timeoutMs`.
 */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  options: { count: number; timeoutMs?: number; settleMs?: number },
): Promise<ReadRecord[]> {
  const records: ReadRecord[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${records.length} of ${options.count} records from ${topic} before timing out`)),
        options.timeoutMs ?? 60_000,
      );
      let settling = false;
      consumer
        .run({
          eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
            records.push({
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? null,
              headers: Object.fromEntries(
                Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v)]),
              ),
            });
            if (records.length >= options.count && !settling) {
              settling = true;
              clearTimeout(timer);
              setTimeout(resolve, options.settleMs ?? 1_000);
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** Polls `check` until it returns a truthy value; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  { timeoutMs = 30_000, intervalMs = 100 } = {},
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A valid event of `type`: the catalog's first example with a new id and organization, and
 * `data` fields replaced by `data`.
 */
export function sampleEvent<T extends EventType>(
  type: T,
  overrides: { organizationId?: string; data?: Partial<EventOf<T>['data']> } = {},
): EventOf<T> {
  const example = EVENT_CATALOG[type].examples[0] as EventOf<T>;
  return {
    ...example,
    id: randomUUID(),
    organizationId: overrides.organizationId ?? example.organizationId,
    data: { ...example.data, ...overrides.data },
  } as EventOf<T>;
}

/** How a test calls an HTTP API: a person's token, a machine's key, a JSON body or raw text. */
export interface HttpCallOptions {
  token?: string;
  apiKey?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

/**
 * What came back: status, headers, the body parsed when it is JSON (its text otherwise;
 * undefined when empty), and the raw bytes (a PDF).
 */
export interface HttpCallResult {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  bytes: Buffer;
}

/** `fetch` against `baseUrl` as a client of the UsageFlow API would. */
export async function httpCall(
  baseUrl: string,
  method: string,
  path: string,
  o: HttpCallOptions = {},
): Promise<HttpCallResult> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.apiKey) headers['x-usageflow-api-key'] = o.apiKey;
  let body: string | undefined;
  if (o.rawBody !== undefined || o.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = o.rawBody ?? JSON.stringify(o.body);
  }
  const res = await fetch(baseUrl + path, { method, headers, body });
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  const json = /[/+]json\b/.test(res.headers.get('content-type') ?? '');
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (json ? JSON.parse(text) : text) : undefined,
    text,
    bytes,
  };
}
