// The composition every service shares, written once: each service's main.ts names itself,
// its migrations and what it wires (routes, consumers), and this builds the adapters in order
// and stops them in reverse. Nothing here starts on import.
import { commonSpec, ConfigError, loadConfig, statelessSpec } from '@usageflow/config';
import {
  createDatabase,
  databaseReachable,
  messagingMigrations,
  migrate,
  OutboxRelay,
  type Knex,
  type Migration,
} from '@usageflow/db';
import { createHttpApp, idempotencyMigration, startHttpServer } from '@usageflow/http';
import { createKafkaClient, EventProducer, kafkaReachable, type Kafka } from '@usageflow/kafka';
import { createLogger, startTelemetry, type Logger } from '@usageflow/telemetry';
import type { Express } from 'express';

/** What a service hands to `runService`. */
export interface ServiceDefinition<C = unknown> {
  /** Service name: logs, telemetry, Kafka client id, default schema. */
  name: string;
  defaultPort: number;
  /**
   * Parses the service's own settings (beside the common ones) from the environment, once, at
   * startup; throw the `ConfigError` of `loadConfig` and the process exits 78 naming the variable.
   */
  config?: (env: Record<string, string | undefined>) => C;
  /** The service's own migrations (the outbox, inbox and idempotency-key tables are added). */
  migrations?: readonly Migration[];
  /** Builds the service's parts from the shared adapters. */
  wire?: (deps: ServiceDeps<C>) => ServiceParts | Promise<ServiceParts>;
}

/**
 * A service that keeps no database (the ingestion gateway: its replicas share nothing but
 * Kafka). It needs no DATABASE_URL and runs no migrations and no outbox relay.
 */
export interface StatelessServiceDefinition<C = unknown> extends Omit<ServiceDefinition<C>, 'migrations' | 'wire'> {
  wire?: (deps: StatelessServiceDeps<C>) => ServiceParts | Promise<ServiceParts>;
}

/** What a stateless service is built from. */
export interface StatelessServiceDeps<C = unknown> {
  logger: Logger;
  /** KAFKA_BROKERS, for a service that builds a client of its own (the gateway's hot path). */
  brokers: string[];
  kafka: Kafka;
  producer: EventProducer;
  /** The service's own settings, as its `config` parsed them. */
  config: C;
}

export interface ServiceDeps<C = unknown> extends StatelessServiceDeps<C> {
  db: Knex;
}

export interface ServiceParts {
  routes?: (app: Express) => void;
  /** Readiness checks beside the database and Kafka (e.g. a projection has caught up). */
  readiness?: Record<string, () => Promise<boolean>>;
  /** The largest JSON body accepted (bytes, or '1mb'); 1 MB by default. */
  jsonLimit?: string | number;
  /** Started after the HTTP server, stopped before it closes. */
  workers?: ReadonlyArray<{ name: string; start(): Promise<void> | void; stop(): Promise<void> }>;
  /**
   * Clients the routes answer with (the gateway's own producer): started before the HTTP server,
   * stopped after it closed, so requests in flight at shutdown still complete.
   */
  clients?: ReadonlyArray<{ name: string; start(): Promise<void> | void; stop(): Promise<void> }>;
}

type Step = { name: string; stop: () => Promise<unknown> };

/**
 * Runs a service: `node main.js` serves; `node main.js migrate` applies migrations and exits.
 * SIGTERM/SIGINT stop everything in reverse order of start, bounded by SHUTDOWN_TIMEOUT_MS.
 */
export async function runService<C>(def: ServiceDefinition<C>, argv = process.argv.slice(2)): Promise<void> {
  const life = lifecycle(def, commonSpec({ port: def.defaultPort, schema: def.name.replace(/-/g, '_') }));
  const { config, logger, steps } = life;
  await life.run(async () => {
    const db = createDatabase({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      poolMax: config.DATABASE_POOL_MAX,
      applicationName: def.name,
    });
    steps.push({ name: 'database', stop: () => db.destroy() });
    const migrations = [...messagingMigrations, idempotencyMigration, ...(def.migrations ?? [])];
    if (argv[0] === 'migrate') {
      const applied = await migrate(db, config.DATABASE_SCHEMA, migrations);
      logger.info({ applied, schema: config.DATABASE_SCHEMA }, 'migrations applied');
      return 'done';
    }
    if (config.MIGRATE_ON_START) {
      const applied = await migrate(db, config.DATABASE_SCHEMA, migrations);
      if (applied.length) logger.info({ applied }, 'migrations applied');
    }
    const { kafka, producer } = await life.connectKafka();
    const relay = new OutboxRelay({ db, kafka, producer, logger: logger.child({ component: 'outbox-relay' }) });
    relay.start();
    steps.push({ name: 'outbox-relay', stop: () => relay.stop() });

    const parts =
      (await def.wire?.({
        logger,
        brokers: life.config.KAFKA_BROKERS,
        db,
        kafka,
        producer,
        config: life.serviceConfig,
      })) ?? {};
    await life.serve(parts, { database: () => databaseReachable(db), kafka: () => kafkaReachable(kafka) });
    logger.info({ port: config.PORT, schema: config.DATABASE_SCHEMA }, `${def.name} listening`);
    return 'serving';
  });
}

