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
 *
 * startScratchBroker() runs another, throwaway broker with the same layout in a folder of its own
 * (by default under .local/kafka-scratch/): for tests that must stop and restart a broker, which
 * the shared one above must never be.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const net = require('node:net');
const { spawn } = require('node:child_process');
const { TOPICS } = require('./topics.cjs');
const u = require('./util.cjs');

const POM = path.join(__dirname, 'pom.xml');
const KAFKA_DIR = path.join(u.LOCAL_DIR, 'kafka');
const LIBS_DIR = path.join(KAFKA_DIR, 'libs');
const POM_MARKER = path.join(LIBS_DIR, '.pom-sha256');
/** Where scratch brokers get their folders when the caller names none. */
const SCRATCH_ROOT = path.join(u.LOCAL_DIR, 'kafka-scratch');
/** The infra lock of index.cjs: jar resolution never runs twice at once. */
const INFRA_LOCK_FILE = path.join(u.LOCAL_DIR, 'infra.lock');

/**
 * The files of one broker under its folder: the shared broker's is .local/kafka, a scratch
 * broker's is its own (see the layout in the header).
 * @param {string} dir
 */
function brokerLayout(dir) {
  const logsDir = path.join(dir, 'logs');
  return {
    dir,
    dataDir: path.join(dir, 'data'),
    logsDir,
    serverProperties: path.join(dir, 'server.properties'),
    log4jProperties: path.join(dir, 'log4j.properties'),
    toolsLog4jProperties: path.join(dir, 'tools-log4j.properties'),
    serverLog: path.join(logsDir, 'server.log'),
    jvmOut: path.join(logsDir, 'kafka.out'),
  };
}
/** @typedef {ReturnType<typeof brokerLayout>} BrokerLayout */

/** The shared local broker. */
const LOCAL = brokerLayout(KAFKA_DIR);
const LOGS_DIR = LOCAL.logsDir;
const SERVER_PROPERTIES = LOCAL.serverProperties;
const PID_FILE = path.join(KAFKA_DIR, 'kafka.pid');
const SERVER_LOG = LOCAL.serverLog;
const MVN_LOG = path.join(LOGS_DIR, 'mvn.log');

