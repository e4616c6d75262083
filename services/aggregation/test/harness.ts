// Runs the aggregation service in-process on real Postgres and Kafka, with topics of its own per
// test (usage, catalog, subscriptions, summaries) and an outbox relay publishing its events.
// The helpers publish what the other services would: catalog and subscription events, raw usage.
import { seedIdentityProjection, serviceAuthMigrations } from '@usageflow/auth';
import { buildEvent, type DataOf, type DomainEvent, type EventType, type HighWaterMark } from '@usageflow/contracts';
import { messagingMigrations, migrate, OutboxRelay, type Knex } from '@usageflow/db';
import { createHttpApp, idempotencyMigration, startHttpServer } from '@usageflow/http';
import { encodeEvent, EventProducer, highWaterMarks, type Kafka } from '@usageflow/kafka';
import {
  httpCall,
  testDatabase,
  testKafka,
  testLogger,
  testTopic,
  uniqueName,
  waitFor,
  type HttpCallOptions,
} from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { aggregationMigrations } from '../src/adapters/db/migrations';
import { readProgress } from '../src/adapters/db/event-store';
import { usageRoutes } from '../src/adapters/http/routes';
import { rebuildProjection } from '../src/app/rebuild';
import { buildAggregation } from '../src/service';

export type Aggregation = Awaited<ReturnType<typeof startAggregation>>;

/** A fresh schema holding every table the service migrates at start (as `runService` does). */
export async function aggregationDatabase(prefix: string) {
  const database = await testDatabase(prefix);
  await migrate(database.db, database.schema, [
    ...messagingMigrations,
    idempotencyMigration,
    ...serviceAuthMigrations,
    ...aggregationMigrations,
  ]);
  return database;
}

/** A running service instance over shared topics and schema (a test may start several in turn). */
async function startInstance(
  shared: { db: Knex; kafka: Kafka; producer: EventProducer; topics: Topics; groupPrefix: string },
  options: { startUsage?: boolean },
) {
  const logger = testLogger('aggregation');
  const service = buildAggregation({
    db: shared.db,
    kafka: shared.kafka,
    producer: shared.producer,
    logger,
    identityProjection: false,
    config: {
      usageTopic: shared.topics.usage,
      topics: { ...shared.topics },
      groupPrefix: shared.groupPrefix,
      concurrency: 2,
      fetchMaxBytes: 1_048_576,
      summaryPollMs: 100,
    },
  });
  const usage = service.workers.find((w) => w.name === 'usage-consumer')!;
  const others = service.workers.filter((w) => w !== usage);
  for (const w of others) await w.start();
  let usageStarted = false;
  const startUsage = async () => {
    await usage.start();
    usageStarted = true;
  };
  if (options.startUsage !== false) await startUsage();
  return {
    service,
    startUsage,
    async stop() {
      for (const w of [...others].reverse()) await w.stop();
      if (usageStarted) await usage.stop();
    },
  };
}

interface Topics {
  usage: string;
  catalog: string;
  subscriptions: string;
  invoices: string;
  summaries: string;
}

/**
 * Starts the service with fresh topics (or the ones given: an end-to-end test shares them with the
 * services around it) and schema; `startUsage: false` holds the usage consumer back.
 */
