// The gateway's parts, built from the shared adapters: used by main.ts and by the integration
// tests, which run the same wiring in-process.
import type { EventProducer, Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import { randomUUID } from 'node:crypto';
import { ingestionRoutes } from './adapters/http/routes';
import { ProjectionConsumer } from './adapters/kafka/projection-consumer';
import type { IngestContext } from './app/ingest';
import { IngestionProjection } from './app/projection';
import { SendQueue } from './app/send-queue';
import { DEFAULT_INGESTION_SETTINGS, type IngestionSettings } from './config';
import { TokenBuckets } from './domain/rate-limit';

export interface IngestionDeps {
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

/** Builds the gateway's routes, readiness and workers. */
export function buildIngestion(deps: IngestionDeps) {
  const settings = deps.config ?? DEFAULT_INGESTION_SETTINGS;
  const projection = new IngestionProjection();
  const feed = new ProjectionConsumer({ ...deps, projection, topics: deps.projectionTopics });
  const queue = new SendQueue({
    sender: deps.producer,
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
  };
}
