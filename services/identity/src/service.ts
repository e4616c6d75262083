// The identity service's parts, built from the shared adapters: used by main.ts and by the
// integration tests, which run the same wiring in-process.
import { Authenticator } from '@usageflow/auth';
import type { Knex } from '@usageflow/db';
import type { EventProducer, Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import { randomBytes } from 'node:crypto';
import { identityRoutes } from './adapters/http/routes';
import { apiKeyLastUsedConsumer } from './adapters/kafka/api-key-last-used';
import { endpointNoticesConsumer } from './adapters/kafka/endpoint-notices';
import { LogMailer, SmtpMailer, type Mailer } from './adapters/mail/mailer';
import { IdentityAuthStore } from './app/auth-store';
import type { IdentityContext } from './app/context';
import { KeyRing } from './app/key-ring';
import { maintenanceWorker } from './app/maintenance';
import type { IdentityConfig } from './config';

export interface IdentityDeps {
  db: Knex;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  config: IdentityConfig;
  /** Tests inject these; production uses the wall clock, crypto randomness and SMTP/log. */
  clock?: () => Date;
  random?: (bytes: number) => Buffer;
  mailer?: Mailer;
}

/** Builds identity: creates the first signing key if none exists, then returns its parts. */
export async function buildIdentity(deps: IdentityDeps) {
  const { db, kafka, producer, logger, config } = deps;
  const mailer =
    deps.mailer ?? (config.smtpUrl ? new SmtpMailer(config.smtpUrl, config.mailFrom) : new LogMailer(logger));
  const ctx: IdentityContext = {
    db,
    config,
    logger,
    mailer,
    clock: deps.clock ?? (() => new Date()),
    random: deps.random ?? randomBytes,
  };
  const keys = new KeyRing(ctx);
  await keys.rotate(); // the first start creates (and publishes) the first signing key
  // Identity reads its own tables uncached: a role change or removal holds on its next request.
  // (Other services cache their projection for a few seconds.)
  const authenticator = new Authenticator({ store: new IdentityAuthStore(db), cacheTtlMs: 0, clock: ctx.clock });
  const workers: { name: string; start(): Promise<void> | void; stop(): Promise<void> }[] = [
    maintenanceWorker(ctx, keys),
    { name: 'mailer', start() {}, stop: () => mailer.close() },
  ];
  if (config.apiKeyLastUsed) {
    const consumer = apiKeyLastUsedConsumer({ kafka, producer, db, logger });
    workers.push({ name: 'api-key-last-used', start: () => consumer.start(), stop: () => consumer.stop() });
  }
  if (config.endpointNotices) {
    const consumer = endpointNoticesConsumer({ ctx, kafka, producer, logger });
    workers.push({ name: 'endpoint-notices', start: () => consumer.start(), stop: () => consumer.stop() });
  }
  return {
    ctx,
    keys,
    authenticator,
    routes: identityRoutes(ctx, keys, authenticator),
    readiness: { signingKey: async () => keys.canSign() },
    workers,
  };
}
