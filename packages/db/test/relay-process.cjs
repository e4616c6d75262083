// A relay as its own process, so the test can SIGKILL it at a chosen point. Runs the built
// packages (npm test builds before testing). PAUSE_AFTER_SEND_MS holds each batch between
// Kafka's acknowledgement and the marking in Postgres: the window a crash must survive.
'use strict';
const { createDatabase, OutboxRelay } = require('@usageflow/db');
const { createKafkaClient, EventProducer } = require('@usageflow/kafka');
const { createLogger } = require('@usageflow/telemetry');

async function main() {
  const env = process.env;
  const pauseMs = Number(env.PAUSE_AFTER_SEND_MS || 0);
  const logger = createLogger({ service: 'relay-process', level: env.TEST_LOG_LEVEL || 'warn' });
  const db = createDatabase({ url: env.DATABASE_URL, schema: env.SCHEMA, poolMax: 3 });
  const kafka = createKafkaClient({ brokers: env.KAFKA_BROKERS.split(','), clientId: 'relay-process', logger });
  const producer = new EventProducer(kafka, { logger });
  await producer.connect();
  const relay = new OutboxRelay({
    db,
    kafka,
    producer,
    logger,
    batchSize: Number(env.BATCH_SIZE || 100),
    afterSend: async (n) => {
      process.stdout.write(`SENT ${n}\n`);
      if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    },
  });
  await relay.recover();
  relay.start();
  process.stdout.write('STARTED\n');
  process.once('SIGTERM', async () => {
    await relay.stop();
    await producer.disconnect();
    await db.destroy();
    process.exit(0);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
