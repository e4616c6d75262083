// The subscription service's parts, built from the shared adapters: used by main.ts and by the
// integration tests, which run the same wiring in-process.
import { Authenticator, ProjectionAuthStore, serviceAuth } from '@usageflow/auth';
import type { Knex } from '@usageflow/db';
import type { EventProducer, Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import { subscriptionRoutes } from './adapters/http/routes';
import type { SubscriptionContext } from './app/context';

export interface SubscriptionDeps {
  db: Knex;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  /** Tests inject a clock; production uses the wall clock. */
  clock?: () => Date;
  /** Tests that seed the identity projection themselves skip its consumer. */
  identityProjection?: boolean;
}

/** Builds the subscription service's routes and workers. */
export function buildSubscription(deps: SubscriptionDeps) {
  const ctx: SubscriptionContext = { db: deps.db, logger: deps.logger, clock: deps.clock ?? (() => new Date()) };
  const workers: { name: string; start(): Promise<void> | void; stop(): Promise<void> }[] = [];
  let authenticator: Authenticator;
  if (deps.identityProjection === false) {
    authenticator = new Authenticator({ store: new ProjectionAuthStore(deps.db), cacheTtlMs: 0, clock: ctx.clock });
  } else {
    const auth = serviceAuth({ service: 'subscription', ...deps });
    authenticator = auth.authenticator;
    workers.push(auth.worker);
  }
  return { ctx, authenticator, routes: subscriptionRoutes(ctx, authenticator), workers };
}
