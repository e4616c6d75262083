// @ts-check
'use strict';
/**
 * bench:ingestion — the ingestion gateway (services/ingestion, `node dist/main.js`, its own
 * process) under HTTP load from another process, against the broker's own ProducerPerformance
 * for records of the same size, same broker, same machine, same run.
 *
 *   npm run bench:ingestion                  (ensures the local infra; builds the gateway if missing)
 *   npm run bench:ingestion -- --help        (every option)
 *
 * Per round (default 3; medians reported): ProducerPerformance on a fresh topic, then the
 * gateway with batches of 100 events (closed loop), single events (closed loop: saturation),
 * and single events at half of that saturation rate (open loop: latency at a sane load). The
 * gateway is one process for the whole run, seeded with an organization of its own (a fresh API
 * key and the API_CALL metric on the real identity and catalog topics), and writes to the real
 * usage topic. The targets (docs PERFORMANCE.md) are reported, never asserted.
 *
 * Exit status: 0 when every measurement ran; 1 on an error, a refused request, or fewer records
 * on the usage topic than the gateway accepted. A figure below target does not fail the run.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomBytes, randomUUID } = require('node:crypto');

const ROOT = path.resolve(__dirname, '..', '..');
const infra = require(path.join(ROOT, 'infra', 'local', 'index.cjs'));
// The ProducerPerformance runner is bench:kafka's, shared rather than copied.
const { runBaseline } = require(path.join(ROOT, 'bench', 'kafka', 'run.cjs'));
const { median } = require('../lib/stats.cjs');
const { parseOptions } = require('../lib/cli.cjs');
const { logger, fmtInt, fmt, med, table } = require('../lib/output.cjs');
const { machineFacts, localBrokerPid } = require('../lib/machine.cjs');
const { vmHwmKb, backgroundLoad, cpuWindow } = require('../lib/proc.cjs');
const { ensureBuilt, freePort, replicaLog, startGroup, startService } = require('../lib/service.cjs');
const { forkWorker } = require('../lib/worker.cjs');
const { kafkaTools: kafkaClient } = require('../lib/kafka.cjs');

const GATEWAY_MAIN = path.join(ROOT, 'services', 'ingestion', 'dist', 'main.js');
const WORKER = path.join(__dirname, 'load-worker.cjs');
const FLOOR = path.join(__dirname, 'floor-gateway.cjs');
// A scratch topic per run (as many partitions as the real one), deleted at the end: the real
// usage topic keeps records forever and every projection replays it.
const USAGE_TOPIC = `bench.ingestion.usage.${Date.now().toString(36)}`;
const USAGE_PARTITIONS = 12;
const METRIC = 'API_CALL';
const TARGETS = { ratio: 0.5, batchEventsPerSec: 100_000, halfP99Ms: 25, rssMb: 200 };

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/** name -> [default, help]; numbers are parsed as numbers, the rest kept as strings. */
const OPTIONS = /** @type {const} */ ({
  rounds: [3, 'rounds; medians are reported'],
  workloads: [
    'batch,floor,single,half',
    'which to run, comma list (half needs single: it runs at a share of its rate; floor is the batch load on floor-gateway.cjs)',
  ],
  'batch-requests': [2000, 'batch workload: requests per round'],
  'batch-size': [100, 'batch workload: events per request'],
  'batch-concurrency': [8, 'batch workload: requests outstanding at once'],
  'single-requests': [15000, 'single-event workload: requests per round'],
  'single-concurrency': [32, 'single-event workload: requests outstanding at once'],
  'half-fraction': [0.5, 'open-loop run: this share of the round’s single-event saturation rate'],
  'half-seconds': [8, 'open-loop run: duration in seconds'],
  'event-bytes': [200, 'size of one event as sent (JSON), bytes'],
  'baseline-records': [1000000, 'ProducerPerformance: records per round'],
  'record-size': [0, 'ProducerPerformance: record size in bytes (0: the measured usage.recorded record)'],
  'java-opts': ['-Xmx512m', 'ProducerPerformance: JVM options'],
  'log-level': ['info', 'the gateway’s LOG_LEVEL (info: one line per request, as deployed)'],
  'gateway-node-args': ['', 'extra node options of the gateway, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"'],
  port: [0, 'the (first) gateway’s port (0: a free one)'],
  gateways: [1, 'gateway processes behind the load, each its own port (scale-out: they share only Kafka)'],
  'keep-log': [false, 'keep the gateway’s log file (its path is printed)'],
  'no-baseline': [false, 'skip ProducerPerformance (no ratio)'],
});

/** @typedef {{ [K in keyof typeof OPTIONS]: (typeof OPTIONS)[K][0] extends number ? number : (typeof OPTIONS)[K][0] extends boolean ? boolean : string }} Settings */