/** Runs a service without a database; `migrate` has nothing to do and says so. */
export async function runStatelessService<C>(
  def: StatelessServiceDefinition<C>,
  argv = process.argv.slice(2),
): Promise<void> {
  const life = lifecycle(def, statelessSpec({ port: def.defaultPort }));
  await life.run(async () => {
    if (argv[0] === 'migrate') {
      life.logger.info('no database: nothing to migrate');
      return 'done';
    }
    const { kafka, producer } = await life.connectKafka();
    const parts =
      (await def.wire?.({
        logger: life.logger,
        brokers: life.config.KAFKA_BROKERS,
        kafka,
        producer,
        config: life.serviceConfig,
      })) ?? {};
    await life.serve(parts, { kafka: () => kafkaReachable(kafka) });
    life.logger.info({ port: life.config.PORT }, `${def.name} listening`);
    return 'serving';
  });
}

/** What every service shares: settings, logs, telemetry, the ordered stop, HTTP and Kafka. */
function lifecycle<C, S extends ReturnType<typeof statelessSpec>>(
  def: { name: string; config?: (env: Record<string, string | undefined>) => C },
  spec: S,
) {
  let config: ReturnType<typeof loadConfig<S>>;
  let serviceConfig: C;
  try {
    config = loadConfig(spec);
    serviceConfig = def.config ? def.config(process.env) : (undefined as C);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${def.name}: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger({ service: def.name, level: config.LOG_LEVEL });
  const steps: Step[] = [];
  const telemetry = startTelemetry({ serviceName: def.name, otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  steps.push({ name: 'telemetry', stop: () => telemetry.shutdown() });

  let stopping: string | undefined;
  const stopAll = async () => {
    for (const step of steps.splice(0).reverse()) {
      stopping = step.name;
      logger.debug({ step: step.name }, 'stopping');
      await step.stop().catch((err: unknown) => logger.error({ err, step: step.name }, 'stop failed'));
    }
    stopping = undefined;
  };
  // One shutdown per process: a second reason (a start step failing because the first shutdown
  // stopped what it needed) neither stops twice nor changes the exit code.
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (reason: string, code = 0): Promise<void> => {
    shuttingDown ??= (async () => {
      logger.info({ reason }, 'shutting down');
      const timer = setTimeout(() => {
        logger.error({ step: stopping }, `shutdown timed out while stopping ${stopping ?? 'nothing'}; exiting`);
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS).unref();
      await stopAll();
      clearTimeout(timer);
      process.exit(code);
    })();
    return shuttingDown;
  };

  return {
    config,
    serviceConfig,
    logger,
    steps,
    /** Starts the service; 'done' (a one-off command) stops what it opened and returns. */
    async run(start: () => Promise<'done' | 'serving'>): Promise<void> {
      // Installed before anything starts: a SIGTERM during startup (a slow consumer join, say)
      // still stops what has started, in reverse order, instead of killing the process mid-step.
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      process.once('SIGINT', () => void shutdown('SIGINT'));
      try {
        if ((await start()) === 'done') await stopAll();
      } catch (err) {
        // Stopped while starting (SIGTERM before every worker had started): the steps torn down
        // under the start made it fail, which is the shutdown asked for, not a startup failure.
        if (shuttingDown) {
          logger.info({ err }, 'startup interrupted by the shutdown');
          return;
        }
        logger.fatal({ err }, 'failed to start');
        await shutdown('startup failure', 1);
      }
    },
    async connectKafka() {
      const kafka = createKafkaClient({ brokers: config.KAFKA_BROKERS, clientId: def.name, logger });
      const producer = new EventProducer(kafka, { logger });
      await producer.connect();
      steps.push({ name: 'producer', stop: () => producer.disconnect() });
      return { kafka, producer };
    },
    /** Serves HTTP with the shared readiness checks and the service's own, then starts its workers. */
    async serve(parts: ServiceParts, readiness: Record<string, () => Promise<boolean>>) {
      const app = createHttpApp({
        logger,
        readiness: { ...readiness, ...parts.readiness },
        routes: parts.routes,
        jsonLimit: parts.jsonLimit,
      });
      for (const client of parts.clients ?? []) {
        await client.start();
        steps.push({ name: client.name, stop: () => client.stop() });
      }
      const server = await startHttpServer(app, config.PORT);
      steps.push({ name: 'http', stop: () => server.close(config.SHUTDOWN_TIMEOUT_MS / 2) });
      for (const worker of parts.workers ?? []) {
        await worker.start();
        steps.push({ name: worker.name, stop: () => worker.stop() });
      }
    },
  };
}
export { Poller, type PollerOptions } from './poller';