export async function startAggregation(options: { startUsage?: boolean; topics?: Partial<Topics> } = {}) {
  const logger = testLogger('aggregation');
  const { db, drop } = await aggregationDatabase('agg');
  const kafka = testKafka(logger);
  const producer = new EventProducer(kafka, { logger });
  await producer.connect();
  const topics: Topics = {
    usage: options.topics?.usage ?? (await testTopic(kafka, 'usage', 3)),
    catalog: options.topics?.catalog ?? (await testTopic(kafka, 'catalog', 1)),
    subscriptions: options.topics?.subscriptions ?? (await testTopic(kafka, 'subscriptions', 1)),
    invoices: options.topics?.invoices ?? (await testTopic(kafka, 'invoices', 1)),
    summaries: options.topics?.summaries ?? (await testTopic(kafka, 'summaries', 1)),
  };
  const shared = { db, kafka, producer, topics, groupPrefix: uniqueName('agg') };
  const relay = new OutboxRelay({ db, kafka, producer, logger, idleMs: 20 });
  relay.start();
  let instance = await startInstance(shared, options);
  const organizationId = randomUUID();
  // The HTTP API over the same schema (the routes read through the context's database only).
  const app = createHttpApp({
    logger,
    readiness: {},
    routes: usageRoutes(instance.service.ctx, instance.service.authenticator, { usageTopic: topics.usage }),
  });
  const server = await startHttpServer(app, 0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${server.port}`;
  const { tokenFor, apiKeyFor } = await seedIdentityProjection(db);

  /** Publishes an event as its owning service would, on this test's topic for it. */
  async function publish<T extends EventType>(type: T, topic: string, data: DataOf<T>, org = organizationId) {
    const event = buildEvent(type, {
      id: randomUUID(),
      organizationId: org,
      occurredAt: new Date(),
      producer: 'test',
      data,
    });
    const { message } = encodeEvent(event as DomainEvent);
    await producer.send(topic, [message]);
    return event;
  }

  return {
    db,
    kafka,
    topics,
    organizationId,
    api: (method: string, path: string, o?: HttpCallOptions) => httpCall(baseUrl, method, path, o),
    tokenFor,
    apiKeyFor,
    /** Publishes an invoice event as billing would, on this run's invoices topic. */
    publishInvoice: <T extends 'invoice.created' | 'invoice.paid'>(type: T, data: DataOf<T>, org?: string) =>
      publish(type, topics.invoices, data, org),
    get service() {
      return instance.service;
    },
    startUsage: () => instance.startUsage(),
    defineMetric: (data: DataOf<'metric.created'>, org?: string) =>
      publish('metric.created', topics.catalog, data, org),
    definePlan: (data: DataOf<'plan.created'>, org?: string) => publish('plan.created', topics.catalog, data, org),
    subscribe: (data: DataOf<'subscription.created'>, org?: string) =>
      publish('subscription.created', topics.subscriptions, data, org),
    closePeriod: (data: DataOf<'subscription.period_closed'>, org?: string) =>
      publish('subscription.period_closed', topics.subscriptions, data, org),
    /** The usage topic's high-water marks now, as the subscription service takes them at a closing. */
    async marks(): Promise<HighWaterMark[]> {
      const marks = await highWaterMarks(kafka, topics.usage);
      return [...marks].map(([partition, offset]) => ({ partition, offset: offset.toString() }));
    },
    /** Produces usage.recorded events as the gateway does (keyed by organization and customer). */
    async sendUsage(
      events: ReadonlyArray<Partial<DataOf<'usage.recorded'>> & { eventId: string }>,
      org = organizationId,
    ) {
      const messages = events.map((e) => {
        const timestamp = e.timestamp ?? new Date().toISOString();
        const event = buildEvent('usage.recorded', {
          id: randomUUID(),
          organizationId: org,
          occurredAt: timestamp,
          producer: 'ingestion',
          data: {
            customerId: 'user_123',
            metric: 'API_CALL',
            amount: '1',
            properties: {},
            receivedAt: timestamp,
            timestamp,
            ...e,
          },
        });
        return encodeEvent(event as DomainEvent).message;
      });
      for (let i = 0; i < messages.length; i += 1000) await producer.send(topics.usage, messages.slice(i, i + 1000));
    },
    /** Produces raw records to the usage topic (what a broken or hostile producer might write). */
    producerSend: (messages: Array<{ key: string; value: string }>) => producer.send(topics.usage, messages),
    /** Waits until the usage consumer stored everything on the topic now. */
    async drained(timeoutMs = 60_000) {
      const marks = await highWaterMarks(kafka, topics.usage);
      await waitFor(
        'the usage consumer to reach the end of the topic',
        async () => {
          const progress = await readProgress(db, topics.usage);
          return [...marks].every(([p, end]) => end === 0n || (progress.get(p) ?? 0n) >= end);
        },
        { timeoutMs },
      );
    },
    /** Loses every offset commit (as `forgetCommittedOffsets`) and waits until the topic was read again. */
    async rereadAll() {
      await this.forgetCommittedOffsets();
      await waitFor(
        'the usage group to re-read the topic',
        async () => {
          const admin = kafka.admin();
          await admin.connect();
          try {
            const [topic] = await admin.fetchOffsets({
              groupId: `${shared.groupPrefix}.usage`,
              topics: [topics.usage],
            });
            const ends = await admin.fetchTopicOffsets(topics.usage);
            // an empty partition has no committed offset at all (-2)
            return ends.every(
              (end) =>
                end.high === '0' || topic!.partitions.find((p) => p.partition === end.partition)?.offset === end.high,
            );
          } finally {
            await admin.disconnect();
          }
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
    },
    /** Stops the running instance (as a crash-free shutdown would) and starts a new one. */
    async restart(options: { rebuild?: boolean } = {}) {
      await instance.stop();
      if (options.rebuild) {
        await rebuildProjection({
          db,
          kafka,
          logger,
          groupPrefix: shared.groupPrefix,
          topics: {
            usage: topics.usage,
            catalog: topics.catalog,
            subscriptions: topics.subscriptions,
            invoices: topics.invoices,
          },
        });
      }
      instance = await startInstance(shared, {});
    },
    /** Rewinds the usage group to offset 0 as if no offset commit had ever reached Kafka. */
    async forgetCommittedOffsets() {
      await instance.stop();
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.resetOffsets({ groupId: `${shared.groupPrefix}.usage`, topic: topics.usage, earliest: true });
      } finally {
        await admin.disconnect();
      }
      instance = await startInstance(shared, {});
    },
    async stop() {
      await server.close(1000);
      await instance.stop();
      await relay.stop();
      await producer.disconnect();
      await drop();
    },
  };
}