/** @param {string[]} argv @returns {Settings} */
function parseArgs(argv) {
  const s = parseOptions(argv, OPTIONS, {
    head: [
      'usage: npm run bench:ingestion -- [options]',
      '       node bench/ingestion/run.cjs [options]',
      '',
      'The ingestion gateway (services/ingestion/dist/main.js, built if missing) in its own process,',
      'driven over loopback HTTP by a forked load generator; the broker’s ProducerPerformance for the',
      'same record size in the same run. KAFKA_BROKERS: use that broker (else the local infra is ensured).',
    ],
    pad: 30,
    minWhole: 0,
    fractions: { 'half-fraction': '(0, 1]' },
  });
  for (const name of ['rounds', 'batch-requests', 'batch-size', 'batch-concurrency', 'single-requests']) {
    if (s[name] === 0) throw new Error(`--${name} must be at least 1`);
  }
  const workloads = String(s.workloads).split(',');
  if (workloads.some((w) => !['batch', 'floor', 'single', 'half'].includes(w)) || workloads.length === 0)
    throw new Error(`--workloads must be a comma list of batch, floor, single, half (got '${s.workloads}')`);
  if (workloads.includes('half') && !workloads.includes('single'))
    throw new Error('--workloads: half runs at a share of the single-event rate, so it needs single too');
  if (s['single-concurrency'] === 0 || s['half-seconds'] === 0 || s['baseline-records'] === 0)
    throw new Error('--single-concurrency, --half-seconds and --baseline-records must be at least 1');
  return /** @type {Settings} */ (/** @type {unknown} */ (s));
}

// ---------------------------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------------------------

const log = logger('bench:ingestion');

// ---------------------------------------------------------------------------------------------
// /proc
// ---------------------------------------------------------------------------------------------

/**
 * Samples a process while `fn` runs: its CPU seconds, its peak VmRSS (polled every 100 ms), the
 * broker's CPU seconds and the share of the machine that was busy.
 * @template T
 * @param {{ gatewayPids: number[], brokerPid: number | null }} pids
 * @param {() => Promise<T>} fn
 */
async function sampled(pids, fn) {
  // several gateways: CPU is their sum, RSS the highest of any one process (the target is per process)
  const sampler = cpuWindow(pids.gatewayPids, pids.brokerPid);
  let value;
  try {
    value = await fn();
  } catch (err) {
    sampler.stop(); // its polling only: a failed measurement has no figures
    throw err;
  }
  const w = sampler.stop();
  return {
    value,
    gatewayCpuSec: w.cpuSec,
    brokerCpuSec: w.brokerCpuSec,
    machineBusy: w.machineBusy,
    peakRssKb: w.peakRssKb,
  };
}

// ---------------------------------------------------------------------------------------------
// Kafka, seeding
// ---------------------------------------------------------------------------------------------

/** @param {string[]} brokers */
function kafkaTools(brokers) {
  const { EventProducer, highWaterMarks, encodeEvent } = require('@usageflow/kafka');
  const k = kafkaClient(brokers, 'bench-ingestion');
  const { kafka, logger } = k;
  const producer = new EventProducer(kafka, { logger });
  /** @param {string} topic */
  const total = async (topic) => {
    let sum = 0n;
    for (const v of (await highWaterMarks(kafka, topic)).values()) sum += v;
    return Number(sum);
  };
  return { ...k, producer, highWaterMarks, encodeEvent, total };
}

/**
 * A fresh organization the gateway will learn on its replay: an events:write API key (its
 * SHA-256 digest on the identity topic) and the metric on the catalog topic, as identity and
 * subscription would publish them.
 * @param {ReturnType<typeof kafkaTools>} k
 */
async function seedOrganization(k) {
  const { sampleEvent } = require(path.join(ROOT, 'packages', 'testkit', 'dist'));
  const { apiKeyDigest } = require(path.join(ROOT, 'packages', 'auth', 'dist'));
  const organizationId = randomUUID();
  const apiKeyId = randomUUID();
  const apiKey = `uf_live_${randomBytes(32).toString('base64url')}`;
  const now = new Date().toISOString();
  await k.producer.publish([
    {
      ...sampleEvent('api_key.created', {
        organizationId,
        data: {
          apiKeyId,
          name: 'bench:ingestion',
          digest: apiKeyDigest(apiKey),
          scopes: ['events:write'],
          mode: 'live',
          prefix: apiKey.slice(0, 16),
          createdAt: now,
        },
      }),
      occurredAt: now,
    },
    {
      ...sampleEvent('metric.created', {
        organizationId,
        data: { key: METRIC, name: METRIC, unit: 'calls', aggregation: 'SUM' },
      }),
      occurredAt: now,
    },
  ]);
  /** Revokes the key on the identity topic (the run is over; nobody should hold a live key of it). */
  const revoke = async () => {
    const at = new Date().toISOString();
    await k.producer.publish([
      { ...sampleEvent('api_key.revoked', { organizationId, data: { apiKeyId, revokedAt: at } }), occurredAt: at },
    ]);
  };
  return { organizationId, apiKeyId, apiKey, revoke };
}

