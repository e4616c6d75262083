// @ts-check
'use strict';
/**
 * The frame of a service benchmark's main: its start (the machine, the service's build, the
 * brokers and database), what its rounds leave behind (Postgres schemas, topics, consumer groups),
 * removed as each round ends, and a clean-up that runs once, at the end or on SIGINT, before the
 * run's problems decide its exit status.
 */
const fs = require('node:fs');
const path = require('node:path');
const { fmt } = require('./output.cjs');
const { machineFacts, localBrokerPid } = require('./machine.cjs');
const { postgresCpuSec } = require('./proc.cjs');
const { ensureBuilt } = require('./service.cjs');

const ROOT = path.resolve(__dirname, '..', '..');
const infra = require(path.join(ROOT, 'infra', 'local', 'index.cjs'));

/**
 * Logs the machine, builds services/<service> if missing, opens the brokers and database (env, else the local infra).
 * @param {{ service: string, poolMax: number, log: (msg: string) => void }} o
 */
async function prepareRun(o) {
  const facts = machineFacts();
  o.log(
    `machine: ${facts.nproc} CPUs (${facts.cpu}), ${fmt(facts.memGb)} GB RAM, ${facts.os}; node ${facts.node}; ` +
      `Kafka ${facts.kafka}`,
  );
  const serviceMain = ensureBuilt(o.service, o.log);
  const { KAFKA_BROKERS, DATABASE_URL } = process.env;
  const { kafkaBrokers, databaseUrl } =
    KAFKA_BROKERS && DATABASE_URL
      ? { kafkaBrokers: KAFKA_BROKERS, databaseUrl: DATABASE_URL }
      : await infra.ensureInfra({ log: o.log });
  const brokers = kafkaBrokers.split(',').map((/** @type {string} */ b) => b.trim());
  const brokerPid = localBrokerPid(brokers);
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: databaseUrl, max: o.poolMax, application_name: `bench-${o.service}` });
  const pgVersion = /** @type {string} */ ((await pool.query('show server_version')).rows[0].server_version);
  o.log(
    `broker ${brokers.join(',')}${brokerPid === null ? '' : ` (pid ${brokerPid}, CPU measured)`}; ` +
      `PostgreSQL ${pgVersion}${postgresCpuSec() === null ? '' : ' (local, CPU measured)'}`,
  );
  return { facts, serviceMain, brokers, brokerPid, databaseUrl: /** @type {string} */ (databaseUrl), pool, pgVersion };
}

/**
 * The schemas, topics and group prefixes a run's rounds create, listed, then dropped (a failure logged, not thrown).
 * @param {import('pg').Pool} pool
 * @param {{ deleteTopics: (topics: string[]) => Promise<void>, deleteGroups: (prefix: string) => Promise<void> }} k
 * @param {(msg: string) => void} log
 */
function scratchOf(pool, k, log) {
  /** @type {{ schemas: string[], topics: string[], groups: string[] }} */
  const left = { schemas: [], topics: [], groups: [] };
  const forget = (/** @type {string[]} */ xs, /** @type {string} */ x) => {
    const i = xs.indexOf(x);
    if (i >= 0) xs.splice(i, 1);
  };
  /** @param {unknown} err */
  const messageOf = (err) => (err instanceof Error ? err.message : String(err));
  /**
   * Drops and forgets these: each schema (cascade), each topic and its `.dlq`, the groups of each prefix.
   * @param {{ schemas?: string[], topics?: string[], groups?: string[] }} what
   */
  async function drop(what) {
    for (const schema of what.schemas ?? []) {
      await pool
        .query(`drop schema if exists ${schema} cascade`)
        .catch((e) => log(`could not drop ${schema}: ${messageOf(e)}`));
      forget(left.schemas, schema);
    }
    for (const topic of what.topics ?? []) {
      await k.deleteTopics([topic]).catch((e) => log(`could not delete the topics ${topic}*: ${messageOf(e)}`));
      forget(left.topics, topic);
    }
    for (const prefix of what.groups ?? []) {
      await k
        .deleteGroups(prefix)
        .catch((e) => log(`could not delete the consumer groups ${prefix}.*: ${messageOf(e)}`));
      forget(left.groups, prefix);
    }
  }
  return {
    /**
     * Lists what a round is about to create.
     * @param {{ schemas?: string[], topics?: string[], groups?: string[] }} what
     */
    add(what) {
      left.schemas.push(...(what.schemas ?? []));
      left.topics.push(...(what.topics ?? []));
      left.groups.push(...(what.groups ?? []));
    },
    drop,
    /** Removes all that is still listed; with `keep`, only prints it. @param {boolean} keep */
    async dropAll(keep) {
      if (keep)
        log(
          `kept: schemas ${left.schemas.join(', ')}; topics ${left.topics.join(', ')}; groups ${left.groups.join(', ')}`,
        );
      else await drop({ schemas: [...left.schemas], topics: [...left.topics], groups: [...left.groups] });
    },
  };
}

/**
 * Runs `body`, then `cleanup` once (SIGINT: then exit 130), keeps or removes the service logs, fails on problems.
 * @param {{ body: () => Promise<void>, cleanup: () => Promise<void>, interrupted: string, problems: string[], logFiles: string[], keep: boolean, log: (msg: string) => void }} o
 */
async function runWithCleanup(o) {
  /** @type {Promise<void> | null} */
  let cleaning = null;
  let interrupted = false;
  // Once only: SIGINT and the run's own end may both ask for it, and two would drop the same things at once.
  const cleanup = () => (cleaning ??= o.cleanup());
  process.once('SIGINT', () => {
    interrupted = true;
    o.log(o.interrupted);
    cleanup().finally(() => process.exit(130));
  });
  try {
    await o.body();
  } catch (err) {
    // After SIGINT, whatever was running fails as its process goes away: not a finding.
    if (!interrupted) o.problems.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
  } finally {
    await cleanup();
    if (o.keep || o.problems.length > 0) o.log(`service logs kept: ${o.logFiles.join(', ')}`);
    else for (const file of o.logFiles) fs.rmSync(file, { force: true });
  }
  if (o.problems.length > 0) {
    o.log(`FAILED: ${o.problems.length} problem(s):\n  ${o.problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

module.exports = { prepareRun, scratchOf, runWithCleanup };
