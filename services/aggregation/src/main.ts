// Composition root of the aggregation service: the usage consumer (exactly-once event store and
// hourly rollups), the catalog, subscriptions and invoices projections, the period summarizer, the
// live usage queries, the event trace and the reconciliation. `node main.js rebuild` empties the projection and rewinds its consumer groups.
import { serviceAuthMigrations } from '@usageflow/auth';
import { commonSpec, loadConfig } from '@usageflow/config';
import { createDatabase } from '@usageflow/db';
import { createKafkaClient } from '@usageflow/kafka';
import { runService } from '@usageflow/runtime';
import { createLogger } from '@usageflow/telemetry';
import { aggregationMigrations } from './adapters/db/migrations';
import { usageRoutes } from './adapters/http/routes';
import { rebuildProjection, RebuildRefused } from './app/rebuild';
import { aggregationConfig } from './config';
import { buildAggregation } from './service';

const NAME = 'aggregation';
const PORT = 4004;

async function rebuild(): Promise<number> {
  const config = loadConfig(commonSpec({ port: PORT, schema: NAME }));
  const settings = aggregationConfig(process.env);
  const logger = createLogger({ service: NAME, level: config.LOG_LEVEL });
  const db = createDatabase({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, applicationName: NAME });
  const kafka = createKafkaClient({ brokers: config.KAFKA_BROKERS, clientId: `${NAME}-rebuild`, logger });
  try {
    const done = await rebuildProjection({
      db,
      kafka,
      logger,
      groupPrefix: settings.groupPrefix,
      topics: { usage: settings.usageTopic, ...settings.topics },
    });
    logger.info(done, 'rebuild ready: start the service to replay the topics from offset 0');
    return 0;
  } catch (err) {
    if (err instanceof RebuildRefused) {
      logger.error(err.message);
      return 1;
    }
    throw err;
  } finally {
    await db.destroy();
  }
}

if (process.argv[2] === 'rebuild') {
  rebuild().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  void runService({
    name: NAME,
    defaultPort: PORT,
    config: aggregationConfig,
    migrations: [...serviceAuthMigrations, ...aggregationMigrations],
    wire(deps) {
      const service = buildAggregation(deps);
      return {
        routes: usageRoutes(service.ctx, service.authenticator, { usageTopic: service.settings.usageTopic }),
        workers: service.workers,
      };
    },
  });
}
