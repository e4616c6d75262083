// @ts-check
'use strict';
/**
 * A pinned Apache Kafka broker (single node, KRaft combined mode) run straight from the jars on
 * Maven Central: no Docker, no tarball download, no ZooKeeper. See infra/local/pom.xml for the
 * version and why it is 3.9.x (the newest line KafkaJS 2.2.4 speaks).
 *
 * Layout under <repo>/.local/kafka/:
 *   libs/              the broker's runtime classpath (resolved once by Maven; re-resolved when
 *                      pom.xml changes, keyed by its SHA-256 in libs/.pom-sha256)
 *   data/              log.dirs (topic data + KRaft metadata log; formatted once)
 *   logs/server.log    the broker's log4j output;  logs/kafka.out  JVM stdout/stderr
 *   logs/mvn.log       output of the last jar resolution
 *   server.properties, log4j.properties   rewritten on every start from the code below
 *   kafka.pid          pid of the detached broker JVM
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { TOPICS } = require('./topics.cjs');
const u = require('./util.cjs');

const POM = path.join(__dirname, 'pom.xml');
const KAFKA_DIR = path.join(u.LOCAL_DIR, 'kafka');
const LIBS_DIR = path.join(KAFKA_DIR, 'libs');
const DATA_DIR = path.join(KAFKA_DIR, 'data');
const LOGS_DIR = path.join(KAFKA_DIR, 'logs');
const SERVER_PROPERTIES = path.join(KAFKA_DIR, 'server.properties');
const LOG4J_PROPERTIES = path.join(KAFKA_DIR, 'log4j.properties');
const TOOLS_LOG4J_PROPERTIES = path.join(KAFKA_DIR, 'tools-log4j.properties');
const PID_FILE = path.join(KAFKA_DIR, 'kafka.pid');
const SERVER_LOG = path.join(LOGS_DIR, 'server.log');
const JVM_OUT = path.join(LOGS_DIR, 'kafka.out');
const MVN_LOG = path.join(LOGS_DIR, 'mvn.log');
const POM_MARKER = path.join(LIBS_DIR, '.pom-sha256');

const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;

/** The pinned version, read from pom.xml so there is one place to change it. */
const KAFKA_VERSION = (() => {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(POM, 'utf8'));
  return m ? m[1].trim() : 'unknown';
})();

const JAVA = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
const MVN = process.env.MVN ?? 'mvn';

/** Client port from USAGEFLOW_KAFKA_PORT (default 19092); the KRaft controller uses port+1. */
function kafkaPorts() {
  const port = u.portFromEnv('USAGEFLOW_KAFKA_PORT', 19092);
  if (port === 65535) throw new Error('USAGEFLOW_KAFKA_PORT must leave room for the controller port (port+1)');
  return { port, controllerPort: port + 1 };
}

/**
 * 127.0.0.1 rather than localhost everywhere: the listeners bind IPv4 loopback only, and
 * Node >= 17 (and some JVM setups) may resolve localhost to ::1 first.
 * @param {number} port
 */
const brokersFor = (port) => `127.0.0.1:${port}`;

/** The classpath argument for `java -cp` (Java expands the trailing `*` itself; no shell). */
const classpath = () => `${LIBS_DIR}${path.sep}*`;

// ---------------------------------------------------------------------------------------------
// Jars
// ---------------------------------------------------------------------------------------------

function pomHash() {
  return crypto.createHash('sha256').update(fs.readFileSync(POM)).digest('hex');
}

/** @param {string} dir */
const countJars = (dir) => {
  try {
    return fs.readdirSync(dir).filter((f) => f.endsWith('.jar')).length;
  } catch {
    return 0;
  }
};

/**
 * Resolves the broker's (and kafka-tools') runtime jars into .local/kafka/libs, once per
 * pom.xml content. Resolution goes to a scratch folder that is renamed into place only when
 * Maven succeeded, so an interrupted download never leaves a half classpath behind.
 * @param {{ log?: u.Log }} [opts]
 * @returns {Promise<string>} the libs directory
 */