/** The shared broker's heap: bounded for a 2-core dev machine (the stock scripts use -Xmx1G). */
const LOCAL_HEAP = { min: '256m', max: '512m' };

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
 * @param {BrokerLayout} [layout] whose files (default: the shared broker's)
 */
function writeConfig({ port, controllerPort }, layout = LOCAL) {
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
log.dirs=${layout.dataDir}

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
  fs.writeFileSync(layout.serverProperties, server);

  const log4j = `# Generated by infra/local/kafka.cjs (reload4j). The broker logs to logs/server.log,
# rolled at 10 MB; the chattiest per-partition loggers are kept at WARN.
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=${layout.serverLog}
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
  fs.writeFileSync(layout.log4jProperties, log4j);

  // The one-shot StorageTool runs only need errors, on stderr (captured into our error message).
  fs.writeFileSync(
    layout.toolsLog4jProperties,
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
 * @param {BrokerLayout} [layout] whose tools-log4j.properties and folder (default: the shared broker's)
 */
async function runTool(args, layout = LOCAL) {
  const res = await u.run(
    JAVA,
    ['-Xmx256m', `-Dlog4j.configuration=file:${layout.toolsLog4jProperties}`, '-cp', classpath(), ...args],
    {
      cwd: layout.dir,
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
 * @param {BrokerLayout} [layout] whose storage (default: the shared broker's)
 */
async function formatStorageOnce(log, layout = LOCAL) {
  if (fs.existsSync(path.join(layout.dataDir, 'meta.properties'))) return;
  const t0 = Date.now();
  u.mkdirp(layout.dataDir);
  const clusterId = (await runTool(['kafka.tools.StorageTool', 'random-uuid'], layout))
    .trim()
    .split('\n')
    .pop()
    ?.trim();
  if (!clusterId) throw new Error('kafka.tools.StorageTool random-uuid printed no cluster id');
  await runTool(
    ['kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', layout.serverProperties, '--ignore-formatted'],
    layout,
  );
  log(`[infra] formatted KRaft storage in ${u.rel(layout.dataDir)} (cluster id ${clusterId}, ${u.since(t0)})`);
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
 * Starts a broker JVM with stdin from /dev/null, stdout/stderr appended to logs/kafka.out, and
 * unref'd. The shared broker is also fully detached (its own session) and recorded in kafka.pid:
 * nothing of it stays attached to the calling process, so `node cli.cjs up | cat`, a jest run and
 * CI's output pipe all close normally while the broker keeps running. A scratch broker stays in
 * the caller's session (a Ctrl-C of the test run reaches it) and its pid is the caller's to keep.
 * @param {{ layout?: BrokerLayout, heap?: { min: string, max: string }, detached?: boolean, pidFile?: string | null }} [opts]
 */
function spawnBroker({ layout = LOCAL, heap = LOCAL_HEAP, detached = true, pidFile = PID_FILE } = {}) {
  u.mkdirp(layout.logsDir);
  const out = fs.openSync(layout.jvmOut, 'a');
  fs.writeSync(out, `\n===== ${new Date().toISOString()} starting kafka.Kafka ${KAFKA_VERSION} =====\n`);
  let child;
  try {
    child = spawn(
      JAVA,
      [
        `-Xms${heap.min}`,
        `-Xmx${heap.max}`,
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:InitiatingHeapOccupancyPercent=35',
        // Die loudly instead of limping on after an OOM.
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        `-Dlog4j.configuration=file:${layout.log4jProperties}`,
        `-Dkafka.logs.dir=${layout.logsDir}`,
        '-cp',
        classpath(),
        'kafka.Kafka',
        layout.serverProperties,
      ],
      { cwd: layout.dir, detached, stdio: ['ignore', out, out] },
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
  if (pidFile) fs.writeFileSync(pidFile, `${child.pid}\n`);
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
 * @param {{ pid?: number | null, timeoutMs?: number, spawnError?: () => Error | null, layout?: BrokerLayout }} opts
 */
async function waitReady(brokers, { pid = null, timeoutMs = READY_TIMEOUT_MS, spawnError, layout = LOCAL }) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const err = spawnError?.();
    if (err) throw new Error(`could not start the Kafka JVM ('${JAVA}'): ${err.message}`);
    if (await probe(brokers)) return;
    if (pid !== null && !u.isAlive(pid)) {
      throw new Error(
        `the Kafka broker (pid ${pid}) exited during startup; see ${u.rel(layout.serverLog)} and ${u.rel(layout.jvmOut)}:\n` +
          (u.tail(layout.jvmOut, 15) || u.tail(layout.serverLog, 15)),
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the Kafka broker on ${brokers} did not become ready within ${timeoutMs / 1000}s` +
          `${pid ? ` (pid ${pid} is still running)` : ''}; see ${u.rel(layout.serverLog)}:\n${u.tail(layout.serverLog, 15)}`,
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
 * @param {string[]} [topics] existing topics whose group offsets are looked up (none is needed:
 *   finding the coordinator is what creates __consumer_offsets)
 */
async function warmUp(brokers, topics = [TOPICS[0].name]) {
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
    // (with KafkaJS's retries) until that coordinator is available. The offset fetch itself is
    // not retried by KafkaJS: right after the creation it can still answer NOT_COORDINATOR or
    // COORDINATOR_LOAD_IN_PROGRESS (both retriable), so go round until it answers.
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      try {
        await admin.fetchOffsets({ groupId: 'usageflow-infra-warmup', topics });
        break;
      } catch (err) {
        if (!(/** @type {{ retriable?: boolean }} */ (err).retriable) || Date.now() > deadline) throw err;
        await u.sleep(200);
      }
    }
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
  await stopProcess(pid, { log, timeoutMs: STOP_TIMEOUT_MS });
  fs.rmSync(PID_FILE, { force: true });
  log(`[infra] kafka stopped (${u.since(t0)})`);
  return true;
}

/**
 * SIGTERM (a broker's controlled shutdown), then SIGKILL if the process has not exited after
 * timeoutMs; resolves once it is gone.
 * @param {number} pid
 * @param {{ log: u.Log, timeoutMs: number }} opts
 */
async function stopProcess(pid, { log, timeoutMs }) {
  const t0 = Date.now();
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  while (u.isAlive(pid) && Date.now() - t0 < timeoutMs) await u.sleep(100);
  if (u.isAlive(pid)) {
    log(`[infra] kafka did not stop within ${timeoutMs / 1000}s, sending SIGKILL`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
    while (u.isAlive(pid)) await u.sleep(100);
  }
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

// ---------------------------------------------------------------------------------------------
// Scratch brokers
// ---------------------------------------------------------------------------------------------

/**
 * Two distinct TCP ports the OS says are free on 127.0.0.1 (both held open while asking, so they
 * differ). Another process could still take one before the broker binds it: the broker then
 * fails to start and waitReady says so.
 * @returns {Promise<[number, number]>}
 */
async function freePorts() {
  /** @type {net.Server[]} */
  const servers = [];
  try {
    for (let i = 0; i < 2; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(undefined));
      });
    }
    const port = (/** @type {net.Server} */ s) => /** @type {net.AddressInfo} */ (s.address()).port;
    return [port(servers[0]), port(servers[1])];
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(() => resolve(undefined)))));
  }
}

/**
 * Kills the broker if the process that started it dies first (a jest worker killed on a timeout,
 * a crash): a tiny node process, in the caller's session, that polls both pids and exits with the
 * broker. It is the backstop; stop() in the test's afterAll is the normal way out.
 */
