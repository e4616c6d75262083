// The webhook-dispatch service's parts, built from the shared adapters: used by main.ts and by
// the integration tests, which run the same wiring in-process.
import { serviceAuth } from '@usageflow/auth';
import type { Knex } from '@usageflow/db';
import type { EventProducer, Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { webhookRoutes } from './adapters/http/routes';
import { fanoutConsumer } from './adapters/kafka/fanout';
import type { WebhookContext } from './app/context';
import { Dispatcher, type DispatcherOptions } from './app/dispatcher';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from './config';

export interface WebhookDeps {
  db: Knex;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  config?: WebhookSettings;
  clock?: () => Date;
  random?: () => number;
  /** Tests that seed the identity projection themselves skip its consumer. */
  identityProjection?: boolean;
  /** Where webhook events are read from (tests give each run topics of their own); false skips it. */
  fanout?: false | { topics?: readonly string[]; groupId?: string };
  /** The sending worker (tests shorten the retry schedule); false skips it. */
  dispatcher?: false | DispatcherOptions;
}

type Worker = { name: string; start(): Promise<void> | void; stop(): Promise<void> };

/** Every address `hostname` resolves to (IPv4 and IPv6), as the sender will connect to them. */
async function resolveAll(hostname: string): Promise<string[]> {
  const found = await lookup(hostname, { all: true, verbatim: true });
  return found.map((a) => a.address);
}

/** Builds the webhook-dispatch service's routes and workers. */
export function buildWebhookDispatch(deps: WebhookDeps) {
  const ctx: WebhookContext = {
    db: deps.db,
    logger: deps.logger,
    clock: deps.clock ?? (() => new Date()),
    random: deps.random ?? Math.random,
    randomBytes,
    settings: deps.config ?? DEFAULT_WEBHOOK_SETTINGS,
    resolve: resolveAll,
  };
  const workers: Worker[] = [];
  const auth = serviceAuth({ service: 'webhook-dispatch', ...deps, clock: ctx.clock });
  const authenticator = auth.authenticator;
  workers.push(...auth.workers);
  const dispatcher = deps.dispatcher === false ? undefined : new Dispatcher(ctx, deps.dispatcher);
  if (deps.fanout !== false) {
    const consumer = fanoutConsumer({ ctx, ...deps, ...deps.fanout, onCreated: () => dispatcher?.nudge() });
    workers.push({ name: 'webhook-fanout', start: () => consumer.start(), stop: () => consumer.stop() });
  }
  if (dispatcher) workers.push(dispatcher);
  return { ctx, authenticator, routes: webhookRoutes(ctx, authenticator), workers };
}