async function resolveKafkaLibs({ log = console.log } = {}) {
  const hash = pomHash();
  let previous = null;
  try {
    previous = fs.readFileSync(POM_MARKER, 'utf8').trim();
  } catch {
    // not resolved yet
  }
  if (previous === hash && countJars(LIBS_DIR) > 0) return LIBS_DIR;

  const t0 = Date.now();
  log(
    previous
      ? `[infra] infra/local/pom.xml changed: re-resolving Kafka ${KAFKA_VERSION} jars from Maven Central...`
      : `[infra] resolving Kafka ${KAFKA_VERSION} jars from Maven Central (first run, ~56 MB)...`,
  );
  u.mkdirp(LOGS_DIR);
  const scratch = path.join(KAFKA_DIR, 'libs.partial');
  fs.rmSync(scratch, { recursive: true, force: true });
  u.mkdirp(scratch);

  const out = fs.openSync(MVN_LOG, 'w');
  /** @type {number | null} */
  let code;
  // A heartbeat, so that a slow first download is never a silent minute.
  const heartbeat = setInterval(() => {
    log(`[infra]   ...still resolving (${countJars(scratch)} jars so far, ${u.since(t0)})`);
  }, 10_000);
  try {
    code = await new Promise((resolve, reject) => {
      const child = spawn(
        MVN,
        [
          '-B',
          '-q',
          '-f',
          POM,
          'dependency:copy-dependencies',
          `-DoutputDirectory=${scratch}`,
          '-DincludeScope=runtime',
        ],
        { cwd: __dirname, stdio: ['ignore', out, out] },
      );
      child.once('error', (err) =>
        reject(
          /** @type {NodeJS.ErrnoException} */ (err).code === 'ENOENT'
            ? new Error(
                `Maven ('${MVN}') not found on PATH: install Maven 3.8+ or set KAFKA_BROKERS to an existing broker`,
              )
            : err,
        ),
      );
      child.once('close', (c) => resolve(c));
    });
  } finally {
    clearInterval(heartbeat);
    fs.closeSync(out);
  }
  const brokerJar = `kafka_2.13-${KAFKA_VERSION}.jar`;
  if (code !== 0 || !fs.existsSync(path.join(scratch, brokerJar))) {
    throw new Error(
      `resolving Kafka jars failed (mvn exit ${code}${code === 0 ? `, but ${brokerJar} is missing` : ''}); ` +
        `full output in ${u.rel(MVN_LOG)}:\n${u.tail(MVN_LOG)}`,
    );
  }
  fs.writeFileSync(path.join(scratch, '.pom-sha256'), `${hash}\n`);
  fs.rmSync(LIBS_DIR, { recursive: true, force: true });
  fs.renameSync(scratch, LIBS_DIR);
  log(`[infra] resolved ${countJars(LIBS_DIR)} jars into ${u.rel(LIBS_DIR)} (${u.since(t0)})`);
  return LIBS_DIR;
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/**
 * Writes server.properties and the log4j files. Rewritten on every start so that a change here
 * (or of USAGEFLOW_KAFKA_PORT) takes effect at the next `up` without deleting data.
 * @param {{ port: number, controllerPort: number }} ports
 */
function writeConfig({ port, controllerPort }) {
  const server = `# Generated by infra/local/kafka.cjs on every start: edit that file, not this one.
# Single node, KRaft combined mode (this process is both the broker and the only controller).
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
# Loopback only: this is a developer/test broker, never reachable from the network.
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${DATA_DIR}

# One broker: every replication factor must be 1, or the group/transaction coordinators never
# come up and KafkaJS consumers loop on "group coordinator is not available".
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# __consumer_offsets is created on the first group join; 50 partitions (the default) make that
# first join take seconds on a 2-core machine, and one broker gains nothing from them.
offsets.topic.num.partitions=10

# Topics are created explicitly (infra/local/topics.cjs for the domain topics, tests create
# their own scratch topics through the admin client). Auto-creation stays OFF because it would
# silently create a misspelt topic with the broker defaults (7-day retention, num.partitions)
# instead of failing, and the domain topics must never expire. Production brokers run with it
# off too, so tests see the same behaviour.
auto.create.topics.enable=false
num.partitions=6

# Tests start many short-lived consumer groups: don't wait 3 s for more members to join.
group.initial.rebalance.delay.ms=0
`;
  fs.writeFileSync(SERVER_PROPERTIES, server);

  const log4j = `# Generated by infra/local/kafka.cjs (reload4j). The broker logs to logs/server.log,
# rolled at 10 MB; the chattiest per-partition loggers are kept at WARN.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=${SERVER_LOG}
log4j.appender.file.MaxFileSize=10MB
log4j.appender.file.MaxBackupIndex=5
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.org.apache.kafka.storage.internals.log=WARN
log4j.logger.kafka.log.LogCleaner=WARN
`;
  fs.writeFileSync(LOG4J_PROPERTIES, log4j);

  // The one-shot StorageTool runs only need errors, on stderr (captured into our error message).
  fs.writeFileSync(
    TOOLS_LOG4J_PROPERTIES,
    `log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
`,
  );
}

/**
 * The client port of the broker config currently on disk (what a running broker was started
 * with), or null.
 */
function configuredPort() {
  try {
    const m = /^listeners=PLAINTEXT:\/\/[^:]+:(\d+)/m.exec(fs.readFileSync(SERVER_PROPERTIES, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Runs a Kafka tool class once (StorageTool) on the resolved classpath.
 * @param {string[]} args
 */
async function runTool(args) {
  const res = await u.run(
    JAVA,
    ['-Xmx256m', `-Dlog4j.configuration=file:${TOOLS_LOG4J_PROPERTIES}`, '-cp', classpath(), ...args],
    {
      cwd: KAFKA_DIR,
      timeoutMs: 120_000,
    },
  );
  if (res.code !== 0) {
    throw new Error(
      `java ${args.slice(0, 2).join(' ')} failed (exit ${res.code ?? res.signal}):\n${res.stderr || res.stdout}`,
    );
  }
  return res.stdout;
}

/**
 * KRaft storage must be formatted once with a cluster id before the first start.
 * meta.properties in log.dirs is the marker that it was.
 * @param {u.Log} log
 */
async function formatStorageOnce(log) {
  if (fs.existsSync(path.join(DATA_DIR, 'meta.properties'))) return;
  const t0 = Date.now();
  u.mkdirp(DATA_DIR);
  const clusterId = (await runTool(['kafka.tools.StorageTool', 'random-uuid'])).trim().split('\n').pop()?.trim();
  if (!clusterId) throw new Error('kafka.tools.StorageTool random-uuid printed no cluster id');
  await runTool(['kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', SERVER_PROPERTIES, '--ignore-formatted']);
  log(`[infra] formatted KRaft storage in ${u.rel(DATA_DIR)} (cluster id ${clusterId}, ${u.since(t0)})`);
}

// ---------------------------------------------------------------------------------------------
// Process
// ---------------------------------------------------------------------------------------------

/** The pid of the broker this checkout started, if that process is still alive and is it. */
function runningPid() {
  const pid = u.readPid(PID_FILE);
  if (pid === null || !u.isAlive(pid)) return null;
  const cmd = u.cmdlineOf(pid);
  // Guard against pid reuse: the process must be a kafka.Kafka on *our* server.properties.
  // (Without /proc, e.g. on macOS, trust the pid file.)
  if (cmd && !(cmd.includes('kafka.Kafka') && cmd.includes(SERVER_PROPERTIES))) return null;
  return pid;
}

/**
 * Starts the broker JVM fully detached: its own session (detached), stdin from /dev/null,
 * stdout/stderr appended to logs/kafka.out, and unref'd. Nothing of it stays attached to the
 * calling process, so `node cli.cjs up | cat`, a jest run and CI's output pipe all close
 * normally while the broker keeps running.
 */
function spawnBroker() {
  u.mkdirp(LOGS_DIR);
  const out = fs.openSync(JVM_OUT, 'a');
  fs.writeSync(out, `\n===== ${new Date().toISOString()} starting kafka.Kafka ${KAFKA_VERSION} =====\n`);
  let child;
  try {
    child = spawn(
      JAVA,
      [
        // Bounded heap for a 2-core dev machine (the stock scripts use -Xmx1G).
        '-Xms256m',
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:InitiatingHeapOccupancyPercent=35',
        // Die loudly instead of limping on after an OOM.
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${LOG4J_PROPERTIES}`,
        `-Dkafka.logs.dir=${LOGS_DIR}`,
        '-cp',
        classpath(),
        'kafka.Kafka',
        SERVER_PROPERTIES,
      ],
      { cwd: KAFKA_DIR, detached: true, stdio: ['ignore', out, out] },
    );
  } finally {
    fs.closeSync(out); // the child has its own copy of the descriptor
  }
  // spawn() reports ENOENT asynchronously; without a listener it would crash the caller.
  /** @type {Error | null} */
  let spawnError = null;
  child.once('error', (err) => {
    spawnError = err;
  });
  child.unref();
  if (child.pid === undefined) {
    throw new Error(`could not start Java ('${JAVA}'): is a JDK 17+ installed and on PATH (or JAVA_HOME set)?`);
  }
  fs.writeFileSync(PID_FILE, `${child.pid}\n`);
  return { pid: child.pid, spawnError: () => spawnError };
}

/** @returns {typeof import('kafkajs')} */
function kafkajs() {
  try {
    return require('kafkajs');
  } catch {
    throw new Error("the 'kafkajs' package is not installed: run `npm install` at the repository root");
  }
}

/**
 * One readiness probe: connect an admin client and list topics.
 * @param {string} brokers
 * @param {number} [timeoutMs]
 */
async function probe(brokers, timeoutMs = 3000) {
  const { Kafka, logLevel } = kafkajs();
  const kafka = new Kafka({
    clientId: 'usageflow-infra-probe',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.listTopics();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Waits until the broker answers, failing early if its process died.
 * @param {string} brokers
 * @param {{ pid?: number | null, timeoutMs?: number, spawnError?: () => Error | null }} opts
 */
async function waitReady(brokers, { pid = null, timeoutMs = READY_TIMEOUT_MS, spawnError }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const err = spawnError?.();
    if (err) throw new Error(`could not start the Kafka JVM ('${JAVA}'): ${err.message}`);
    if (await probe(brokers)) return;
    if (pid !== null && !u.isAlive(pid)) {
      throw new Error(
        `the Kafka broker (pid ${pid}) exited during startup; see ${u.rel(SERVER_LOG)} and ${u.rel(JVM_OUT)}:\n` +
          (u.tail(JVM_OUT, 15) || u.tail(SERVER_LOG, 15)),
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the Kafka broker on ${brokers} did not become ready within ${timeoutMs / 1000}s` +
          `${pid ? ` (pid ${pid} is still running)` : ''}; see ${u.rel(SERVER_LOG)}:\n${u.tail(SERVER_LOG, 15)}`,
      );
    }
    await u.sleep(500);
  }
}

/**
 * A fresh broker answers metadata requests a moment before its coordinators are usable: the
 * first idempotent producer gets COORDINATOR_LOAD_IN_PROGRESS for InitProducerId and the first
 * consumer group "group coordinator is not available" while __consumer_offsets is created.
 * KafkaJS retries through both, but logs them as errors and the first test pays the delay.
 * Going through both once here makes "ready" mean ready for clients.
 * @param {string} brokers
 */
async function warmUp(brokers) {
  const { Kafka, logLevel, Partitioners } = kafkajs();
  const kafka = new Kafka({
    clientId: 'usageflow-infra-warmup',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  // connect() of an idempotent producer performs InitProducerId.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const admin = kafka.admin();
  try {
    await producer.connect();
    await admin.connect();
    // Looking up a group's coordinator makes the broker create __consumer_offsets and waits
    // (with KafkaJS's retries) until that coordinator is available.
    await admin.fetchOffsets({ groupId: 'usageflow-infra-warmup', topics: [TOPICS[0].name] });
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Creates the domain topics and their DLQ twins (infra/local/topics.cjs) if missing.
 * Existing topics are left alone; a partition-count mismatch is reported, not "fixed".
 * @param {string} brokers
 * @param {{ log?: u.Log }} [opts]
 */
async function ensureTopics(brokers, { log = console.log } = {}) {
  const { Kafka, logLevel } = kafkajs();
  const kafka = new Kafka({ clientId: 'usageflow-infra', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = TOPICS.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        timeout: 30_000,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          // KafkaJS speaks CreateTopics <= v3, where -1 ("broker default") is not allowed.
          replicationFactor: 1,
          configEntries: Object.entries(t.config).map(([name, value]) => ({ name, value })),
        })),
      });
      log(
        missing.length === TOPICS.length
          ? `[infra] created the ${TOPICS.length / 2} domain topics and their .dlq twins`
          : `[infra] created topic(s): ${missing.map((t) => t.name).join(', ')}`,
      );
    }
    const present = TOPICS.filter((t) => existing.has(t.name));
    if (present.length > 0) {
      const meta = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
      for (const t of present) {
        const found = meta.topics.find((m) => m.name === t.name)?.partitions.length;
        if (found !== undefined && found !== t.partitions) {
          log(`[infra] WARNING: topic ${t.name} has ${found} partitions, topics.cjs says ${t.partitions} (left as is)`);
        }
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reuses or starts the local broker, then makes sure the topics exist.
 * @param {{ log: u.Log }} opts
 * @returns {Promise<{ brokers: string, started: boolean, external: boolean }>}
 */
async function ensureKafka({ log }) {
  const external = process.env.KAFKA_BROKERS;
  if (external) {
    log(`[infra] kafka: using KAFKA_BROKERS=${external} (nothing started)`);
    return { brokers: external, started: false, external: true };
  }
  const ports = kafkaPorts();
  const brokers = brokersFor(ports.port);

  const pid = runningPid();
  if (pid !== null) {
    const onDisk = configuredPort();
    if (onDisk !== null && onDisk !== ports.port) {
      throw new Error(
        `the local Kafka broker (pid ${pid}) runs on port ${onDisk}, but USAGEFLOW_KAFKA_PORT asks for ${ports.port}; ` +
          'run `node infra/local/cli.cjs down` first',
      );
    }
    await waitReady(brokers, { pid, timeoutMs: READY_TIMEOUT_MS });
    log(`[infra] kafka already running on ${brokers} (pid ${pid}), reused`);
    await ensureTopics(brokers, { log });
    return { brokers, started: false, external: false };
  }

  if (await u.tcpOpen('127.0.0.1', ports.port)) {
    // Something we did not start holds the port. If it is a Kafka broker (e.g. started by
    // another checkout), reuse it; otherwise say so instead of failing obscurely later.
    if (await probe(brokers, 5000)) {
      log(`[infra] kafka: reusing a broker already listening on ${brokers} (not started from this checkout)`);
      await ensureTopics(brokers, { log });
      return { brokers, started: false, external: false };
    }
    throw new Error(
      `port ${ports.port} is already in use by something that is not a Kafka broker; ` +
        'set USAGEFLOW_KAFKA_PORT to a free port (the controller uses port+1) or KAFKA_BROKERS to an existing broker',
    );
  }

  u.mkdirp(LOGS_DIR);
  await resolveKafkaLibs({ log });
  writeConfig(ports);
  await formatStorageOnce(log);
  const tStart = Date.now();
  log(`[infra] starting kafka ${KAFKA_VERSION} on ${brokers} (log: ${u.rel(SERVER_LOG)})...`);
  const started = spawnBroker();
  await waitReady(brokers, { pid: started.pid, spawnError: started.spawnError });
  await ensureTopics(brokers, { log });
  await warmUp(brokers);
  log(`[infra] kafka ready on ${brokers} (pid ${started.pid}, ${u.since(tStart)})`);
  return { brokers, started: true, external: false };
}

/**
 * Stops the broker this checkout started: SIGTERM (controlled shutdown), then SIGKILL if it
 * has not exited after STOP_TIMEOUT_MS.
 * @param {{ log: u.Log }} opts
 * @returns {Promise<boolean>} whether a broker was stopped
 */
async function stopKafka({ log }) {
  const pid = runningPid();
  if (pid === null) {
    fs.rmSync(PID_FILE, { force: true });
    log('[infra] kafka: not running');
    return false;
  }
  const t0 = Date.now();
  log(`[infra] stopping kafka (pid ${pid})...`);
  process.kill(pid, 'SIGTERM');
  while (u.isAlive(pid) && Date.now() - t0 < STOP_TIMEOUT_MS) await u.sleep(250);
  if (u.isAlive(pid)) {
    log(`[infra] kafka did not stop within ${STOP_TIMEOUT_MS / 1000}s, sending SIGKILL`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    while (u.isAlive(pid)) await u.sleep(100);
  }
  fs.rmSync(PID_FILE, { force: true });
  log(`[infra] kafka stopped (${u.since(t0)})`);
  return true;
}

async function kafkaStatus() {
  const external = process.env.KAFKA_BROKERS;
  const brokers = external || brokersFor(kafkaPorts().port);
  const pid = external ? null : runningPid();
  return {
    brokers,
    external: Boolean(external),
    pid,
    reachable: await probe(brokers),
    log: u.rel(SERVER_LOG),
  };
}

module.exports = {
  KAFKA_VERSION,
  KAFKA_DIR,
  LIBS_DIR,
  SERVER_LOG,
  classpath,
  kafkaPorts,
  brokersFor,
  resolveKafkaLibs,
  ensureKafka,
  ensureTopics,
  stopKafka,
  kafkaStatus,
};