const WATCHDOG = `
const fs = require('node:fs');
const [parent, broker] = process.argv.slice(1).map(Number);
const alive = (pid) => {
  try { process.kill(pid, 0); } catch (err) { if (err.code !== 'EPERM') return false; }
  try {
    const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    const state = stat[stat.lastIndexOf(')') + 2];
    return state !== 'Z' && state !== 'X';
  } catch { return true; }
};
setInterval(() => {
  if (!alive(broker)) process.exit(0);
  if (!alive(parent)) { try { process.kill(broker, 'SIGKILL'); } catch {} process.exit(0); }
}, 500);
`;

/** @param {number} brokerPid */
function spawnWatchdog(brokerPid) {
  const child = spawn(process.execPath, ['-e', WATCHDOG, String(process.pid), String(brokerPid)], {
    stdio: 'ignore',
  });
  child.once('error', () => undefined); // no watchdog is no reason to fail the start
  child.unref();
}

/**
 * @typedef {object} ScratchBroker
 * @property {string[]} brokers         the bootstrap list, ['127.0.0.1:<port>']
 * @property {string} dir               its folder (data/, logs/server.log, server.properties)
 * @property {number | null} pid        the running JVM, or null while stopped
 * @property {() => Promise<void>} stop     SIGTERM, SIGKILL after stopTimeoutMs; resolves once the process is gone
 * @property {() => Promise<void>} restart  (stops if running, then) starts on the same data and ports, resolves once ready
 * @property {() => Promise<void>} destroy  stops it and deletes its folder
 */

/**
 * Starts a single-node broker of the caller's own, on the shared broker's jars, that can be
 * stopped and restarted at will (outage tests). Topics are the caller's to create (auto-creation
 * is off, as on the shared broker). The JVM is killed if the calling process dies.
 * Ports: `port`/`controllerPort`, else USAGEFLOW_SCRATCH_KAFKA_PORT (controller port+1), else two
 * free ones from the OS.
 * @param {{ dir?: string, port?: number, controllerPort?: number, heap?: string, log?: u.Log,
 *   readyTimeoutMs?: number, stopTimeoutMs?: number }} [opts]
 * @returns {Promise<ScratchBroker>}
 */
async function startScratchBroker({
  dir,
  port,
  controllerPort,
  heap = '256m',
  log = console.log,
  readyTimeoutMs = READY_TIMEOUT_MS,
  stopTimeoutMs = 15_000,
} = {}) {
  await u.withLock(INFRA_LOCK_FILE, log, () => resolveKafkaLibs({ log }));
  if (port === undefined) {
    const fromEnv = u.portFromEnv('USAGEFLOW_SCRATCH_KAFKA_PORT', 0);
    if (fromEnv === 65535)
      throw new Error('USAGEFLOW_SCRATCH_KAFKA_PORT must leave room for the controller port (port+1)');
    [port, controllerPort] = fromEnv ? [fromEnv, controllerPort ?? fromEnv + 1] : await freePorts();
  } else if (controllerPort === undefined) {
    if (port === 65535) throw new Error('port must leave room for the controller port (port+1)');
    controllerPort = port + 1;
  }
  const ports = { port, controllerPort: /** @type {number} */ (controllerPort) };
  for (const p of [ports.port, ports.controllerPort]) {
    if (await u.tcpOpen('127.0.0.1', p))
      throw new Error(`port ${p} is already in use: cannot start a scratch broker on it`);
  }
  const layout = brokerLayout(dir ?? fs.mkdtempSync(path.join(u.mkdirp(SCRATCH_ROOT), 'broker-')));
  const brokers = brokersFor(ports.port);

  /** @type {number | null} */
  let pid = null;
  const start = async () => {
    const t0 = Date.now();
    const started = spawnBroker({ layout, heap: { min: heap, max: heap }, detached: false, pidFile: null });
    pid = started.pid;
    spawnWatchdog(started.pid);
    try {
      await waitReady(brokers, { pid: started.pid, spawnError: started.spawnError, timeoutMs: readyTimeoutMs, layout });
      await warmUp(brokers, []);
    } catch (err) {
      await stop();
      throw err;
    }
    log(`[infra] scratch kafka ready on ${brokers} (pid ${started.pid}, ${u.since(t0)}; ${u.rel(layout.dir)})`);
  };
  const stop = async () => {
    if (pid === null) return;
    const t0 = Date.now();
    await stopProcess(pid, { log, timeoutMs: stopTimeoutMs });
    log(`[infra] scratch kafka on ${brokers} stopped (pid ${pid}, ${u.since(t0)})`);
    pid = null;
  };

  try {
    u.mkdirp(layout.logsDir);
    writeConfig(ports, layout);
    await formatStorageOnce(log, layout);
    await start();
  } catch (err) {
    // Nothing to hand back, so nobody else could clean up: a folder we made goes too.
    if (dir === undefined) fs.rmSync(layout.dir, { recursive: true, force: true });
    throw err;
  }
  return {
    brokers: [brokers],
    dir: layout.dir,
    get pid() {
      return pid;
    },
    stop,
    async restart() {
      await stop();
      await start();
    },
    async destroy() {
      await stop();
      fs.rmSync(layout.dir, { recursive: true, force: true });
    },
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
  startScratchBroker,
};
