// What a service other than identity wires to authenticate requests: its identity projection
// (a migration, a consumer keeping it) and an authenticator reading it. One call in main.ts.
import type { Knex } from '@usageflow/db';
import type { EventProducer, Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import { Authenticator } from './authenticator';
import { createIdentityProjectionConsumer, identityProjectionMigration, ProjectionAuthStore } from './projection';

export interface ServiceAuthOptions {
  /** The service's name: its consumer group is `<service>.identity-projection`. */
  service: string;
  db: Knex;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  /** How long a verified key or member is trusted before re-reading the projection (default 5 s). */
  cacheTtlMs?: number;
  /** Default `usageflow.identity.v1`. */
  topic?: string;
  /**
   * Tests that seed the projection themselves (`seedIdentityProjection`) pass false: no consumer,
   * no cache, and the test's clock.
   */
  identityProjection?: boolean;
  clock?: () => Date;
}

/** The migration a service using `serviceAuth` adds to its own. */
export const serviceAuthMigrations = [identityProjectionMigration] as const;

/**
 * Builds a service's auth: an authenticator over its identity projection, and the worker that
 * keeps the projection (this replica's caches are cleared after each applied batch; other
 * replicas see a change within `cacheTtlMs`).
 */
export function serviceAuth(options: ServiceAuthOptions) {
  if (options.identityProjection === false) {
    const authenticator = new Authenticator({
      store: new ProjectionAuthStore(options.db),
      cacheTtlMs: 0,
      clock: options.clock,
    });
    return { authenticator, workers: [] };
  }
  const authenticator = new Authenticator({
    store: new ProjectionAuthStore(options.db),
    cacheTtlMs: options.cacheTtlMs,
  });
  const consumer = createIdentityProjectionConsumer({
    kafka: options.kafka,
    producer: options.producer,
    db: options.db,
    logger: options.logger.child({ component: 'identity-projection' }),
    groupId: `${options.service}.identity-projection`,
    topic: options.topic,
    onApplied: () => authenticator.invalidate(),
  });
  return {
    authenticator,
    workers: [{ name: 'identity-projection', start: () => consumer.start(), stop: () => consumer.stop() }],
  };
}
