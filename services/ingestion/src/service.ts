// The gateway's parts, built from the shared adapters: used by main.ts and by the integration
// tests, which run the same wiring in-process.
import type { EventProducer, Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import { randomUUID } from 'node:crypto';
import { ingestionRoutes } from './adapters/http/routes';
import { ProjectionConsumer } from './adapters/kafka/projection-consumer';
import { UsageProducer } from './adapters/kafka/usage-producer';
import type { IngestContext } from './app/ingest';
import { IngestionProjection } from './app/projection';
import { SendQueue } from './app/send-queue';
import { DEFAULT_INGESTION_SETTINGS, type IngestionSettings } from './config';
import { TokenBuckets } from './domain/rate-limit';

export interface IngestionDeps {
  /** KAFKA_BROKERS: the usage records go through a producer of the gateway's own (usage-producer.ts). */
  brokers: readonly string[];
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  config?: IngestionSettings;
  clock?: () => Date;
  /** Where keys, metrics and settings are read from (default: the identity and catalog topics). */
  projectionTopics?: readonly string[];
}

/** How many API keys' rate budgets are remembered (full buckets are forgotten first). */
const RATE_LIMITED_KEYS = 100_000;

/**
 * Retries of a failed produce request. Few: while one is retried the next requests wait behind
 * it, and each is answered 503 at its own INGEST_ACK_TIMEOUT_MS anyway.
 */
const PRODUCE_RETRIES = 2;

/** Builds the gateway's routes, readiness and workers. */
export function buildIngestion(deps: IngestionDeps) {
  const settings = deps.config ?? DEFAULT_INGESTION_SETTINGS;
  const projection = new IngestionProjection();
  const feed = new ProjectionConsumer({ ...deps, projection, topics: deps.projectionTopics });
  const usageProducer = new UsageProducer({
    brokers: deps.brokers,
    clientId: 'ingestion',
    logger: deps.logger,
    timeoutMs: settings.ackTimeoutMs,
    retries: PRODUCE_RETRIES,
  });
  const queue = new SendQueue({
    sender: usageProducer,
    topic: settings.usageTopic,
    maxRecordsPerSend: settings.sendMaxEvents,
    maxRecordsWaiting: settings.maxInFlightEvents,
    lingerMs: settings.lingerMs,
  });
  const ctx: IngestContext = {
    projection,
    queue,
    buckets: new TokenBuckets({
      ratePerSecond: settings.ratePerSecond,
      burst: settings.rateBurst,
      maxKeys: RATE_LIMITED_KEYS,
    }),
    settings,
    ready: () => feed.caughtUp(),
    clock: deps.clock ?? (() => new Date()),
    newId: randomUUID,
  };
  return {
    ctx,
    projection,
    routes: ingestionRoutes(ctx),
    readiness: { projection: async () => feed.caughtUp() },
    jsonLimit: settings.maxBodyBytes,
    workers: [{ name: 'projection', start: () => feed.start(), stop: () => feed.stop() }],
    clients: [
      {
        name: 'usage-producer',
        start: () => usageProducer.connect(settings.usageTopic),
        stop: () => usageProducer.close(),
      },
    ],
  };
}
