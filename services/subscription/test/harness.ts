// Runs the subscription service in-process on real Postgres and Kafka. Credentials come from
// its identity projection, seeded directly (seedIdentityProjection; in production identity's
// topic fills it).
import { seedIdentityProjection, serviceAuthMigrations } from '@usageflow/auth';
import { messagingMigrations, migrate, OutboxRelay } from '@usageflow/db';
import { createHttpApp, idempotencyMigration, startHttpServer } from '@usageflow/http';
import { EventProducer } from '@usageflow/kafka';
import {
  httpCall,
  testDatabase,
  testKafka,
  testLogger,
  testTopic,
  uniqueName,
  type HttpCallOptions,
} from '@usageflow/testkit';
import { subscriptionMigrations } from '../src/adapters/db/migrations';
import { DEFAULT_SUBSCRIPTION_SETTINGS, type SubscriptionSettings } from '../src/config';
import { buildSubscription } from '../src/service';

export type Subscription = Awaited<ReturnType<typeof startSubscription>>;

/**
 * Starts the service with its own schema and a seeded identity projection. The real-time closer
 * does not tick: tests sweep with `ctx`; invoice.failed is read from a topic of the run's own.
 */
export async function startSubscription(options: { config?: Partial<SubscriptionSettings>; clock?: () => Date } = {}) {
  const logger = testLogger('subscription');
  const { db, schema, drop } = await testDatabase('subscription');
  await migrate(db, schema, [
    ...messagingMigrations,
    idempotencyMigration,
    ...serviceAuthMigrations,
    ...subscriptionMigrations,
  ]);
  const kafka = testKafka(logger);
  const producer = new EventProducer(kafka, { logger });
  await producer.connect();
  const invoicesTopic = await testTopic(kafka, 'invoices');
  const service = buildSubscription({
    db,
    kafka,
    producer,
    logger,
    clock: options.clock,
    config: { ...DEFAULT_SUBSCRIPTION_SETTINGS, ...options.config },
    identityProjection: false,
    periodCloser: false,
    invoiceFailed: { topic: invoicesTopic, groupId: uniqueName('subscription-invoice-failed') },
  });
  for (const worker of service.workers) await worker.start();
  const relay = new OutboxRelay({ db, kafka, producer, logger, idleMs: 50 });
  relay.start();
  const app = createHttpApp({ logger, readiness: {}, routes: service.routes });
  const server = await startHttpServer(app, 0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${server.port}`;

  const { tokenFor, apiKeyFor } = await seedIdentityProjection(db);

  const api = (method: string, path: string, o?: HttpCallOptions) => httpCall(baseUrl, method, path, o);

  return {
    db,
    kafka,
    producer,
    ctx: service.ctx,
    invoicesTopic,
    api,
    tokenFor,
    apiKeyFor,
    async stop() {
      await server.close(1000);
      for (const worker of [...service.workers].reverse()) await worker.stop();
      await relay.stop();
      await producer.disconnect();
      await drop();
    },
  };
}

/** The reference plan: Pro, $100/month, 10,000 API calls included, $0.01 per call beyond. */
export const PRO_PLAN = {
  code: 'pro',
  name: 'Pro',
  currency: 'USD',
  interval: 'MONTHLY',
  basePrice: '100.00',
  planMetrics: [{ metricKey: 'API_CALL', includedUnits: '10000', overageUnitPrice: '0.01' }],
};
