// @ts-check
'use strict';
/**
 * bench:kafka — the UsageFlow producer wrapper (`@usageflow/kafka` EventProducer: KafkaJS,
 * idempotent, acks=all) against the broker's own `org.apache.kafka.tools.ProducerPerformance`
 * (Java client, acks=all, enable.idempotence=true), same broker, same machine, same run.
 *
 *   npm run bench:kafka                                   (launcher: infra + build, then this file)
 *   KAFKA_BROKERS=127.0.0.1:19092 node bench/kafka/run.cjs (broker already up, packages built)
 *
 * For each record size (200 B, 1 KB) and each of BENCH_RUNS rounds it runs the baseline, then
 * the wrapper (alternating, so drift on the machine hits both alike), each on a fresh 6-partition
 * topic that is deleted afterwards, and checks from the high-water marks that every record
 * landed exactly once. It prints the medians side by side with the ratio wrapper/baseline.
 * The target (docs PERFORMANCE.md) is ratio >= 0.8; it is reported, never asserted.
 *
 * Knobs (env):
 *   BENCH_RUNS=3                rounds per size (median reported)
 *   BENCH_RECORDS_200=2000000   records for the 200 B workload
 *   BENCH_RECORDS_1K=800000     records for the 1 KB workload
 *   BENCH_SIZES=200,1024        record sizes to run (each needs a records count: the two above,
 *                               or BENCH_RECORDS_<size> for another size)
 *   BENCH_BATCH=1000            wrapper: records per send()
 *   BENCH_CONCURRENCY=4         wrapper: sends outstanding at once
 *   BENCH_MAX_IN_FLIGHT=1       wrapper: EventProducer maxInFlightRequests
 *   BENCH_KEYS=null             wrapper: null (like ProducerPerformance) | varied (1,000 keys)
 *   BENCH_VALUE=buffer          wrapper: buffer (like ProducerPerformance's byte[]) | string
 *   BENCH_SWEEP=1               instead: one baseline + a matrix of wrapper configurations per
 *                               size (BENCH_SWEEP_BATCHES, BENCH_SWEEP_CONCURRENCY,
 *                               BENCH_SWEEP_MAX_IN_FLIGHT, comma lists) to choose the defaults
 *   BENCH_JAVA_OPTS="-Xmx512m"  JVM options of the baseline
 *   KAFKA_BROKERS               broker list (else the local infra is ensured, infra/local)
 *
 * Exit status: 0 when every measurement ran and every topic held exactly the records sent;
 * 1 on an error or a record-count mismatch. A ratio below target does not fail the run.
 */
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const infra = require(path.join(ROOT, 'infra', 'local', 'index.cjs'));
const { median } = require('../lib/stats.cjs');
const { logger, table } = require('../lib/output.cjs');
const { machineFacts, javaBin, localBrokerPid } = require('../lib/machine.cjs');
const { vmHwmKb, childrenCpuSec, processCpuSec, machineTicks, busyShare, backgroundLoad } = require('../lib/proc.cjs');
const { forkWorker } = require('../lib/worker.cjs');
const { kafkaTools: kafkaClient } = require('../lib/kafka.cjs');

const PARTITIONS = 6;
const TARGET_RATIO = 0.8;
const WORKER = path.join(__dirname, 'producer-worker.cjs');
/** The local broker JVM's pid when measurable (set in main), for its CPU time. */
let brokerPid = /** @type {number | null} */ (null);

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

/**
 * @param {string} name
 * @param {number} def
 * @param {number} [min]
 */
