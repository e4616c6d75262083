// Runs the billing service in-process on real Postgres and Kafka, with topics of its own per run
// (or the real catalog and subscriptions topics, when the subscription service runs beside it),
// an outbox relay publishing its events, and its HTTP API. Credentials come from its identity
// projection, seeded directly. The helpers publish what the other services would.
import { seedIdentityProjection, serviceAuthMigrations } from '@usageflow/auth';
import { buildEvent, type DataOf, type DomainEvent, type EventType } from '@usageflow/contracts';
import { messagingMigrations, migrate, OutboxRelay } from '@usageflow/db';
import { createHttpApp, idempotencyMigration, startHttpServer } from '@usageflow/http';
import { encodeEvent, EventProducer } from '@usageflow/kafka';
import {
  httpCall,
  readTopic,
  testDatabase,
  testKafka,
  testLogger,
  testTopic,
  uniqueName,
  waitFor,
  type HttpCallOptions,
} from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { billingMigrations } from '../src/adapters/db/migrations';
import { DEFAULT_BILLING_SETTINGS, type BillingSettings } from '../src/config';
import { buildBilling } from '../src/service';

export type Billing = Awaited<ReturnType<typeof startBilling>>;

export interface BillingTestOptions {
  config?: Partial<BillingSettings>;
  clock?: () => Date;
  /** Real catalog/subscriptions topics (the subscription service runs too) instead of scratch ones. */
  topics?: { catalog?: string; subscriptions?: string; invoices?: string; summaries?: string };
  /** false: the invoicer does not run (a test drives issuePendingInvoices itself). */
  invoicer?: boolean;
}

