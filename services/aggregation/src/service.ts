// The aggregation service's parts, built from the shared adapters: used by main.ts and by the
// integration tests, which run the same wiring in-process.
import { serviceAuth } from '@usageflow/auth';
import type { Knex } from '@usageflow/db';
import type { EventProducer, Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import { projectionConsumers } from './adapters/kafka/projections';
import { usageConsumer } from './adapters/kafka/usage-consumer';
import type { AggregationContext } from './app/context';
import { Summarizer } from './app/summarizer';
import { DEFAULT_AGGREGATION_SETTINGS, type AggregationSettings } from './config';

export interface AggregationDeps {
  db: Knex;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  config?: AggregationSettings;
  clock?: () => Date;
  /** Tests that seed the identity projection themselves skip its consumer. */
  identityProjection?: boolean;
  /** false skips the usage consumer (tests that drive ingestBatch themselves). */
  usage?: boolean;
}

type Worker = { name: string; start(): Promise<void> | void; stop(): Promise<void> };

/** Builds the aggregation service's routes and workers. */
export function buildAggregation(deps: AggregationDeps) {
  const settings = deps.config ?? DEFAULT_AGGREGATION_SETTINGS;
  const { topics } = settings;
  const ctx: AggregationContext = { db: deps.db, logger: deps.logger, clock: deps.clock ?? (() => new Date()) };
  const workers: Worker[] = [];
  const auth = serviceAuth({ service: 'aggregation', ...deps, clock: ctx.clock });
  workers.push(...auth.workers);
  const summarizer = new Summarizer(ctx, {
    usageTopic: settings.usageTopic,
    summariesTopic: topics.summaries,
    pollIntervalMs: settings.summaryPollMs,
  });
  for (const consumer of projectionConsumers({
    ctx,
    ...deps,
    groupPrefix: settings.groupPrefix,
    topics,
    onApplied: () => summarizer.nudge(),
  })) {
    workers.push({ name: 'projection', start: () => consumer.start(), stop: () => consumer.stop() });
  }
  if (deps.usage !== false) {
    const consumer = usageConsumer({
      ctx,
      ...deps,
      topic: settings.usageTopic,
      groupId: `${settings.groupPrefix}.usage`,
      concurrency: settings.concurrency,
      fetchMaxBytes: settings.fetchMaxBytes,
      summariesTopic: topics.summaries,
      onProgress: () => summarizer.progressed(),
    });
    workers.push({ name: 'usage-consumer', start: () => consumer.start(), stop: () => consumer.stop() });
  }
  workers.push(summarizer);
  return { ctx, settings, authenticator: auth.authenticator, summarizer, workers };
}