function intEnv(name, def, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return def;
  const v = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min} (got '${raw}')`);
  return v;
}

/**
 * @param {string} name
 * @param {number[]} def
 */
function intListEnv(name, def) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return def;
  const list = raw.split(',').map((s) => Number(s.trim()));
  if (list.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(`${name} must be a comma list of integers >= 1`);
  return list;
}

/**
 * @template {string} T
 * @param {string} name
 * @param {readonly T[]} allowed first is the default
 * @returns {T}
 */
function choiceEnv(name, allowed) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return allowed[0];
  const found = allowed.find((a) => a === raw);
  if (!found) throw new Error(`${name} must be one of ${allowed.join(', ')} (got '${raw}')`);
  return found;
}

/** @param {number} size */
function recordsFor(size) {
  if (size === 200) return intEnv('BENCH_RECORDS_200', 2_000_000);
  if (size === 1024) return intEnv('BENCH_RECORDS_1K', 800_000);
  const v = intEnv(`BENCH_RECORDS_${size}`, 0, 0);
  if (v === 0) throw new Error(`size ${size}: set BENCH_RECORDS_${size}`);
  return v;
}

function settings() {
  return {
    runs: intEnv('BENCH_RUNS', 3),
    sizes: intListEnv('BENCH_SIZES', [200, 1024]),
    batch: intEnv('BENCH_BATCH', 1000),
    concurrency: intEnv('BENCH_CONCURRENCY', 4),
    maxInFlight: intEnv('BENCH_MAX_IN_FLIGHT', 1),
    keys: choiceEnv('BENCH_KEYS', /** @type {const} */ (['null', 'varied'])),
    value: choiceEnv('BENCH_VALUE', /** @type {const} */ (['buffer', 'string'])),
    sweep: process.env.BENCH_SWEEP === '1' || process.env.BENCH_SWEEP === 'true',
    sweepBatches: intListEnv('BENCH_SWEEP_BATCHES', [100, 500, 1000, 2000]),
    sweepConcurrency: intListEnv('BENCH_SWEEP_CONCURRENCY', [1, 4, 16]),
    sweepMaxInFlight: intListEnv('BENCH_SWEEP_MAX_IN_FLIGHT', [1, 5]),
    javaOpts: (process.env.BENCH_JAVA_OPTS ?? '-Xmx512m').split(/\s+/).filter(Boolean),
  };
}

// ---------------------------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------------------------

const log = logger('bench:kafka');

/** @param {number} n */
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
/** @param {number} n @param {number} [d] */
const fmt = (n, d = 1) => n.toFixed(d);

// ---------------------------------------------------------------------------------------------
// Topics (through the project's own kafka package)
// ---------------------------------------------------------------------------------------------

/** @param {string[]} brokers */
function topicAdmin(brokers) {
  const { highWaterMarks } = require('@usageflow/kafka');
  const k = kafkaClient(brokers, 'bench-kafka-admin');
  /** @type {Set<string>} */
  const created = new Set();
  return {
    /** @param {string} topic */
    async create(topic) {
      await k.create(topic, PARTITIONS);
      created.add(topic);
    },
    /** @param {string} topic */
    async count(topic) {
      const hw = await highWaterMarks(k.kafka, topic);
      let total = 0n;
      for (const v of hw.values()) total += v;
      return Number(total);
    },
    /** @param {string[]} topics */
    async remove(topics) {
      const list = topics.filter((t) => created.has(t));
      if (list.length === 0) return;
      await k.admin.connect();
      try {
        await k.deleteTopics(list);
        for (const t of list) created.delete(t);
      } finally {
        await k.admin.disconnect();
      }
    },
    leftovers: () => [...created],
  };
}

// ---------------------------------------------------------------------------------------------
// Baseline: the broker's ProducerPerformance
// ---------------------------------------------------------------------------------------------

/**
 * The final summary line, e.g.
 * "500000 records sent, 231481.5 records/sec (44.15 MB/sec), 95.12 ms avg latency, 310.00 ms max
 *  latency, 88 ms 50th, 250 ms 95th, 290 ms 99th, 305 ms 99.9th."
 */
const SUMMARY_RE =
  /^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, (\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99\.9th/;

/**
 * CPU used while `fn` runs: the child process it runs (whole process, start to exit), the broker
 * and the whole machine.
 * @template {Measurement} T
 * @param {number | null} brokerPid
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function withCpu(brokerPid, fn) {
  const c0 = childrenCpuSec();
  const b0 = brokerPid === null ? null : processCpuSec(brokerPid);
  const m0 = machineTicks();
  const m = await fn();
  const c1 = childrenCpuSec();
  const b1 = brokerPid === null ? null : processCpuSec(brokerPid);
  const m1 = machineTicks();
  m.clientCpuSec = c0 !== null && c1 !== null ? c1 - c0 : null;
  m.brokerCpuSec = b0 !== null && b1 !== null ? b1 - b0 : null;
  m.machineBusy = busyShare(m0, m1);
  return m;
}

/**
 * @typedef {object} Measurement
 * @property {number} records
 * @property {number} seconds
 * @property {number} recordsPerSec
 * @property {number} mbPerSec
 * @property {number} latAvgMs
 * @property {number} latP50Ms
 * @property {number} latP99Ms
 * @property {number} latMaxMs
 * @property {number | null} maxRssKb
 * @property {number | null} [cpuMs]        wrapper only: CPU of the worker in the measured window
 * @property {number} [sends]               wrapper only
 * @property {number | null} [clientCpuSec] CPU of the whole client process, start to exit
 * @property {number | null} [brokerCpuSec] CPU of the local broker JVM meanwhile
 * @property {number | null} [machineBusy]  share of all CPUs busy meanwhile (0..1)
 * @property {number | null} [loadBefore]   share of all CPUs busy in the second before (0..1)
 */

/**
 * @param {{ brokers: string[], topic: string, records: number, size: number, javaOpts: string[], classpath: string }} o
 * @returns {Promise<Measurement>}
 */
function runBaseline(o) {
  const tools = path.join(path.dirname(infra.KAFKA_LIBS_DIR), 'tools-log4j.properties');
  const args = [
    ...o.javaOpts,
    ...(fs.existsSync(tools) ? [`-Dlog4j.configuration=file:${tools}`] : []),
    '-cp',
    o.classpath,
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    o.topic,
    '--num-records',
    String(o.records),
    '--record-size',
    String(o.size),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${o.brokers.join(',')}`,
    'acks=all',
    'enable.idempotence=true',
  ];
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(javaBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let peak = /** @type {number | null} */ (null);
    const poll = setInterval(() => {
      const v = child.pid ? vmHwmKb(child.pid) : null;
      if (v !== null) peak = Math.max(peak ?? 0, v);
    }, 200);
    let stdout = '';
    let stderr = '';
    /** @type {RegExpExecArray | null} */
    let summary = null;
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (/** @type {string} */ chunk) => {
      stdout += chunk;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const m = SUMMARY_RE.exec(line.trim());
        if (m) summary = m;
        else if (line.trim()) log(`    baseline: ${line.trim()}`);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (/** @type {string} */ chunk) => {
      stderr += chunk;
      if (stderr.length > 20_000) stderr = stderr.slice(-20_000);
    });
    child.once('error', (err) => {
      clearInterval(poll);
      reject(new Error(`could not run java ('${javaBin()}'): ${err.message}`));
    });
    child.once('close', (code) => {
      clearInterval(poll);
      const last = SUMMARY_RE.exec(partial.trim());
      if (last) summary = last;
      if (code !== 0 || !summary) {
        reject(
          new Error(
            `ProducerPerformance exited ${code} after ${((Date.now() - started) / 1000).toFixed(1)}s` +
              `${summary ? '' : ' without a summary line'}:\n${stdout.slice(-2000)}\n${stderr.slice(-2000)}`,
          ),
        );
        return;
      }
      const m = summary;
      const recordsPerSec = Number(m[2]);
      resolve({
        records: Number(m[1]),
        seconds: Number(m[1]) / recordsPerSec,
        recordsPerSec,
        mbPerSec: Number(m[3]),
        latAvgMs: Number(m[4]),
        latMaxMs: Number(m[5]),
        latP50Ms: Number(m[6]),
        latP99Ms: Number(m[8]),
        maxRssKb: peak,
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Wrapper: @usageflow/kafka EventProducer in a child process (producer-worker.cjs)
// ---------------------------------------------------------------------------------------------

/**
 * @typedef {object} WrapperConfig
 * @property {number} batch
 * @property {number} concurrency
 * @property {number} maxInFlight
 * @property {'null' | 'varied'} keys
 * @property {'buffer' | 'string'} value
 */

/**
 * @param {{ brokers: string[], topic: string, records: number, size: number } & WrapperConfig} o
 * @returns {Promise<Measurement>}
 */
function runWrapper(o) {
  return forkWorker(WORKER, o, {
    what: 'producer worker',
    onProgress: (msg) => {
      const rate = msg.acked / (msg.elapsedMs / 1000);
      log(`    wrapper: ${fmtInt(msg.acked)} records acked, ${fmtInt(rate)} records/sec so far`);
    },
    /** @returns {Measurement} */
    toResult: (msg) => ({
      records: msg.records,
      seconds: msg.seconds,
      recordsPerSec: msg.recordsPerSec,
      mbPerSec: msg.mbPerSec,
      latAvgMs: msg.latAvgMs,
      latP50Ms: msg.latP50Ms,
      latP99Ms: msg.latP99Ms,
      latMaxMs: msg.latMaxMs,
      maxRssKb: msg.maxRssKb,
      cpuMs: msg.cpuUserMs + msg.cpuSysMs,
      sends: msg.sends,
    }),
  });
}

// ---------------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------------

/**
 * CPU per record in µs, or null.
 * @param {number | null | undefined} sec
 * @param {number} records
 */
const usPerRecord = (sec, records) => (sec == null ? null : (sec * 1e6) / records);

/** @param {Measurement} m */
function describe(m) {
  const parts = [
    `${fmtInt(m.recordsPerSec)} records/sec`,
    `${fmt(m.mbPerSec, 2)} MB/sec`,
    `lat avg ${fmt(m.latAvgMs)} p50 ${fmt(m.latP50Ms)} p99 ${fmt(m.latP99Ms)} max ${fmt(m.latMaxMs)} ms`,
    `peak RSS ${m.maxRssKb === null ? '?' : fmt(m.maxRssKb / 1024, 0)} MB`,
  ];
  const client = usPerRecord(m.clientCpuSec, m.records);
  const broker = usPerRecord(m.brokerCpuSec, m.records);
  if (client !== null) parts.push(`client CPU ${fmt(m.clientCpuSec ?? 0, 2)} s (${fmt(client, 2)} µs/record)`);
  if (m.cpuMs != null) parts.push(`in the send window ${fmt((m.cpuMs * 1000) / m.records, 2)} µs/record`);
  if (broker !== null) parts.push(`broker CPU ${fmt(m.brokerCpuSec ?? 0, 2)} s (${fmt(broker, 2)} µs/record)`);
  if (m.machineBusy != null) parts.push(`machine ${fmt(m.machineBusy * 100, 0)}% busy`);
  return parts.join(', ');
}

/**
 * Creates the topic, runs `fn`, checks the records landed exactly once, deletes the topic.
 * @param {ReturnType<typeof topicAdmin>} admin
 * @param {string} topic
 * @param {number} expected records the topic must hold afterwards
 * @param {(topic: string) => Promise<Measurement>} fn
 * @param {string[]} problems collects count mismatches
 */
async function onFreshTopic(admin, topic, expected, fn, problems) {
  await admin.create(topic);
  try {
    const before = await backgroundLoad(1000);
    if (before !== null && before > 0.15) {
      log(`    note: the machine was ${fmt(before * 100, 0)}% busy just before this measurement (other processes)`);
    }
    const m = await withCpu(brokerPid, () => fn(topic));
    m.loadBefore = before;
    const landed = await admin.count(topic);
    if (landed !== expected) {
      const msg = `topic ${topic}: ${landed} records landed, expected ${expected}`;
      problems.push(msg);
      log(`    WARNING ${msg}`);
    }
    return m;
  } finally {
    await admin.remove([topic]);
  }
}

/** @param {number} size */
const sizeLabel = (size) => (size % 1024 === 0 ? `${size / 1024} KB` : `${size} B`);

async function main() {
  const s = settings();
  const facts = machineFacts();
  log(
    `machine: ${facts.nproc} CPUs (${facts.cpu}), ${fmt(facts.memGb)} GB RAM, ${facts.os}; ` +
      `node ${facts.node}, kafkajs ${facts.kafkajs}; Kafka ${facts.kafka} (${facts.java})`,
  );

  try {
    require.resolve('@usageflow/kafka');
    require.resolve('@usageflow/telemetry');
  } catch {
    throw new Error('@usageflow/kafka is not built: run `npx tsc -b packages/kafka` (or `npm run build`) first');
  }

  let brokersCsv = process.env.KAFKA_BROKERS;
  if (!brokersCsv) brokersCsv = (await infra.ensureInfra({ log })).kafkaBrokers;
  const brokers = brokersCsv.split(',').map((b) => b.trim());
  await infra.resolveKafkaLibs({ log });
  const classpath = infra.kafkaClasspath();
  log(`broker ${brokers.join(',')}; baseline JVM ${s.javaOpts.join(' ')}, classpath ${path.relative(ROOT, classpath)}`);

  brokerPid = localBrokerPid(brokers);
  log(
    brokerPid === null
      ? 'broker CPU: not measured (not the local infra broker)'
      : `broker CPU: measured from pid ${brokerPid}`,
  );
  const admin = topicAdmin(brokers);
  const runId = Date.now().toString(36);
  /** @type {string[]} */
  const problems = [];
  let seq = 0;
  /** @param {number} size @param {string} what */
  const topicName = (size, what) => `bench.kafka.${size}.${runId}.${++seq}.${what}`;

  const cleanup = async () => {
    const left = admin.leftovers();
    if (left.length > 0) await admin.remove(left).catch(() => undefined);
  };
  process.once('SIGINT', () => {
    log('interrupted: deleting the bench topics');
    cleanup().finally(() => process.exit(130));
  });

  try {
    if (s.sweep) await sweep(s, brokers, classpath, admin, topicName, problems);
    else await compare(s, facts, brokers, classpath, admin, topicName, problems);
  } finally {
    await cleanup();
  }
  if (problems.length > 0) {
    log(`FAILED: ${problems.length} record-count mismatch(es):\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

/**
 * One ProducerPerformance measurement of `records` records of `size` bytes on a fresh topic.
 * @param {ReturnType<typeof settings>} s
 * @param {string[]} brokers
 * @param {string} classpath
 * @param {ReturnType<typeof topicAdmin>} admin
 * @param {(size: number, what: string) => string} topicName
 * @param {string[]} problems
 * @param {number} size
 * @param {number} records
 */
function baselineOnFreshTopic(s, brokers, classpath, admin, topicName, problems, size, records) {
  return onFreshTopic(
    admin,
    topicName(size, 'baseline'),
    records,
    (topic) => runBaseline({ brokers, topic, records, size, javaOpts: s.javaOpts, classpath }),
    problems,
  );
}

/**
 * The benchmark proper: R rounds per size, baseline and wrapper alternating; medians + ratio.
 * @param {ReturnType<typeof settings>} s
 * @param {ReturnType<typeof machineFacts>} facts
 * @param {string[]} brokers
 * @param {string} classpath
 * @param {ReturnType<typeof topicAdmin>} admin
 * @param {(size: number, what: string) => string} topicName
 * @param {string[]} problems
 */
async function compare(s, facts, brokers, classpath, admin, topicName, problems) {
  /** @type {WrapperConfig} */
  const wcfg = { batch: s.batch, concurrency: s.concurrency, maxInFlight: s.maxInFlight, keys: s.keys, value: s.value };
  log(
    `plan: sizes ${s.sizes.map(sizeLabel).join(', ')} x ${s.runs} round(s), baseline then wrapper; wrapper ` +
      `batch ${wcfg.batch} records/send, ${wcfg.concurrency} sends outstanding, maxInFlightRequests ${wcfg.maxInFlight}, ` +
      `${wcfg.keys} keys, ${wcfg.value} values`,
  );
  /** @type {Map<number, { base: Measurement[], wrap: Measurement[] }>} */
  const results = new Map();
  for (const size of s.sizes) {
    const records = recordsFor(size);
    const bucket = { base: /** @type {Measurement[]} */ ([]), wrap: /** @type {Measurement[]} */ ([]) };
    results.set(size, bucket);
    for (let r = 1; r <= s.runs; r++) {
      log(`${sizeLabel(size)} round ${r}/${s.runs}: ProducerPerformance, ${fmtInt(records)} records...`);
      const b = await baselineOnFreshTopic(s, brokers, classpath, admin, topicName, problems, size, records);
      bucket.base.push(b);
      log(`  baseline: ${describe(b)}`);

      log(`${sizeLabel(size)} round ${r}/${s.runs}: @usageflow/kafka EventProducer, ${fmtInt(records)} records...`);
      const w = await onFreshTopic(
        admin,
        topicName(size, 'wrapper'),
        records + 1, // + the worker's uncounted metadata warm-up record
        (topic) => runWrapper({ brokers, topic, records, size, ...wcfg }),
        problems,
      );
      bucket.wrap.push(w);
      log(`  wrapper:  ${describe(w)}  -> ${fmt(w.recordsPerSec / b.recordsPerSec, 2)}x`);
    }
  }
  printSummary(s, facts, wcfg, results);
}

/**
 * @param {ReturnType<typeof settings>} s
 * @param {ReturnType<typeof machineFacts>} facts
 * @param {WrapperConfig} wcfg
 * @param {Map<number, { base: Measurement[], wrap: Measurement[] }>} results
 */
function printSummary(s, facts, wcfg, results) {
  /** @param {Measurement[]} ms @param {(m: Measurement) => number | null | undefined} f */
  const med = (ms, f) => {
    const xs = /** @type {number[]} */ (ms.map(f).filter((x) => x != null));
    return xs.length ? median(xs) : NaN;
  };
  /** @param {number} x @param {number} d */
  const opt = (x, d) => (Number.isNaN(x) ? '?' : fmt(x, d));
  /** @param {Measurement[]} ms @param {Measurement[]} ws @param {(m: Measurement) => number | null | undefined} f @param {number} d */
  const pair = (ms, ws, f, d) => `${opt(med(ms, f), d)} / ${opt(med(ws, f), d)}`;
  /** @type {string[][]} */
  const rows1 = [];
  /** @type {string[][]} */
  const rows2 = [];
  /** @type {string[]} */
  const verdicts = [];
  for (const [size, { base, wrap }] of results) {
    const label = `${sizeLabel(size)} x ${fmtInt(base[0]?.records ?? 0)}`;
    const bRate = med(base, (m) => m.recordsPerSec);
    const wRate = med(wrap, (m) => m.recordsPerSec);
    const ratio = wRate / bRate;
    rows1.push([
      label,
      fmtInt(bRate),
      fmtInt(wRate),
      `${fmt(ratio, 2)}x`,
      fmt(
        med(base, (m) => m.mbPerSec),
        1,
      ),
      fmt(
        med(wrap, (m) => m.mbPerSec),
        1,
      ),
    ]);
    rows2.push([
      label,
      pair(base, wrap, (m) => m.latP50Ms, 1),
      pair(base, wrap, (m) => m.latP99Ms, 1),
      pair(base, wrap, (m) => (m.maxRssKb === null ? null : m.maxRssKb / 1024), 0),
      pair(base, wrap, (m) => usPerRecord(m.clientCpuSec, m.records), 2),
      pair(base, wrap, (m) => usPerRecord(m.brokerCpuSec, m.records), 2),
      pair(base, wrap, (m) => (m.machineBusy == null ? null : m.machineBusy * 100), 0),
    ]);
    verdicts.push(
      `${sizeLabel(size)}: ${fmt(ratio, 2)}x ${ratio >= TARGET_RATIO ? '>=' : '<'} ${TARGET_RATIO}x target` +
        ` (each round, wrapper/baseline records/sec: ${wrap.map((w, i) => `${fmtInt(w.recordsPerSec)}/${fmtInt(base[i].recordsPerSec)}`).join(', ')})`,
    );
  }
  console.log('');
  console.log(
    `bench:kafka — medians of ${s.runs} round(s); acks=all, idempotent, ${PARTITIONS} partitions, one broker (${new Date().toISOString().slice(0, 10)})`,
  );
  console.log(
    `machine: ${facts.nproc} CPUs (${facts.cpu}), ${fmt(facts.memGb)} GB; node ${facts.node}; kafkajs ${facts.kafkajs}; ` +
      `Kafka ${facts.kafka}; ${facts.java}`,
  );
  console.log(
    `baseline: ProducerPerformance, Java client defaults, ${s.javaOpts.join(' ')}, null keys. wrapper: EventProducer, ` +
      `${wcfg.batch} records/send, ${wcfg.concurrency} sends outstanding, maxInFlightRequests ${wcfg.maxInFlight}, ` +
      `${wcfg.keys} keys, ${wcfg.value} values`,
  );
  console.log('');
  console.log(table(['workload', 'baseline rec/s', 'wrapper rec/s', 'ratio', 'baseline MB/s', 'wrapper MB/s'], rows1));
  console.log('');
  console.log(
    table(
      [
        'baseline / wrapper',
        'p50 ms',
        'p99 ms',
        'peak RSS MB',
        'client CPU µs/rec',
        'broker CPU µs/rec',
        'machine busy %',
      ],
      rows2,
    ),
  );
  console.log(
    'latency: baseline per record (send → ack); wrapper per send() call (a whole batch, queueing included).\n' +
      'client CPU: the whole client process, start to exit (JVM start and JIT, or node start and connect, included).',
  );
  const loads = [...results.values()].flatMap(({ base, wrap }) => [...base, ...wrap]).map((m) => m.loadBefore ?? 0);
  if (loads.length > 0) {
    console.log(
      `background load (all CPUs busy in the second before each measurement): median ${fmt(median(loads) * 100, 0)}%, ` +
        `max ${fmt(Math.max(...loads) * 100, 0)}%${Math.max(...loads) > 0.15 ? ' — other processes were running; expect noise' : ''}`,
    );
  }
  for (const v of verdicts) console.log(v);
  console.log('');
}

/**
 * Chooses the defaults: one baseline, then every wrapper configuration of the matrix, once each.
 * @param {ReturnType<typeof settings>} s
 * @param {string[]} brokers
 * @param {string} classpath
 * @param {ReturnType<typeof topicAdmin>} admin
 * @param {(size: number, what: string) => string} topicName
 * @param {string[]} problems
 */
async function sweep(s, brokers, classpath, admin, topicName, problems) {
  for (const size of s.sizes) {
    const records = recordsFor(size);
    log(`sweep ${sizeLabel(size)} x ${fmtInt(records)}: ProducerPerformance...`);
    const b = await baselineOnFreshTopic(s, brokers, classpath, admin, topicName, problems, size, records);
    log(`  baseline: ${describe(b)}`);
    /** @type {string[][]} */
    const rows = [];
    for (const maxInFlight of s.sweepMaxInFlight) {
      for (const batch of s.sweepBatches) {
        for (const concurrency of s.sweepConcurrency) {
          /** @type {WrapperConfig} */
          const wcfg = { batch, concurrency, maxInFlight, keys: s.keys, value: s.value };
          log(`  wrapper batch ${batch}, ${concurrency} outstanding, maxInFlightRequests ${maxInFlight}...`);
          const w = await onFreshTopic(
            admin,
            topicName(size, 'wrapper'),
            records + 1,
            (topic) => runWrapper({ brokers, topic, records, size, ...wcfg }),
            problems,
          );
          log(`  wrapper: ${describe(w)} -> ${fmt(w.recordsPerSec / b.recordsPerSec, 2)}x`);
          rows.push([
            `${batch} x ${concurrency}, mif ${maxInFlight}`,
            fmtInt(w.recordsPerSec),
            `${fmt(w.recordsPerSec / b.recordsPerSec, 2)}x`,
            fmt(w.latP50Ms, 1),
            fmt(w.latP99Ms, 1),
            fmt((w.maxRssKb ?? 0) / 1024, 0),
            fmt(((w.cpuMs ?? 0) * 1000) / w.records, 2),
          ]);
        }
      }
    }
    console.log('');
    console.log(
      `sweep ${sizeLabel(size)} x ${fmtInt(records)}, ${s.keys} keys, ${s.value} values; baseline ${fmtInt(b.recordsPerSec)} records/sec`,
    );
    console.log(
      table(['batch x outstanding, maxInFlight', 'rec/s', 'ratio', 'p50 ms', 'p99 ms', 'RSS MB', 'µs CPU/rec'], rows),
    );
    console.log('');
  }
}

// Run as a script (npm run bench:kafka, or node bench/kafka/run.cjs); required by another
// benchmark (bench/ingestion), it only lends its baseline runner below.
if (require.main === module) {
  main().catch((err) => {
    log(`ERROR: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  });
}

module.exports = { runBaseline };
