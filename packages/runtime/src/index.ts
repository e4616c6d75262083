// The composition every service shares, written once: each service's main.ts names itself,
// its migrations and what it wires (routes, consumers), and this builds the adapters in order
// and stops them in reverse. Nothing here starts on import.
import { commonSpec, ConfigError, loadConfig } from '@usageflow/config';
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

export interface ServiceDeps<C = unknown> {
  logger: Logger;
  db: Knex;
  kafka: Kafka;
  producer: EventProducer;
  /** The service's own settings, as its `config` parsed them. */
  config: C;
}

export interface ServiceParts {
  routes?: (app: Express) => void;
  /** Readiness checks beside the database and Kafka (e.g. a projection has caught up). */
  readiness?: Record<string, () => Promise<boolean>>;
  /** Started after the HTTP server, stopped before it closes. */
  workers?: ReadonlyArray<{ name: string; start(): Promise<void> | void; stop(): Promise<void> }>;
}

type Step = { name: string; stop: () => Promise<unknown> };

/**
 * Runs a service: `node main.js` serves; `node main.js migrate` applies migrations and exits.
 * SIGTERM/SIGINT stop everything in reverse order of start, bounded by SHUTDOWN_TIMEOUT_MS.
 */
export async function runService<C>(def: ServiceDefinition<C>, argv = process.argv.slice(2)): Promise<void> {
  const schemaDefault = def.name.replace(/-/g, '_');
  let config;
  let serviceConfig: C;
  try {
    config = loadConfig(commonSpec({ port: def.defaultPort, schema: schemaDefault }));
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

  const shutdown = async (reason: string, code = 0) => {
    logger.info({ reason }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    for (const step of steps.reverse()) {
      await step.stop().catch((err: unknown) => logger.error({ err, step: step.name }, 'stop failed'));
    }
    clearTimeout(timer);
    process.exit(code);
  };

  // Installed before anything starts: a SIGTERM during startup (a slow consumer join, say)
  // still stops what has started, in reverse order, instead of killing the process mid-step.
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  try {
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
      await db.destroy();
      await telemetry.shutdown();
      return;
    }
    if (config.MIGRATE_ON_START) {
      const applied = await migrate(db, config.DATABASE_SCHEMA, migrations);
      if (applied.length) logger.info({ applied }, 'migrations applied');
    }

    const kafka = createKafkaClient({ brokers: config.KAFKA_BROKERS, clientId: def.name, logger });
    const producer = new EventProducer(kafka, { logger });
    await producer.connect();
    steps.push({ name: 'producer', stop: () => producer.disconnect() });
    const relay = new OutboxRelay({ db, kafka, producer, logger: logger.child({ component: 'outbox-relay' }) });
    relay.start();
    steps.push({ name: 'outbox-relay', stop: () => relay.stop() });

    const parts = (await def.wire?.({ logger, db, kafka, producer, config: serviceConfig })) ?? {};
    const app = createHttpApp({
      logger,
      readiness: {
        database: () => databaseReachable(db),
        kafka: () => kafkaReachable(kafka),
        ...parts.readiness,
      },
      routes: parts.routes,
    });
    const server = await startHttpServer(app, config.PORT);
    steps.push({ name: 'http', stop: () => server.close(config.SHUTDOWN_TIMEOUT_MS / 2) });
    for (const worker of parts.workers ?? []) {
      await worker.start();
      steps.push({ name: worker.name, stop: () => worker.stop() });
    }
    logger.info({ port: server.port, schema: config.DATABASE_SCHEMA }, `${def.name} listening`);
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    await shutdown('startup failure', 1);
    return;
  }
}
