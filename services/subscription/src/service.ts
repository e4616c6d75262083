// The subscription service's parts, built from the shared adapters: used by main.ts and by the
// integration tests, which run the same wiring in-process.
import { serviceAuth } from '@usageflow/auth';
import type { HighWaterMark } from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';
import { highWaterMarks, type EventProducer, type Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import { invoiceFailedConsumer } from './adapters/kafka/invoice-failed';
import { subscriptionRoutes } from './adapters/http/routes';
import type { SubscriptionContext } from './app/context';
import { periodCloser } from './app/period-closing';
import { DEFAULT_SUBSCRIPTION_SETTINGS, type SubscriptionSettings } from './config';

export interface SubscriptionDeps {
  db: Knex;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  /** The service's settings (subscriptionConfig); defaults when omitted. */
  config?: SubscriptionSettings;
  /** Tests inject a clock; production uses the wall clock. */
  clock?: () => Date;
  /** Tests that seed the identity projection themselves skip its consumer. */
  identityProjection?: boolean;
  /** Tests run a sweep by hand instead of the interval worker. */
  periodCloser?: boolean;
  /** Where invoice.failed is read from (tests give each run a topic of its own); false skips it. */
  invoiceFailed?: false | { topic?: string; groupId?: string };
}

type Worker = { name: string; start(): Promise<void> | void; stop(): Promise<void> };

/** Builds the subscription service's routes and workers. */
export function buildSubscription(deps: SubscriptionDeps) {
  const settings = deps.config ?? DEFAULT_SUBSCRIPTION_SETTINGS;
  const ctx: SubscriptionContext = {
    db: deps.db,
    logger: deps.logger,
    clock: deps.clock ?? (() => new Date()),
    settings,
    usageHighWaterMarks: () => usageMarks(deps.kafka, settings.usageTopic),
  };
  const workers: Worker[] = [];
  const auth = serviceAuth({ service: 'subscription', ...deps, clock: ctx.clock });
  const authenticator = auth.authenticator;
  workers.push(...auth.workers);
  if (deps.invoiceFailed !== false) {
    const consumer = invoiceFailedConsumer({ ctx, ...deps, ...deps.invoiceFailed });
    workers.push({ name: 'invoice-failed', start: () => consumer.start(), stop: () => consumer.stop() });
  }
  if (deps.periodCloser !== false) workers.push(periodCloser(ctx, ctx.settings.closerIntervalMs));
  return { ctx, authenticator, routes: subscriptionRoutes(ctx, authenticator), workers };
}

/** The usage topic's high-water marks, by partition. */
async function usageMarks(kafka: Kafka, topic: string): Promise<HighWaterMark[]> {
  const marks = await highWaterMarks(kafka, topic);
  return [...marks].sort(([a], [b]) => a - b).map(([partition, offset]) => ({ partition, offset: offset.toString() }));
}