/**
 * Reads back the record the gateway wrote for the event `eventId` (its `data.eventId`), from
 * the partitions that grew between the marks `before` and now: the bytes a usage.recorded
 * record really has (key, value, headers).
 * @param {ReturnType<typeof kafkaTools>} k
 * @param {Map<number, bigint>} before
 * @param {string} eventId
 */
async function readBackRecord(k, before, eventId) {
  const after = await k.highWaterMarks(k.kafka, USAGE_TOPIC);
  const grown = [...after].filter(([p, mark]) => mark > (before.get(p) ?? 0n));
  const groupId = `bench.ingestion.probe.${randomUUID().slice(0, 8)}`;
  const consumer = k.kafka.consumer({ groupId, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: USAGE_TOPIC, fromBeginning: false });
    /** @type {(m: import('kafkajs').KafkaMessage) => void} */
    let resolveFound = () => undefined;
    /** @type {Promise<import('kafkajs').KafkaMessage>} */
    const found = new Promise((resolve, reject) => {
      resolveFound = resolve;
      setTimeout(() => reject(new Error(`the probe event ${eventId} was not found on ${USAGE_TOPIC}`)), 30_000).unref();
    });
    await consumer.run({
      eachMessage: async ({ message }) => {
        try {
          if (JSON.parse(message.value?.toString() ?? '{}').data?.eventId === eventId) resolveFound(message);
        } catch {
          // another writer's record that is not JSON: not ours
        }
      },
    });
    // After run (the group exists then): start each grown partition where the probe was written.
    for (const [partition] of grown) {
      consumer.seek({ topic: USAGE_TOPIC, partition, offset: String(before.get(partition) ?? 0n) });
    }
    const m = await found;
    const headers = Object.entries(m.headers ?? {}).map(([name, v]) => [name, String(Array.isArray(v) ? v[0] : v)]);
    const keyBytes = m.key?.length ?? 0;
    const valueBytes = m.value?.length ?? 0;
    const headerBytes = headers.reduce((s, [n, v]) => s + Buffer.byteLength(n) + Buffer.byteLength(v), 0);
    return { keyBytes, valueBytes, headerBytes, headers: headers.map(([n]) => n), partitions: after.size };
  } finally {
    await consumer.disconnect();
    const admin = k.kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// The gateway process
// ---------------------------------------------------------------------------------------------

/**
 * Starts `node services/ingestion/dist/main.js` with its log in a file (no pipe through this
 * process: the runner takes no CPU from the gateway), and waits for /readyz 200.
 * @param {Settings} s
 * @param {string[]} brokers
 * @param {number} port
 * @param {string} logFile
 */
async function startGateway(s, brokers, port, logFile) {
  const gateway = startService({
    name: 'gateway',
    main: GATEWAY_MAIN,
    nodeArgs: s['gateway-node-args'],
    port,
    logFile,
    env: {
      KAFKA_BROKERS: brokers.join(','),
      PORT: String(port),
      LOG_LEVEL: s['log-level'],
      // The per-key rate limit would otherwise cap the bench: it measures the gateway, not the limit.
      INGEST_RATE_EVENTS_PER_SECOND: '1000000000',
      INGEST_RATE_BURST_EVENTS: '1000000000',
      INGEST_USAGE_TOPIC: USAGE_TOPIC,
    },
  });
  await gateway.ready({ pollMs: 200, kill: true });
  return gateway;
}

/**
 * `s.gateways` gateway processes, each on its own port and with its own log file (the first on
 * `firstPort` and `logFile`), as replicas behind an edge would run: they share only Kafka.
 * @param {Settings} s
 * @param {string[]} brokers
 * @param {number} firstPort
 * @param {string} logFile
 */
async function startGateways(s, brokers, firstPort, logFile) {
  return startGroup(s.gateways, async (i) => {
    const port = i === 0 ? firstPort : /** @type {number} */ (await freePort());
    const file = replicaLog(logFile, i);
    return { proc: await startGateway(s, brokers, port, file), port, logFile: file };
  });
}

/**
 * `s.gateways` floor-gateway.cjs processes (as many as gateways, so the two compare) on free
 * ports, writing records of `recordBytes` to `topic`; resolves once each printed `ready`.
 * @param {Settings} s
 * @param {string[]} brokers
 * @param {string} topic
 * @param {number} recordBytes
 */
async function startFloor(s, brokers, topic, recordBytes, logFile) {
  return startGroup(s.gateways, async (i) => {
    const port = /** @type {number} */ (await freePort());
    const file = replicaLog(logFile, i);
    const proc = startService({
      name: 'floor gateway',
      main: FLOOR,
      nodeArgs: '',
      port,
      logFile: file,
      env: {
        KAFKA_BROKERS: brokers.join(','),
        FLOOR_TOPIC: topic,
        FLOOR_RECORD_BYTES: String(recordBytes),
        PORT: String(port),
      },
    });
    await proc.ready({ pollMs: 100, kill: true });
    return { proc, port, logFile: file };
  });
}

// ---------------------------------------------------------------------------------------------
// Load (forked load-worker.cjs)
// ---------------------------------------------------------------------------------------------

/**
 * @typedef {object} LoadResult
 * @property {number} requests
 * @property {number} acceptedEvents
 * @property {Record<string, number>} statuses
 * @property {number} transportErrors
 * @property {string[]} errorSamples
 * @property {number} seconds
 * @property {number} requestsPerSec
 * @property {number} eventsPerSec
 * @property {number} eventBytes
 * @property {number} bodyBytes
 * @property {number} latMeanMs
 * @property {number} latP50Ms
 * @property {number} latP90Ms
 * @property {number} latP99Ms
 * @property {number} latP999Ms
 * @property {number} latMaxMs
 * @property {number} cpuMs
 * @property {number} maxRssKb
 * @property {number} [maxIssueLagMs]
 */

/**
 * @param {Record<string, unknown>} cfg the worker's LoadConfig (load-worker.cjs)
 * @param {string} label
 * @returns {Promise<LoadResult>}
 */
function runLoad(cfg, label) {
  return forkWorker(WORKER, cfg, {
    what: 'load worker',
    onProgress: (msg) => {
      const rate = msg.acceptedEvents / (msg.elapsedMs / 1000);
      log(`    ${label}: ${fmtInt(msg.requests)} requests, ${fmtInt(rate)} events/s so far`);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/**
 * @typedef {object} Measured
 * @property {LoadResult} load
 * @property {number | null} gatewayCpuSec
 * @property {number | null} brokerCpuSec
 * @property {number | null} machineBusy
 * @property {number | null} peakRssKb
 * @property {number | null} loadBefore
 * @property {number} landed records the usage topic grew by meanwhile
 */

/** @typedef {{ baseline: any[], batch: Measured[], floor: Measured[], single: Measured[], half: Measured[], halfRate: number[] }} Results */

/** The installed @platformatic/kafka's version (its exports hide package.json: read the file). */
function platformaticVersion() {
  const file = path.join(ROOT, 'node_modules/@platformatic/kafka/package.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

async function main() {
  const s = parseArgs(process.argv.slice(2));
  if (s.gateways < 1) throw new Error('--gateways must be at least 1');
  const facts = machineFacts();
  // the gateway produces with @platformatic/kafka (services/ingestion/src/adapters/kafka/usage-producer.ts)
  const gatewayClient = `@platformatic/kafka ${platformaticVersion()}`;
  log(
    `machine: ${facts.nproc} CPUs (${facts.cpu}), ${fmt(facts.memGb)} GB RAM, ${facts.os}; ` +
      `node ${facts.node}, gateway producer ${gatewayClient}; Kafka ${facts.kafka} (${facts.java})`,
  );
  ensureBuilt('ingestion', log);

  let brokersCsv = process.env.KAFKA_BROKERS;
  if (!brokersCsv) brokersCsv = (await infra.ensureInfra({ log })).kafkaBrokers;
  const brokers = brokersCsv.split(',').map((b) => b.trim());
  const brokerPid = localBrokerPid(brokers);
  let classpath = '';
  if (!s['no-baseline']) {
    await infra.resolveKafkaLibs({ log });
    classpath = infra.kafkaClasspath();
  }
  log(`broker ${brokers.join(',')}${brokerPid === null ? '' : ` (pid ${brokerPid}, CPU measured)`}`);

  const k = kafkaTools(brokers);
  await k.producer.connect();
  const runId = Date.now().toString(36);
  const logFile = path.join(os.tmpdir(), `bench-ingestion-${runId}.log`);
  /** @type {Awaited<ReturnType<typeof startGateways>> | null} */
  let gateway = null;
  /** @type {Awaited<ReturnType<typeof seedOrganization>> | null} */
  let org = null;
  /** @type {string[]} */
  const scratchTopics = [USAGE_TOPIC];
  /** @type {string[]} */
  const problems = [];

  const cleanup = async () => {
    const done = [];
    if (gateway) done.push(gateway.stop());
    if (org) done.push(org.revoke().catch((e) => log(`could not revoke the bench key: ${e.message}`)));
    if (scratchTopics.length) {
      done.push(
        k.admin
          .connect()
          .then(() => k.deleteTopics(scratchTopics.splice(0)))
          .catch((e) => log(`could not delete the scratch topics: ${e.message}`))
          .finally(() => k.admin.disconnect()),
      );
    }
    await Promise.all(done);
    await k.producer.disconnect().catch(() => undefined);
  };
  process.once('SIGINT', () => {
    log('interrupted: stopping the gateway, revoking the key, deleting the scratch topics');
    cleanup().finally(() => process.exit(130));
  });

  try {
    await k.create(USAGE_TOPIC, USAGE_PARTITIONS);
    org = await seedOrganization(k);
    log(`seeded organization ${org.organizationId}: API key ${org.apiKeyId} (events:write), metric ${METRIC}`);

    const port = s.port || /** @type {number} */ (await freePort());
    const started = Date.now();
    gateway = await startGateways(s, brokers, port, logFile);
    log(
      `${gateway.pids.length === 1 ? 'gateway' : `${gateway.pids.length} gateways:`} pid ${gateway.pids.join(', ')} ` +
        `ready on 127.0.0.1:${gateway.ports.join(', ')} in ${((Date.now() - started) / 1000).toFixed(1)}s ` +
        `(LOG_LEVEL=${s['log-level']}${s['gateway-node-args'] ? `, node ${s['gateway-node-args']}` : ''}; ` +
        `log ${gateway.logFiles.join(', ')})`,
    );
    const ports = gateway.ports;
    const gatewayTarget = {
      pids: { gatewayPids: gateway.pids, brokerPid },
      ports,
      topic: USAGE_TOPIC,
      alive: () => gateway?.alive() ?? false,
    };

    // The record as the gateway writes it: read back one event, so the baseline's record size
    // is the real one (key + value + headers), not a guess.
    const marks = await k.highWaterMarks(k.kafka, USAGE_TOPIC);
    const probe = await runLoad(
      loadConfig(s, org.apiKey, ports, `${runId}-probe`, {
        kind: 'single',
        mode: 'closed',
        requests: 1,
        concurrency: 1,
        warmupRequests: 0,
      }),
      'probe',
    );
    if (probe.acceptedEvents !== 1) throw new Error(`the probe event was refused: ${probe.errorSamples.join('; ')}`);
    const record = await readBackRecord(k, marks, `${runId}-probe-000000000`);
    const recordBytes = record.keyBytes + record.valueBytes + record.headerBytes;
    const recordSize = s['record-size'] || Math.round(recordBytes / 10) * 10;
    log(
      `event as sent ${probe.eventBytes} B; usage.recorded record on ${USAGE_TOPIC} (${record.partitions} partitions): ` +
        `value ${record.valueBytes} B + key ${record.keyBytes} B + headers ${record.headerBytes} B ` +
        `(${record.headers.join(', ')}) = ${recordBytes} B -> ProducerPerformance --record-size ${recordSize}`,
    );

    // Warm-up of the gateway's JIT on the paths measured, uncounted.
    const chosen = new Set(s.workloads.split(','));
    const warmUps = /** @type {const} */ ([
      ['batch', 300, 'batch-concurrency', 'batch requests'],
      ['single', 5000, 'single-concurrency', 'single events'],
    ]);
    for (const [kind, requests, concurrency, what] of warmUps) {
      if (!chosen.has(kind)) continue;
      log(`warm-up: ${fmtInt(requests)} ${what}, uncounted...`);
      await runLoad(
        loadConfig(s, org.apiKey, ports, `${runId}-warm-${kind[0]}`, {
          kind,
          mode: 'closed',
          requests,
          concurrency: s[concurrency],
          warmupRequests: 0,
        }),
        `warm-up ${kind}`,
      );
    }

    /** @type {Results} */
    const results = { baseline: [], batch: [], floor: [], single: [], half: [], halfRate: [] };

    /**
     * One measurement of the gateways (or of `target`, the floor) with its CPU, RSS and
     * topic-growth samples.
     * @param {string} label
     * @param {Record<string, unknown>} over
     * @param {{ pids: { gatewayPids: number[], brokerPid: number | null }, ports: number[], topic: string, alive: () => boolean }} [target]
     * @returns {Promise<Measured>}
     */
    const measure = async (label, over, target = gatewayTarget) => {
      const loadBefore = await backgroundLoad(500);
      if (loadBefore !== null && loadBefore > 0.15)
        log(`    note: the machine was ${fmt(loadBefore * 100, 0)}% busy just before this (other processes)`);
      const before = await k.total(target.topic);
      const cfg = loadConfig(s, org?.apiKey ?? '', target.ports, `${runId}-${label.replace(/\W+/g, '')}`, over);
      const r = await sampled(target.pids, () => runLoad(cfg, label));
      const landed = (await k.total(target.topic)) - before;
      if (!target.alive()) throw new Error(`${label}: the process under load died:\n${gateway?.tail()}`);
      const refused = r.value.requests - (r.value.statuses['202'] ?? 0);
      if (refused > 0 || r.value.transportErrors > 0) {
        problems.push(
          `${label}: ${refused} of ${r.value.requests} requests not answered 202 ` +
            `(${JSON.stringify(r.value.statuses)}, transport errors ${r.value.transportErrors}): ${r.value.errorSamples.join(' | ')}`,
        );
      }
      if (landed < r.value.acceptedEvents) {
        problems.push(
          `${label}: ${r.value.acceptedEvents} events accepted, but ${target.topic} grew by only ${landed}`,
        );
      }
      return {
        load: r.value,
        gatewayCpuSec: r.gatewayCpuSec,
        brokerCpuSec: r.brokerCpuSec,
        machineBusy: r.machineBusy,
        peakRssKb: r.peakRssKb,
        loadBefore,
        landed,
      };
    };

    // The batch load, on the gateways and on the floor alike.
    const batchLoad = {
      kind: 'batch',
      mode: 'closed',
      requests: s['batch-requests'],
      concurrency: s['batch-concurrency'],
    };

    for (let round = 1; round <= s.rounds; round++) {
      const tag = `round ${round}/${s.rounds}`;
      if (!s['no-baseline']) {
        const topic = `bench.ingestion.${runId}.${round}.baseline`;
        log(`${tag}: ProducerPerformance, ${fmtInt(s['baseline-records'])} records of ${recordSize} B...`);
        await k.create(topic, record.partitions);
        scratchTopics.push(topic);
        const b = await runBaseline({
          brokers,
          topic,
          records: s['baseline-records'],
          size: recordSize,
          javaOpts: s['java-opts'].split(/\s+/).filter(Boolean),
          classpath,
        });
        const landed = await k.total(topic);
        if (landed !== s['baseline-records'])
          problems.push(`baseline ${topic}: ${landed} records landed, expected ${s['baseline-records']}`);
        results.baseline.push(b);
        log(
          `  baseline: ${fmtInt(b.recordsPerSec)} records/s (${fmt(b.mbPerSec, 1)} MB/s), p50 ${b.latP50Ms} ms, ` +
            `p99 ${b.latP99Ms} ms per record`,
        );
      }

      if (chosen.has('batch')) {
        const batchLabel = `batch ${s['batch-size']} x ${s['batch-concurrency']}`;
        log(`${tag}: ${batchLabel}, ${fmtInt(s['batch-requests'])} requests...`);
        const b = await measure(batchLabel, batchLoad);
        results.batch.push(b);
        const base = results.baseline[results.baseline.length - 1];
        log(
          `  ${describe(b)}${base ? ` -> ${fmt(b.load.eventsPerSec / base.recordsPerSec, 2)}x ProducerPerformance` : ''}`,
        );
      }

      if (chosen.has('floor')) {
        const floorLabel = `floor ${s['batch-size']} x ${s['batch-concurrency']}`;
        const topic = `bench.ingestion.${runId}.${round}.floor`;
        await k.create(topic, record.partitions);
        scratchTopics.push(topic);
        log(
          `${tag}: ${floorLabel} on floor-gateway.cjs (HTTP, JSON and the produce only), ${fmtInt(s['batch-requests'])} requests...`,
        );
        const floorLog = logFile.replace(/\.log$/, `-floor-${round}.log`);
        const floor = await startFloor(s, brokers, topic, recordBytes, floorLog);
        /** @type {Measured} */
        let f;
        try {
          const target = {
            pids: { gatewayPids: floor.pids, brokerPid },
            ports: floor.ports,
            topic,
            alive: floor.alive,
          };
          f = await measure(floorLabel, batchLoad, target);
        } finally {
          await floor.stop();
          for (const file of floor.logFiles) fs.rmSync(file, { force: true });
        }
        results.floor.push(f);
        log(`  ${describe(f)}`);
      }

      if (chosen.has('single')) {
        const singleLabel = `single x ${s['single-concurrency']}`;
        log(`${tag}: ${singleLabel}, ${fmtInt(s['single-requests'])} requests...`);
        const one = await measure(singleLabel, {
          kind: 'single',
          mode: 'closed',
          requests: s['single-requests'],
          concurrency: s['single-concurrency'],
        });
        results.single.push(one);
        log(`  ${describe(one)}`);

        if (chosen.has('half')) {
          const rate = Math.max(1, Math.round(one.load.requestsPerSec * s['half-fraction']));
          results.halfRate.push(rate);
          log(`${tag}: single at ${fmtInt(rate)} requests/s (open loop, ${s['half-seconds']} s)...`);
          const half = await measure(`single @ ${rate}/s`, {
            kind: 'single',
            mode: 'open',
            rate,
            durationSec: s['half-seconds'],
            maxOutstanding: 1000,
          });
          results.half.push(half);
          log(`  ${describe(half)}, generator lag max ${fmt(half.load.maxIssueLagMs, 1)} ms`);
        }
      }
    }

    const hwmKb = Math.max(0, ...gateway.pids.map((pid) => vmHwmKb(pid) ?? 0)) || null;
    const stopped = await gateway.stop();
    gateway = null;
    if (stopped && stopped.code !== 0) problems.push(`the gateway exited ${JSON.stringify(stopped)} on SIGTERM`);
    printSummary(
      s,
      { ...facts, gatewayClient },
      { recordSize, recordBytes, eventBytes: probe.eventBytes, hwmKb, logFile },
      results,
    );
  } finally {
    await cleanup();
    const logFiles = Array.from({ length: s.gateways }, (_, i) => replicaLog(logFile, i));
    if (s['keep-log'] || problems.length > 0) log(`gateway log kept: ${logFiles.join(', ')}`);
    else for (const file of logFiles) fs.rmSync(file, { force: true });
  }
  if (problems.length > 0) {
    log(`FAILED: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

/**
 * The worker's configuration for one measurement.
 * @param {Settings} s
 * @param {string} apiKey
 * @param {number[]} ports
 * @param {string} idPrefix
 * @param {Record<string, unknown>} over
 */
function loadConfig(s, apiKey, ports, idPrefix, over) {
  return {
    host: '127.0.0.1',
    ports,
    apiKey,
    batchSize: s['batch-size'],
    eventBytes: s['event-bytes'],
    idPrefix,
    rate: 0,
    durationSec: 0,
    maxOutstanding: 1,
    warmupRequests: 50,
    ...over,
  };
}

/** @param {Measured} m */
function describe(m) {
  const l = m.load;
  const parts = [
    `${fmtInt(l.eventsPerSec)} events/s (${fmtInt(l.requestsPerSec)} req/s)`,
    `p50 ${fmt(l.latP50Ms, 2)} p99 ${fmt(l.latP99Ms, 2)} max ${fmt(l.latMaxMs, 1)} ms`,
    `gateway peak RSS ${m.peakRssKb === null ? '?' : fmt(m.peakRssKb / 1024, 0)} MB`,
  ];
  if (m.gatewayCpuSec !== null)
    parts.push(`gateway CPU ${fmt((m.gatewayCpuSec * 1e6) / l.acceptedEvents, 1)} µs/event`);
  parts.push(`load generator CPU ${fmt((l.cpuMs * 1000) / Math.max(1, l.acceptedEvents), 1)} µs/event`);
  if (m.brokerCpuSec !== null) parts.push(`broker CPU ${fmt((m.brokerCpuSec * 1e6) / l.acceptedEvents, 1)} µs/event`);
  if (m.machineBusy !== null) parts.push(`machine ${fmt(m.machineBusy * 100, 0)}% busy`);
  return parts.join(', ');
}

/**
 * @param {Settings} s
 * @param {ReturnType<typeof machineFacts> & { gatewayClient: string }} facts
 * @param {{ recordSize: number, recordBytes: number, eventBytes: number, hwmKb: number | null, logFile: string }} info
 * @param {Results} r
 */
function printSummary(s, facts, info, r) {
  const perEvent = (/** @type {number | null} */ sec, /** @type {LoadResult} */ l) =>
    sec === null ? null : (sec * 1e6) / Math.max(1, l.acceptedEvents);
  /** The median of `f` over `xs`, formatted. @template T @param {T[]} xs @param {(x: T) => number | null | undefined} f */
  const mf = (xs, f, d = 1) => fmt(med(xs, f), d);
  /** @param {string} label @param {Measured[]} ms */
  const row = (label, ms) => [
    label,
    fmtInt(med(ms, (m) => m.load.eventsPerSec)),
    fmtInt(med(ms, (m) => m.load.requestsPerSec)),
    mf(ms, (m) => m.load.latP50Ms, 2),
    mf(ms, (m) => m.load.latP99Ms, 2),
    mf(ms, (m) => perEvent(m.gatewayCpuSec, m.load)),
    mf(ms, (m) => perEvent(m.load.cpuMs / 1000, m.load)),
    mf(ms, (m) => (m.peakRssKb === null ? null : m.peakRssKb / 1024), 0),
    mf(ms, (m) => (m.machineBusy === null ? null : m.machineBusy * 100), 0),
  ];
  const halfRate = r.halfRate.length ? median(r.halfRate) : NaN;
  const rows = [];
  if (r.batch.length) rows.push(row(`batch ${s['batch-size']} x ${s['batch-concurrency']} (closed)`, r.batch));
  if (r.floor.length) rows.push(row(`floor ${s['batch-size']} x ${s['batch-concurrency']} (closed)`, r.floor));
  if (r.single.length) rows.push(row(`single x ${s['single-concurrency']} (closed)`, r.single));
  if (r.half.length) rows.push(row(`single @ ~${fmtInt(halfRate)}/s (open)`, r.half));
  const baseRate = med(r.baseline, (b) => b.recordsPerSec);
  if (r.baseline.length) {
    rows.push([
      `ProducerPerformance ${info.recordSize} B`,
      fmtInt(baseRate),
      '',
      mf(r.baseline, (b) => b.latP50Ms, 0),
      mf(r.baseline, (b) => b.latP99Ms, 0),
      '',
      '',
      mf(r.baseline, (b) => (b.maxRssKb === null ? null : b.maxRssKb / 1024), 0),
      '',
    ]);
  }
  const batchRate = med(r.batch, (m) => m.load.eventsPerSec);
  const ratio = batchRate / baseRate;
  const halfP99 = med(r.half, (m) => m.load.latP99Ms);
  const rssMb = info.hwmKb === null ? NaN : info.hwmKb / 1024;
  const verdict = (/** @type {boolean} */ ok) => (ok ? 'met' : 'NOT met');

  console.log('');
  console.log(
    `bench:ingestion — medians of ${s.rounds} round(s), ${new Date().toISOString().slice(0, 10)}; ` +
      `${s.gateways === 1 ? 'one gateway process' : `${s.gateways} gateway processes (CPU summed, RSS the highest one)`}, ` +
      `LOG_LEVEL=${s['log-level']}, events of ${info.eventBytes} B as sent, ${USAGE_TOPIC} records of ${info.recordBytes} B ` +
      `(key + value + headers), acks=all`,
  );
  console.log(
    `machine: ${facts.nproc} CPUs (${facts.cpu}), ${fmt(facts.memGb)} GB; node ${facts.node}; ` +
      `gateway producer ${facts.gatewayClient}; ` +
      `Kafka ${facts.kafka}; ${facts.java}`,
  );
  console.log('');
  console.log(
    table(
      [
        'workload',
        'events/s',
        'req/s',
        'p50 ms',
        'p99 ms',
        'gateway µs/event',
        'loadgen µs/event',
        'peak RSS MB',
        'machine busy %',
      ],
      rows,
    ),
  );
  console.log(
    'latency: gateway rows per HTTP request (sent → 202, i.e. Kafka acknowledged; open loop: from when it was due);\n' +
      'ProducerPerformance per record (send → ack). µs/event: CPU of the gateway / load generator process per accepted event.\n' +
      'peak RSS: the gateway’s VmRSS polled during each workload; ProducerPerformance: the JVM’s.',
  );
  const loads = [...r.batch, ...r.single, ...r.half].map((m) => m.loadBefore ?? 0);
  if (loads.length) {
    console.log(
      `background load (all CPUs busy in the half second before each measurement): median ${fmt(median(loads) * 100, 0)}%, ` +
        `max ${fmt(Math.max(...loads) * 100, 0)}%${Math.max(...loads) > 0.15 ? ' — other processes were running; expect noise' : ''}`,
    );
  }
  console.log('');
  if (r.batch.length && r.baseline.length) {
    console.log(
      `batch: ${fmtInt(batchRate)} accepted events/s ÷ ProducerPerformance ${fmtInt(baseRate)} records/s = ${fmt(ratio, 2)}x ` +
        `(target >= ${TARGETS.ratio}x: ${verdict(ratio >= TARGETS.ratio)}; >= ${fmtInt(TARGETS.batchEventsPerSec)}/s: ` +
        `${verdict(batchRate >= TARGETS.batchEventsPerSec)})`,
    );
    console.log(
      `  each round, batch events/s / ProducerPerformance records/s: ` +
        r.batch.map((m, i) => `${fmtInt(m.load.eventsPerSec)}/${fmtInt(r.baseline[i].recordsPerSec)}`).join(', '),
    );
  } else if (r.batch.length) {
    console.log(
      `batch: ${fmtInt(batchRate)} accepted events/s (>= ${fmtInt(TARGETS.batchEventsPerSec)}/s: ` +
        `${verdict(batchRate >= TARGETS.batchEventsPerSec)}; no baseline run)`,
    );
  }
  if (r.floor.length) {
    const floorRate = med(r.floor, (m) => m.load.eventsPerSec);
    console.log(
      `floor (floor-gateway.cjs: HTTP, JSON and the same produce, no gateway logic): ${fmtInt(floorRate)} events/s` +
        (r.baseline.length ? ` = ${fmt(floorRate / baseRate, 2)}x ProducerPerformance` : '') +
        (r.batch.length ? `; the gateway's batch rate is ${fmt((batchRate / floorRate) * 100, 0)}% of it` : '') +
        `; each round: ${r.floor.map((m) => fmtInt(m.load.eventsPerSec)).join(', ')}`,
    );
  }
  if (r.half.length) {
    console.log(
      `single at ${Math.round(s['half-fraction'] * 100)}% of saturation (~${fmtInt(halfRate)} req/s): p99 ${fmt(halfP99, 2)} ms ` +
        `(target < ${TARGETS.halfP99Ms} ms: ${verdict(halfP99 < TARGETS.halfP99Ms)}); saturation each round: ` +
        r.single.map((m) => fmtInt(m.load.requestsPerSec)).join(', ') +
        ' req/s',
    );
  }
  console.log(
    `gateway peak RSS over the whole run (VmHWM): ${fmt(rssMb, 0)} MB (target < ${TARGETS.rssMb} MB: ${verdict(rssMb < TARGETS.rssMb)})`,
  );
  console.log('');
}

main().catch((err) => {
  log(`ERROR: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