/** Starts the service with its own schema, topics, consumer groups and a seeded identity projection. */
export async function startBilling(options: BillingTestOptions = {}) {
  const logger = testLogger('billing');
  const { db, schema, drop } = await testDatabase('billing');
  await migrate(db, schema, [
    ...messagingMigrations,
    idempotencyMigration,
    ...serviceAuthMigrations,
    ...billingMigrations,
  ]);
  const kafka = testKafka(logger);
  const producer = new EventProducer(kafka, { logger });
  await producer.connect();
  const topics = {
    identity: await testTopic(kafka, 'identity', 1),
    catalog: options.topics?.catalog ?? (await testTopic(kafka, 'catalog', 1)),
    subscriptions: options.topics?.subscriptions ?? (await testTopic(kafka, 'subscriptions', 1)),
    summaries: options.topics?.summaries ?? (await testTopic(kafka, 'summaries', 2)),
    invoices: options.topics?.invoices ?? (await testTopic(kafka, 'invoices', 2)),
  };
  const config: BillingSettings = {
    ...DEFAULT_BILLING_SETTINGS,
    groupPrefix: uniqueName('billing'),
    topics: { ...DEFAULT_BILLING_SETTINGS.topics, ...topics },
    pollMs: 100,
    ...options.config,
  };
  const service = buildBilling({
    db,
    kafka,
    producer,
    logger,
    clock: options.clock,
    config,
    identityProjection: false,
    topics,
  });
  const workers = service.workers.filter((w) => options.invoicer !== false || w !== service.invoicer);
  for (const worker of workers) await worker.start();
  const relay = new OutboxRelay({ db, kafka, producer, logger, idleMs: 20 });
  relay.start();
  const app = createHttpApp({ logger, readiness: {}, routes: service.routes });
  const server = await startHttpServer(app, 0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${server.port}`;
  const { tokenFor, apiKeyFor } = await seedIdentityProjection(db);

  /** Publishes an event as its owning service would, on this run's topic for it. */
  async function publish<T extends EventType>(
    type: T,
    topic: string,
    organizationId: string,
    data: DataOf<T>,
    id: string = randomUUID(),
  ) {
    const event = buildEvent(type, { id, organizationId, occurredAt: new Date(), producer: 'test', data });
    await producer.send(topic, [encodeEvent(event as DomainEvent).message]);
    return event;
  }

  /**
   * The events of `organizationId` read back from the invoices topic, once at least `atLeast` of
   * them (of `type`) were appended and everything appended was published.
   */
  async function invoiceEvents(organizationId: string, atLeast: number, type?: string): Promise<DomainEvent[]> {
    const total = await waitFor(`${atLeast} ${type ?? 'invoice'} events of ${organizationId} published`, async () => {
      const rows = await db('outbox').where({ topic: topics.invoices }).select('payload', 'published_at');
      const mine = rows.filter(
        (r) => r.payload.organizationId === organizationId && (type === undefined || r.payload.type === type),
      );
      return mine.length >= atLeast && rows.every((r) => r.published_at !== null) && rows.length;
    });
    const records = await readTopic(kafka, topics.invoices, { count: total, settleMs: 200 });
    return records
      .map((r) => JSON.parse(r.value!) as DomainEvent)
      .filter((e) => e.organizationId === organizationId && (type === undefined || e.type === type));
  }

  return {
    db,
    schema,
    kafka,
    producer,
    topics,
    config,
    ctx: service.ctx,
    service,
    tokenFor,
    apiKeyFor,
    publish,
    invoiceEvents,
    api: (method: string, path: string, o?: HttpCallOptions) => httpCall(baseUrl, method, path, o),
    async stop() {
      await server.close(1000);
      for (const worker of [...workers].reverse()) await worker.stop();
      await relay.stop();
      await producer.disconnect();
      await drop();
    },
  };
}

export const MARCH = { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' };
export const APRIL = { start: '2025-04-01T00:00:00.000Z', end: '2025-05-01T00:00:00.000Z' };

/** The reference plan version: Pro, $100/month, 10,000 API calls included, $0.01 per call beyond. */
export const PRO_V1: DataOf<'plan.created'> = {
  code: 'pro',
  version: 1,
  name: 'Pro',
  currency: 'USD',
  interval: 'MONTHLY',
  basePrice: '100.00',
  planMetrics: [{ metricKey: 'API_CALL', includedUnits: '10000', overageUnitPrice: '0.01' }],
};

/**
 * A summary of `period` for a subscription of PRO_V1, as aggregation publishes it; with
 * `lateRecordsThrough`, as it does since late records are numbered (without, as it did before).
 */
export function summaryOf(
  subscriptionId: string,
  apiCalls: number,
  period = MARCH,
  customerId = 'user_123',
  lateRecordsThrough?: number,
): DataOf<'usage.period_summarized'> {
  return {
    subscriptionId,
    customerId,
    planCode: 'pro',
    planVersion: 1,
    period,
    metrics: [{ metricKey: 'API_CALL', aggregation: 'SUM', quantity: String(apiCalls), eventCount: apiCalls }],
    fingerprint: 'f'.repeat(64),
    highWaterMarks: [{ partition: 0, offset: '12000' }],
    ...(lateRecordsThrough === undefined ? {} : { lateRecordsThrough }),
  };
}

/**
 * A late usage record of `quantity` API calls in March, as aggregation publishes it; with
 * `sequence`, its place among the subscription's late records (without, as before they were numbered).
 */
export function lateOf(
  subscriptionId: string,
  quantity: string,
  detectedAt: string,
  sequence?: number,
): DataOf<'usage.late_recorded'> {
  return {
    subscriptionId,
    customerId: 'user_123',
    planCode: 'pro',
    planVersion: 1,
    metricKey: 'API_CALL',
    aggregation: 'SUM',
    period: MARCH,
    quantity,
    eventCount: Number(quantity),
    detectedAt,
    ...(sequence === undefined ? {} : { sequence }),
  };
}

/** subscription.created data for a subscription of PRO_V1. */
export function subscriptionCreated(
  subscriptionId: string,
  customerId = 'user_123',
  testClockId?: string,
): DataOf<'subscription.created'> {
  return {
    subscriptionId,
    customerId,
    planCode: 'pro',
    planVersion: 1,
    startAt: MARCH.start,
    billingAnchor: MARCH.start,
    currentPeriod: MARCH,
    ...(testClockId ? { testClockId } : {}),
  };
}
