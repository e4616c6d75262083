// @ts-check
'use strict';
/**
 * bench:aggregation — the aggregation service (services/aggregation, `node dist/main.js`, its own
 * process) consuming the usage topic exactly once, against a plain Postgres COPY of the same rows
 * into an unindexed table, same machine, same run.
 *
 *   npm run bench:aggregation                  (ensures the local infra; builds the service if missing)
 *   npm run bench:aggregation -- --help        (every option)
 *
 * Per round (default 3; medians reported), on a topic and a Postgres schema of the round's own:
 *   produce  N usage.recorded records (1% repeating an earlier event) with the service stopped;
 *   COPY     the same N rows (usage_events' columns) into an unindexed table, 5,000 per COPY;
 *   drain    start the service and time its committed progress (usage_progress, written in the
 *            same transaction as each batch) from the first commit to the topic's high-water
 *            marks: consumed-and-committed events/s, and its ratio to COPY's rows/s;
 *   live     records at a share of the drain rate while a probe event for a fresh customer goes
 *            out every 100 ms; each is timed from the producer's acknowledgement until its rollup
 *            row is visible: accepted → visible latency;
 *   check    stored events and rolled-up counts against the distinct events produced;
 *   reconcile (outside every timed window) a catalog and subscriptions for the first customers
 *            go out before the drain, their period is closed after it, so live events become
 *            late records; at the end the service's own reconciliation must explain every
 *            record on the topic and every stored event, and each period must line up.
 * The targets (docs PERFORMANCE.md) are reported, never asserted.
 *
 * Exit status: 0 when every round ran and every check held; 1 on an error, a stalled drain, a
 * probe never seen, counts that do not match, or a reconciliation that does not explain every
 * event. A figure below target does not fail the run.
 */
const os = require('node:os');
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');

const ROOT = path.resolve(__dirname, '..', '..');
const { median, percentile } = require('../lib/stats.cjs');
const { parseOptions } = require('../lib/cli.cjs');
const { logger, fmtInt, fmt, med, table } = require('../lib/output.cjs');
const { vmHwmKb, backgroundLoad, cpuWindow: processWindow, postgresCpuSec } = require('../lib/proc.cjs');
const { freePort, replicaLog, startGroup, startService: startProcess } = require('../lib/service.cjs');
const { forkWorker } = require('../lib/worker.cjs');
const { kafkaTools: kafkaClient } = require('../lib/kafka.cjs');
const { prepareRun, scratchOf, runWithCleanup } = require('../lib/run.cjs');
const ev = require('./events.cjs');
const rec = require('./reconcile.cjs');

const SERVICE_DIR = path.join(ROOT, 'services', 'aggregation');
const WORKER = path.join(__dirname, 'produce-worker.cjs');
const TARGETS = { ratio: 0.3, eventsPerSec: 100_000, p99Ms: 1000, rssMb: 200 };
/** Partitions of the round's catalog, subscriptions, invoices and summaries topics (as infra/local/topics.cjs). */
const DOMAIN_PARTITIONS = 6;
/** The columns usage_events stores per event (services/aggregation migrations), stored_at aside. */
const COLUMNS = [
  'organization_id uuid',
  'customer_id text',
  'metric text',
  'amount numeric',
  'ts timestamptz',
  'event_id text',
  'key uuid',
  'properties jsonb',
  'received_at timestamptz',
  'kafka_partition integer',
  'kafka_offset bigint',
];

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/** name -> [default, help]; numbers are parsed as numbers, the rest kept as strings. */
const OPTIONS = /** @type {const} */ ({
  rounds: [3, 'rounds of produce + COPY + drain (+ live); medians are reported'],
  events: [1_000_000, 'records produced per round, duplicates included'],
  customers: [10_000, 'customers the events spread over'],
  metrics: [5, 'metric keys (METRIC_0..)'],
  duplicates: [0.01, 'share of records repeating an earlier event’s eventId, in [0, 1)'],
  'live-seconds': [15, 'live phase: duration in seconds'],
  'live-fraction': [0.5, 'live phase: background records/s as a share of the round’s drain rate, in (0, 1]'],
  'probe-ms': [100, 'live phase: one probe event every this many ms'],
  'poll-ms': [5, 'live phase: how often the probes’ rollup rows are looked for'],
  'produce-batch': [4000, 'records per produce request'],
  'copy-batch': [5000, 'rows per COPY statement of the baseline'],
  'stall-seconds': [60, 'fail a drain that commits nothing for this long'],
  replicas: [1, 'service processes in the consumer group, sharing the partitions (scale-out)'],
  subscribed: [
    100,
    'customers (cust_0..) subscribed to a plan; their period is closed after the drain and reconciled at the end (0: none, no reconciliation)',
  ],
  'service-node-args': ['', 'extra node options of the service, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"'],
  'no-live': [false, 'skip the live phase'],
  'no-baseline': [false, 'skip the COPY baseline (no ratio)'],
  keep: [false, 'keep the schemas, topics and the service’s log (their names are printed)'],
});

/** @typedef {{ [K in keyof typeof OPTIONS]: (typeof OPTIONS)[K][0] extends number ? number : (typeof OPTIONS)[K][0] extends boolean ? boolean : string }} Settings */

/** Options that take fractions; the other numbers are whole. */
const FRACTIONS = /** @type {const} */ ({ duplicates: '[0, 1)', 'live-fraction': '(0, 1]' });

/** @param {string[]} argv @returns {Settings} */
function parseArgs(argv) {
  const s = parseOptions(argv, OPTIONS, {
    head: [
      'usage: npm run bench:aggregation -- [options]',
      '       node bench/aggregation/run.cjs [options]',
      '',
      'The aggregation service (services/aggregation/dist/main.js, built if missing) in its own process,',
      'draining a topic of the run’s own, against a plain COPY of the same rows in the same run.',
      'KAFKA_BROKERS / DATABASE_URL: use those (else the local infra is ensured).',
    ],
    pad: 28,
    minWhole: 1,
    minimums: { subscribed: 0 },
    fractions: FRACTIONS,
  });
  if (Number(s.subscribed) > Number(s.customers))
    throw new Error(`--subscribed (${s.subscribed}) cannot exceed --customers (${s.customers})`);
  return /** @type {Settings} */ (/** @type {unknown} */ (s));
}

// ---------------------------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------------------------

const log = logger('bench:aggregation');
/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** CPU seconds per event, as µs. @param {number | null} sec @param {number} events */
const usPer = (sec, events) => (sec === null || events <= 0 ? null : (sec * 1e6) / events);

// ---------------------------------------------------------------------------------------------
// /proc: the service, Postgres, the broker, the machine
// ---------------------------------------------------------------------------------------------

/**
 * CPU of the service (all its processes), Postgres and the broker, and how busy the machine was,
 * between `start()` and `stop()`; the highest VmRSS of one service process meanwhile (polled
 * every 100 ms).
 * @param {number[]} servicePids
 * @param {number | null} brokerPid
 */
function cpuWindow(servicePids, brokerPid) {
  const w = processWindow(servicePids, brokerPid, { postgres: postgresCpuSec });
  return {
    stop() {
      const r = w.stop();
      return {
        serviceCpuSec: r.cpuSec,
        postgresCpuSec: r.more.postgres,
        brokerCpuSec: r.brokerCpuSec,
        machineBusy: r.machineBusy,
        peakRssKb: r.peakRssKb,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Kafka and Postgres
// ---------------------------------------------------------------------------------------------

/** @param {string[]} brokers */
function kafkaTools(brokers) {
  // One admin for the run: the live phase reads the high-water marks every second.
  const k = kafkaClient(brokers, 'bench-aggregation');
  /** @param {string} topic @returns {Promise<Map<number, number>>} */
  const marks = async (topic) => {
    const offsets = await k.admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  };
  return {
    ...k,
    marks,
    /**
     * A producer for one round's scratch topics, disconnected at the round's end: a KafkaJS client
     * keeps refreshing the metadata of every topic it produced to, and once the topic is deleted
     * its sends to any other topic retry forever.
     */
    async scratchProducer() {
      const { EventProducer } = require('@usageflow/kafka');
      const p = new EventProducer(k.kafka, { logger: k.logger });
      await p.connect();
      return p;
    },
    /** @param {string} topic */
    async total(topic) {
      let sum = 0;
      for (const v of (await marks(topic)).values()) sum += v;
      return sum;
    },
  };
}

/** pg-copy-streams, a dependency of services/aggregation (hoisted to the root or kept there). */
function copyFrom() {
  const resolved = require.resolve('pg-copy-streams', { paths: [SERVICE_DIR, ROOT] });
  return /** @type {typeof import('pg-copy-streams').from} */ (require(resolved).from);
}

/**
 * Sums the service's committed progress on `topic` (usage_progress, one row per partition,
 * written in the same transaction as each batch). Null while the table does not exist yet.
 * @param {import('pg').Pool} pool
 * @param {string} schema
 * @param {string} topic
 */
async function committed(pool, schema, topic) {
  try {
    const r = await pool.query(
      `select coalesce(sum(next_offset), 0)::bigint::text as n from ${schema}.usage_progress where topic = $1`,
      [topic],
    );
    return Number(r.rows[0].n);
  } catch (err) {
    if (/** @type {{ code?: string }} */ (err).code === '42P01') return null; // migrations not run yet
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// The producer (forked produce-worker.cjs)
// ---------------------------------------------------------------------------------------------

/**
 * @typedef {object} ProduceResult
 * @property {number} from
 * @property {number} to
 * @property {number} produced
 * @property {number} seconds
 * @property {number} recordsPerSec
 * @property {number} cpuMs
 */

/**
 * @param {Record<string, unknown>} cfg the worker's ProduceConfig
 * @param {string} label
 * @param {(child: import('node:child_process').ChildProcess | null) => void} track
 * @returns {Promise<ProduceResult>}
 */
function runProducer(cfg, label, track) {
  return forkWorker(WORKER, cfg, {
    what: 'producer',
    track,
    onProgress: (msg) =>
      log(`    ${label}: ${fmtInt(msg.produced)} records, ${fmtInt(msg.produced / (msg.elapsedMs / 1000))}/s so far`),
  });
}

// ---------------------------------------------------------------------------------------------
// The service process
// ---------------------------------------------------------------------------------------------

/**
 * Starts `replicas` processes of `node services/aggregation/dist/main.js` on the round's schema
 * and topic, in one consumer group, each with its log in a file (no pipe through this process:
 * the runner takes no CPU from the service). Resolves at once; `ready()` waits for every
 * /readyz 200. The group answers like one process: alive while all are, stopped together.
 * Every topic it reads or writes is the round's own: never the real catalog or subscriptions,
 * and its summaries and late records never reach the real summaries topic.
 * @param {{ main: string, nodeArgs: string, databaseUrl: string, brokers: string[], schema: string, topic: string, topics: RoundTopics, groupId: string, replicas: number, logFile: string }} o
 */
async function startService(o) {
  return startGroup(o.replicas, async (i) => {
    const port = /** @type {number} */ (await freePort());
    const logFile = replicaLog(o.logFile, i);
    const proc = startProcess({
      name: o.replicas === 1 ? 'service' : `service ${i + 1}`,
      main: o.main,
      nodeArgs: o.nodeArgs,
      port,
      logFile,
      env: {
        DATABASE_URL: o.databaseUrl,
        DATABASE_SCHEMA: o.schema,
        KAFKA_BROKERS: o.brokers.join(','),
        PORT: String(port),
        LOG_LEVEL: 'warn',
        MIGRATE_ON_START: 'true',
        AGGREGATION_USAGE_TOPIC: o.topic,
        AGGREGATION_CATALOG_TOPIC: o.topics.catalog,
        AGGREGATION_SUBSCRIPTIONS_TOPIC: o.topics.subscriptions,
        AGGREGATION_INVOICES_TOPIC: o.topics.invoices,
        AGGREGATION_SUMMARIES_TOPIC: o.topics.summaries,
        AGGREGATION_GROUP_ID: o.groupId,
      },
    });
    // NOTE: one at a time until ready: concurrent first starts would race on the migrations.
    if (i === 0 && o.replicas > 1) await proc.ready();
    return { proc, port, logFile };
  });
}

// ---------------------------------------------------------------------------------------------
// The events: a sanity check against the contract, and the baseline's rows
// ---------------------------------------------------------------------------------------------

/**
 * Checks a few records of the stream (plain, duplicate, each metric) against the contract
 * (packages/contracts validateEvent) and checks that the hand-written JSON is JSON.stringify's.
 * @param {import('./events.cjs').StreamSpec} spec
 * @param {number} records
 */
function checkEvents(spec, records) {
  const { validateEvent } = require(path.join(ROOT, 'packages', 'contracts', 'dist'));
  const s = ev.stream(spec);
  const receivedAt = new Date().toISOString();
  const firstDup = Array.from({ length: Math.min(records, 1000) }, (_, i) => i).find((i) => s.isDup(i));
  const sample = [...Array.from({ length: Math.min(records, 20) }, (_, i) => i), ...(firstDup ? [firstDup] : [])];
  for (const i of sample) {
    const e = s.event(s.eventOf(i));
    const id = randomUUID();
    const { value } = ev.envelope(spec, e, receivedAt, id);
    const expected = JSON.stringify(ev.envelopeObject(spec, e, receivedAt, id));
    if (value !== expected) throw new Error(`record ${i}: the envelope text differs from JSON.stringify:\n${value}`);
    const r = validateEvent(JSON.parse(value));
    if (!r.ok) throw new Error(`record ${i} does not validate as usage.recorded: ${r.errors.join('; ')}`);
  }
  const { value } = ev.envelope(spec, s.event(s.eventOf(0)), receivedAt);
  return { bytes: Buffer.byteLength(value), example: value };
}

/**
 * The rows usage_events would hold for records 0, 1, 2... of the stream, in COPY's column order
 * (duplicates included: the baseline copies every record). The partition is the producer's and
 * the offset counts the earlier records of that partition: the round's topic is fresh.
 * @param {import('./events.cjs').StreamSpec} spec
 * @param {number} records
 * @param {string} receivedAt
 */
function* rowsOf(spec, records, receivedAt) {
  const kafka = require('@platformatic/kafka');
  const s = ev.stream(spec);
  const partitionOf = ev.partitioner(kafka.murmur2);
  const offsets = new Array(ev.PARTITIONS).fill(0);
  for (let i = 0; i < records; i++) {
    const e = s.event(s.eventOf(i));
    const partition = partitionOf(`${spec.organizationId}:${e.customerId}`);
    yield {
      dup: s.isDup(i),
      values: [
        spec.organizationId,
        e.customerId,
        e.metric,
        e.amount,
        e.timestamp,
        e.eventId,
        ev.eventKey(spec.organizationId, e.eventId),
        JSON.stringify(e.properties),
        receivedAt,
        partition,
        offsets[partition]++,
      ],
    };
  }
}

/**
 * The baseline's rows as COPY text, one string per batch of `batch` rows. Built before the clock
 * starts, so COPY measures Postgres, not this process. No value needs escaping (no tab, newline
 * or backslash is ever generated).
 * @param {import('./events.cjs').StreamSpec} spec
 * @param {number} records
 * @param {number} batch
 */
function baselineRows(spec, records, batch) {
  /** @type {string[]} */
  const batches = [];
  let text = '';
  let n = 0;
  for (const row of rowsOf(spec, records, new Date().toISOString())) {
    text += row.values.join('\t') + '\n';
    if (++n % batch === 0 || n === records) {
      batches.push(text);
      text = '';
    }
  }
  return batches;
}

/**
 * Whether the service stored the first few events as the very rows the baseline copies (every
 * column but received_at, which the baseline cannot know): if not, the ratio compares different
 * work. A note, not a failure.
 * @param {import('pg').Pool} pool
 * @param {string} schema
 * @param {import('./events.cjs').StreamSpec} spec
 * @param {number} records
 */
async function sameRows(pool, schema, spec, records) {
  /** @type {string[]} */
  const differ = [];
  let checked = 0;
  for (const row of rowsOf(spec, Math.min(records, 20), '')) {
    if (row.dup || checked === 3) continue;
    checked++;
    const [org, customer, metric, amount, ts, eventId, key, props, , partition, offset] = row.values;
    const r = await pool.query(
      `select customer_id = $3 and metric = $4 and amount = $5::numeric and ts = $6::timestamptz and key = $7::uuid
          and properties = $8::jsonb and kafka_partition = $9 and kafka_offset = $10 as same
         from ${schema}.usage_events where organization_id = $1 and event_id = $2`,
      [org, eventId, customer, metric, amount, ts, key, props, partition, offset],
    );
    if (r.rows[0]?.same !== true) differ.push(String(eventId));
  }
  return differ;
}

/**
 * The raw baseline: COPY of the rows into a fresh unindexed, unpartitioned table, one COPY per
 * batch (each its own transaction, as each consumer batch is), over one connection.
 * @param {import('pg').Pool} pool
 * @param {string} schema
 * @param {string[]} batches
 * @param {number} records
 */
async function copyBaseline(pool, schema, batches, records) {
  const from = copyFrom();
  const client = await pool.connect();
  const tableName = `${schema}.usage_events_copy`;
  try {
    await client.query(`drop table if exists ${tableName}`);
    await client.query(`create table ${tableName} (${COLUMNS.join(', ')})`);
    const cols = COLUMNS.map((c) => c.split(' ')[0]).join(', ');
    const cpu = cpuWindow([process.pid], null);
    const t0 = performance.now();
    for (const text of batches) {
      await pipeline(Readable.from([Buffer.from(text)]), client.query(from(`copy ${tableName} (${cols}) from stdin`)));
    }
    const seconds = (performance.now() - t0) / 1000;
    const w = cpu.stop();
    const r = await client.query(`select count(*)::int as n from ${tableName}`);
    if (r.rows[0].n !== records) throw new Error(`COPY stored ${r.rows[0].n} rows, expected ${records}`);
    await client.query(`drop table ${tableName}`);
    return { seconds, rowsPerSec: records / seconds, postgresCpuSec: w.postgresCpuSec, machineBusy: w.machineBusy };
  } finally {
    client.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Drain and live
// ---------------------------------------------------------------------------------------------

/**
 * Polls the committed progress every 50 ms until it reaches `target` records, printing a line a
 * second. The rate counts only what was committed after the first commit was seen, over the time
 * since: the service's start-up and first batch are not in it.
 * @param {{ pool: import('pg').Pool, schema: string, topic: string, target: number, stallSec: number, alive: () => boolean, label: string, onFirst?: () => void }} o
 */
async function waitCommitted(o) {
  /** @type {{ at: number, n: number } | null} */
  let first = null;
  let last = { at: performance.now(), n: 0 };
  let lastLine = performance.now();
  let lineN = 0;
  for (;;) {
    if (!o.alive()) throw new Error(`${o.label}: the service exited`);
    const n = (await committed(o.pool, o.schema, o.topic)) ?? 0;
    const now = performance.now();
    if (n > 0 && first === null) {
      first = { at: now, n };
      o.onFirst?.();
    }
    if (n !== last.n) last = { at: now, n };
    if (n >= o.target) {
      if (n > o.target) throw new Error(`${o.label}: committed ${n} offsets, more than the ${o.target} produced`);
      const f = /** @type {{ at: number, n: number }} */ (first);
      return { firstAt: f.at, firstN: f.n, doneAt: now };
    }
    if (now - last.at > o.stallSec * 1000)
      throw new Error(`${o.label}: nothing committed for ${o.stallSec} s (${fmtInt(n)} of ${fmtInt(o.target)})`);
    if (now - lastLine >= 1000) {
      const rate = ((n - lineN) * 1000) / (now - lastLine);
      log(`    ${o.label}: ${fmtInt(n)} of ${fmtInt(o.target)} committed, ${fmtInt(rate)}/s in the last second`);
      lastLine = now;
      lineN = n;
    }
    await sleep(50);
  }
}

/**
 * Waits until `want` period closings are summarized (period_closings.summarized_at, set in the
 * transaction that writes the summary to the outbox), polling every 50 ms.
 * @param {{ pool: import('pg').Pool, schema: string, want: number, stallSec: number, alive: () => boolean }} o
 */
async function waitSummarized(o) {
  const t0 = performance.now();
  let last = { at: t0, n: -1 };
  for (;;) {
    if (!o.alive()) throw new Error('summaries: the service exited');
    const r = await o.pool.query(
      `select count(*) filter (where summarized_at is not null)::int as done, count(*)::int as closed
         from ${o.schema}.period_closings`,
    );
    const { done, closed } = r.rows[0];
    const now = performance.now();
    if (done >= o.want) return { seconds: (now - t0) / 1000, closed };
    if (done !== last.n) last = { at: now, n: done };
    if (now - last.at > o.stallSec * 1000)
      throw new Error(
        `summaries: ${done} of ${o.want} summarized (${closed} closings projected) after ${o.stallSec} s`,
      );
    await sleep(50);
  }
}

/**
 * The probe: one event for a fresh customer every `probeMs`, each timed from the producer's
 * acknowledgement ("accepted", as the gateway answers 202 then) until a rollup row of that
 * customer is visible to a plain query (polled every `pollMs` for all outstanding probes at once).
 * @param {{ brokers: string[], topic: string, spec: import('./events.cjs').StreamSpec, pool: import('pg').Pool, schema: string, probeMs: number, pollMs: number, runId: string }} o
 */
async function startProbe(o) {
  const kafka = require('@platformatic/kafka');
  const producer = new kafka.Producer({
    clientId: 'bench-aggregation-probe',
    bootstrapBrokers: o.brokers,
    idempotent: true,
    acks: kafka.ProduceAcks.ALL,
    autocreateTopics: false,
  });
  await producer.metadata({ topics: [o.topic] });
  const partitionOf = ev.partitioner(kafka.murmur2);
  /** @type {Map<string, { sentAt: number, ackAt: number | null }>} */
  const pending = new Map();
  /** @type {Array<{ visibleMs: number, ackMs: number }>} */
  const seen = [];
  let sent = 0;
  let stopping = false;
  let stoppedAt = 0;
  /** @type {unknown} */
  let failure = null;

  const sendOne = async () => {
    const n = sent++;
    const customerId = `probe_${o.runId}_${n}`;
    const now = new Date();
    /** @type {import('./events.cjs').Event} */
    const e = {
      eventId: `probe_${o.runId}_${n}`,
      customerId,
      metric: 'METRIC_0',
      amount: '1',
      timestamp: now.toISOString(),
      properties: { region: 'eu' },
    };
    const { key, value } = ev.envelope(o.spec, e, now.toISOString());
    const entry = { sentAt: performance.now(), ackAt: /** @type {number | null} */ (null) };
    pending.set(customerId, entry);
    await producer.send({
      messages: [{ topic: o.topic, key: Buffer.from(key), value: Buffer.from(value), partition: partitionOf(key) }],
    });
    entry.ackAt = performance.now();
  };

  const sender = (async () => {
    const t0 = performance.now();
    /** @type {Promise<void>[]} */
    const sends = [];
    while (!stopping) {
      sends.push(sendOne().catch((err) => void (failure ??= err)));
      const next = t0 + sent * o.probeMs;
      await sleep(Math.max(0, next - performance.now()));
    }
    await Promise.all(sends);
  })();

  const poller = (async () => {
    while (!stopping || pending.size > 0) {
      if (pending.size > 0) {
        const r = await o.pool.query(
          `select distinct customer_id from ${o.schema}.usage_rollups where organization_id = $1 and customer_id = any($2)`,
          [o.spec.organizationId, [...pending.keys()]],
        );
        const now = performance.now();
        for (const { customer_id: c } of r.rows) {
          const p = pending.get(c);
          if (!p) continue;
          pending.delete(c);
          // Visible before the acknowledgement arrived counts as 0: it was accepted by then.
          const ackAt = p.ackAt ?? now;
          seen.push({ visibleMs: Math.max(0, now - ackAt), ackMs: ackAt - p.sentAt });
        }
      }
      if (stopping && pending.size > 0 && performance.now() > stoppedAt + 30_000) break;
      await sleep(o.pollMs);
    }
  })();

  return {
    /** Stops sending; resolves once every probe was seen (or after 30 s more). */
    async stop() {
      stopping = true;
      stoppedAt = performance.now();
      await sender;
      await poller;
      await producer.close();
      if (failure) throw failure;
      const visible = seen.map((x) => x.visibleMs).sort((a, b) => a - b);
      const acks = seen.map((x) => x.ackMs).sort((a, b) => a - b);
      return {
        sent,
        seen: seen.length,
        missing: pending.size,
        visible,
        p50: percentile(visible, 50),
        p95: percentile(visible, 95),
        p99: percentile(visible, 99),
        max: visible.length ? visible[visible.length - 1] : NaN,
        ackP50: percentile(acks, 50),
      };
    },
  };
}

/**
 * Checks the round's stored events and rollups against the distinct events produced, and each
 * partition's committed offset against the topic's high-water mark.
 * @param {import('pg').Pool} pool
 * @param {ReturnType<typeof kafkaTools>} k
 * @param {string} schema
 * @param {string} topic
 * @param {number} distinct
 */
async function verify(pool, k, schema, topic, distinct) {
  const [events, rollups, progress, marks] = await Promise.all([
    pool.query(`select count(*)::bigint::text as n from ${schema}.usage_events`),
    pool.query(
      `select coalesce(sum(event_count), 0)::bigint::text as n, count(*)::int as rows from ${schema}.usage_rollups`,
    ),
    pool.query(`select partition, next_offset::text as o from ${schema}.usage_progress where topic = $1`, [topic]),
    k.marks(topic),
  ]);
  const stored = Number(events.rows[0].n);
  const rolled = Number(rollups.rows[0].n);
  const off = [...marks].filter(([p, high]) => Number(progress.rows.find((r) => r.partition === p)?.o ?? 0) !== high);
  return {
    stored,
    rolled,
    rollupRows: rollups.rows[0].rows,
    distinct,
    partitionsOff: off.map(([p]) => p),
    ok: stored === distinct && rolled === distinct && off.length === 0,
  };
}

/** @param {Awaited<ReturnType<typeof verify>>} v */
function describeCheck(v) {
  const mark = (/** @type {boolean} */ ok) => (ok ? 'OK' : 'MISMATCH');
  return (
    `usage_events ${fmtInt(v.stored)} vs ${fmtInt(v.distinct)} distinct ${mark(v.stored === v.distinct)}; ` +
    `sum(event_count) ${fmtInt(v.rolled)} ${mark(v.rolled === v.distinct)} (${fmtInt(v.rollupRows)} rollup rows); ` +
    `progress = high-water marks ${v.partitionsOff.length ? `MISMATCH on partitions ${v.partitionsOff.join(',')}` : 'OK'}`
  );
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

/**
 * The round's own topics beside its usage topic (the service's AGGREGATION_*_TOPIC settings).
 * @typedef {{ catalog: string, subscriptions: string, invoices: string, summaries: string }} RoundTopics
 */

/**
 * @typedef {object} Round
 * @property {ProduceResult} produce
 * @property {number} distinct
 * @property {{ seconds: number, rowsPerSec: number, postgresCpuSec: number | null, machineBusy: number | null } | null} copy
 * @property {{ eventsPerSec: number, distinctPerSec: number, fromReadyPerSec: number, seconds: number, events: number, startupSec: number, readyToFirstSec: number, serviceCpuSec: number | null, postgresCpuSec: number | null, brokerCpuSec: number | null, machineBusy: number | null, peakRssKb: number | null, loadBefore: number | null } | null} drain
 * @property {{ rate: number, produced: number, probe: Awaited<ReturnType<Awaited<ReturnType<typeof startProbe>>['stop']>>, maxLag: number, medianLag: number, serviceCpuSec: number | null, machineBusy: number | null, peakRssKb: number | null } | null} live
 * @property {number | null} hwmKb
 * @property {{ ok: boolean, seconds: number } | null} reconciliation
 */

async function main() {
  const s = parseArgs(process.argv.slice(2));
  const { facts, serviceMain, brokers, brokerPid, databaseUrl, pool, pgVersion } = await prepareRun({
    service: 'aggregation',
    poolMax: 4,
    log,
  });

  const k = kafkaTools(brokers);
  await k.admin.connect();
  const runId = Date.now().toString(36);
  const copySchema = `bench_agg_${runId}_copy`;
  /** What to remove at the end (unless --keep). */
  const scratch = scratchOf(pool, k, log);
  scratch.add({ schemas: [copySchema] });
  /** @type {ReturnType<typeof startService> | null} */
  let service = null;
  /** @type {import('node:child_process').ChildProcess | null} */
  let producerChild = null;
  /** The round's catalog and subscriptions producer (with --subscribed). @type {import('@usageflow/kafka').EventProducer | null} */
  let roundProducer = null;
  const track = (/** @type {import('node:child_process').ChildProcess | null} */ c) => (producerChild = c);
  /** @type {string[]} */
  const problems = [];
  /** @type {string[]} */
  const logFiles = [];

  /** @type {Round[]} */
  const rounds = [];
  let eventBytes = 0;
  const body = async () => {
    await pool.query(`create schema ${copySchema}`);
    for (let round = 1; round <= s.rounds; round++) {
      const tag = `round ${round}/${s.rounds}`;
      const topic = `bench.aggregation.usage.${runId}.r${round}`;
      const schema = `bench_agg_${runId}_r${round}`;
      const groupId = `bench.aggregation.${runId}.r${round}`;
      /** @type {import('./events.cjs').StreamSpec} */
      const spec = {
        organizationId: randomUUID(),
        apiKeyId: randomUUID(),
        customers: s.customers,
        metrics: s.metrics,
        duplicates: s.duplicates,
        baseTimeMs: Date.now(),
      };
      const stream = ev.stream(spec);
      const distinct = stream.distinctIn(0, s.events);
      const checked = checkEvents(spec, s.events);
      eventBytes = checked.bytes;
      if (round === 1) log(`a record's value (${checked.bytes} B, validates as usage.recorded): ${checked.example}`);

      /** @type {RoundTopics} */
      const topics = {
        catalog: `bench.aggregation.catalog.${runId}.r${round}`,
        subscriptions: `bench.aggregation.subscriptions.${runId}.r${round}`,
        invoices: `bench.aggregation.invoices.${runId}.r${round}`,
        summaries: `bench.aggregation.summaries.${runId}.r${round}`,
      };
      const roundTopics = [topic, ...Object.values(topics)];
      await k.create(topic, ev.PARTITIONS);
      for (const t of Object.values(topics)) await k.create(t, DOMAIN_PARTITIONS);
      scratch.add({ topics: roundTopics });
      log(
        `${tag}: producing ${fmtInt(s.events)} records (${fmtInt(distinct)} distinct events, ` +
          `${fmtInt(s.events - distinct)} duplicates) to ${topic}, the service stopped...`,
      );
      const produce = await runProducer(
        {
          brokers,
          topic,
          spec,
          mode: 'bulk',
          from: 0,
          count: s.events,
          rate: 0,
          durationSec: 0,
          batchRecords: s['produce-batch'],
        },
        'produce',
        track,
      );
      const landed = await k.total(topic);
      if (landed !== s.events) throw new Error(`${topic} holds ${landed} records, ${s.events} were produced`);
      log(`  produced in ${fmt(produce.seconds)} s (${fmtInt(produce.recordsPerSec)} records/s)`);

      /** @type {Round} */
      const r = { produce, distinct, copy: null, drain: null, live: null, hwmKb: null, reconciliation: null };
      rounds.push(r);

      if (!s['no-baseline']) {
        log(`${tag}: COPY baseline, ${fmtInt(s.events)} rows in COPYs of ${fmtInt(s['copy-batch'])}...`);
        const batches = baselineRows(spec, s.events, s['copy-batch']);
        r.copy = await copyBaseline(pool, copySchema, batches, s.events);
        log(
          `  COPY: ${fmtInt(r.copy.rowsPerSec)} rows/s (${fmt(r.copy.seconds, 2)} s), Postgres CPU ` +
            `${fmt(usPer(r.copy.postgresCpuSec, s.events), 1)} µs/row`,
        );
      }

      // --- the billing side: catalog and subscriptions, projected by the service as it starts ---
      const billing = s.subscribed > 0 ? rec.billingScenario({ spec, subscribed: s.subscribed }) : null;
      if (billing) {
        roundProducer = await k.scratchProducer();
        const { encodeEvent } = require('@usageflow/kafka');
        const events = billing.catalogEvents();
        await roundProducer.send(
          topics.catalog,
          events.map((e) => encodeEvent(e).message),
        );
        await roundProducer.send(
          topics.subscriptions,
          billing.subscriptionEvents().map((e) => encodeEvent(e).message),
        );
        log(
          `${tag}: ${events.length - 1} metrics and plan ${rec.PLAN.code} v${rec.PLAN.version} ` +
            `(${billing.planMetrics.join(', ') || 'no metric'}) to ${topics.catalog}; ${fmtInt(s.subscribed)} subscriptions ` +
            `(cust_0..cust_${s.subscribed - 1}, period ${billing.period.start}..${billing.period.end}) to ${topics.subscriptions}`,
        );
      }

      // --- drain ---
      const loadBefore = await backgroundLoad(500);
      if (loadBefore !== null && loadBefore > 0.15)
        log(`    note: the machine was ${fmt(loadBefore * 100, 0)}% busy just before the drain (other processes)`);
      const logFile = path.join(os.tmpdir(), `bench-aggregation-${runId}-r${round}.log`);
      scratch.add({ schemas: [schema], groups: [groupId] });
      const spawnedAt = performance.now();
      service = await startService({
        main: serviceMain,
        nodeArgs: s['service-node-args'],
        databaseUrl,
        brokers,
        schema,
        topic,
        topics,
        groupId,
        replicas: s.replicas,
        logFile,
      });
      const svc = service;
      logFiles.push(...svc.logFiles);
      log(
        `${tag}: drain — service pid ${svc.pids.join(', ')} on port ${svc.ports.join(', ')}, schema ${schema}, group ${groupId}...`,
      );
      // Watched from the spawn on: the consumer may commit before /readyz says 200. CPU is counted
      // from the first commit, like the events (start-up, migrations and replays are not in it).
      /** @type {ReturnType<typeof cpuWindow> | null} */
      let cpu = null;
      const drainDone = waitCommitted({
        pool,
        schema,
        topic,
        target: s.events,
        stallSec: s['stall-seconds'],
        alive: svc.alive,
        label: 'drain',
        onFirst: () => (cpu = cpuWindow(svc.pids, brokerPid)),
      });
      drainDone.catch(() => undefined); // awaited below; an early failure must not be unhandled
      await svc.ready();
      const readyAt = performance.now();
      log(`  ready in ${fmt((readyAt - spawnedAt) / 1000, 2)} s`);
      let d;
      try {
        d = await drainDone;
      } catch (err) {
        /** @type {ReturnType<typeof cpuWindow> | null} */ (cpu)?.stop();
        throw new Error(`${err instanceof Error ? err.message : err}\n--- service log ---\n${svc.tail()}`);
      }
      const w = /** @type {ReturnType<typeof cpuWindow>} */ (/** @type {unknown} */ (cpu)).stop();
      // Everything committed before the first poll saw anything (a tiny --events): time it from /readyz.
      const whole = d.firstN >= s.events;
      const events = whole ? s.events : s.events - d.firstN;
      const seconds = (d.doneAt - (whole ? readyAt : d.firstAt)) / 1000;
      r.drain = {
        eventsPerSec: events / seconds,
        distinctPerSec: (events / seconds) * (distinct / s.events),
        fromReadyPerSec: s.events / ((d.doneAt - readyAt) / 1000),
        seconds,
        events,
        startupSec: (readyAt - spawnedAt) / 1000,
        readyToFirstSec: (d.firstAt - readyAt) / 1000,
        serviceCpuSec: w.serviceCpuSec,
        postgresCpuSec: w.postgresCpuSec,
        brokerCpuSec: w.brokerCpuSec,
        machineBusy: w.machineBusy,
        peakRssKb: w.peakRssKb,
        loadBefore,
      };
      log(`  ${describeDrain(r)}`);
      const v = await verify(pool, k, schema, topic, distinct);
      log(`  check: ${describeCheck(v)}`);
      if (!v.ok) problems.push(`${tag} drain: ${describeCheck(v)}`);
      const differ = await sameRows(pool, schema, spec, s.events);
      if (differ.length)
        log(
          `  note: the stored rows of ${differ.join(', ')} differ from the baseline's (or are missing): the ratio compares different rows`,
        );

      // --- closing: outside the drain's window (stopped above) and before the live one starts ---
      if (billing) {
        const { encodeEvent } = require('@usageflow/kafka');
        const marks = await k.marks(topic);
        await /** @type {NonNullable<typeof roundProducer>} */ (roundProducer).send(
          topics.subscriptions,
          billing.closingEvents(marks).map((e) => encodeEvent(e).message),
        );
        const closed = await waitSummarized({
          pool,
          schema,
          want: s.subscribed,
          stallSec: s['stall-seconds'],
          alive: svc.alive,
        });
        log(
          `${tag}: ${fmtInt(s.subscribed)} periods closed at the usage topic's high-water marks (${fmtInt(
            [...marks.values()].reduce((a, b) => a + b, 0),
          )} records) and summarized in ${fmt(closed.seconds, 2)} s` +
            (s['no-live'] ? '' : '; live events of those customers are late from now on'),
        );
      }

      // --- live ---
      if (!s['no-live']) {
        const rate = Math.max(1, Math.round(r.drain.eventsPerSec * s['live-fraction']));
        log(
          `${tag}: live — ${fmtInt(rate)} records/s for ${s['live-seconds']} s and a probe every ${s['probe-ms']} ms ` +
            `(accepted → visible in usage_rollups, polled every ${s['poll-ms']} ms)...`,
        );
        const liveCpu = cpuWindow(svc.pids, brokerPid);
        const probe = await startProbe({
          brokers,
          topic,
          spec,
          pool,
          schema,
          probeMs: s['probe-ms'],
          pollMs: s['poll-ms'],
          runId,
        });
        /** @type {number[]} */
        const lags = [];
        let sampling = true;
        const lagSampler = (async () => {
          while (sampling) {
            await sleep(1000);
            const [high, done] = await Promise.all([k.total(topic), committed(pool, schema, topic)]);
            lags.push(high - (done ?? 0));
          }
        })();
        let liveProduce;
        try {
          liveProduce = await runProducer(
            {
              brokers,
              topic,
              spec,
              mode: 'steady',
              from: s.events,
              count: 0,
              rate,
              durationSec: s['live-seconds'],
              batchRecords: s['produce-batch'],
            },
            'live',
            track,
          );
        } finally {
          sampling = false;
        }
        const p = await probe.stop();
        await lagSampler;
        const lw = liveCpu.stop();
        r.live = {
          rate,
          produced: liveProduce.produced,
          probe: p,
          maxLag: lags.length ? Math.max(...lags) : NaN,
          medianLag: lags.length ? median(lags) : NaN,
          serviceCpuSec: lw.serviceCpuSec,
          machineBusy: lw.machineBusy,
          peakRssKb: lw.peakRssKb,
        };
        log(`  ${describeLive(r.live)}`);
        if (p.missing > 0) problems.push(`${tag} live: ${p.missing} of ${p.sent} probe events never became visible`);
        // Everything produced must end up stored once: wait for the rest, then check again.
        const total = await k.total(topic);
        await waitCommitted({
          pool,
          schema,
          topic,
          target: total,
          stallSec: s['stall-seconds'],
          alive: svc.alive,
          label: 'live catch-up',
        });
        const liveDistinct = stream.distinctIn(0, s.events + liveProduce.produced) + p.sent;
        const lv = await verify(pool, k, schema, topic, liveDistinct);
        log(`  check after live: ${describeCheck(lv)}`);
        if (!lv.ok) problems.push(`${tag} live: ${describeCheck(lv)}`);
      }

      // --- reconciliation: everything is stored (the checks above), nothing is timed any more ---
      if (billing) {
        const rd = await rec.readReconciliation({
          databaseUrl,
          schema,
          organizationId: spec.organizationId,
          from: billing.period.start,
          to: billing.period.end,
          pool,
          topicRecords: await k.total(topic),
        });
        const judged = rec.judgeReconciliation(rd, {
          subscriptions: s.subscribed,
          planMetrics: billing.planMetrics.length,
        });
        for (const line of judged.lines) log(`  ${line}`);
        problems.push(...judged.problems.map((p) => `${tag} reconciliation: ${p}`));
        r.reconciliation = { ok: judged.ok, seconds: rd.periodsSec + rd.unbilledSec };
      }

      r.hwmKb = Math.max(0, ...svc.pids.map((pid) => vmHwmKb(pid) ?? 0)) || null;
      const stopped = await svc.stop();
      service = null;
      if (stopped && stopped.code !== 0)
        problems.push(`${tag}: the service exited ${JSON.stringify(stopped)} on SIGTERM`);
      // Removed as soon as the round is over: a round of 1M events is a few hundred MB in
      // Postgres and on the broker.
      await roundProducer?.disconnect();
      roundProducer = null;
      if (!s.keep) await scratch.drop({ schemas: [schema], topics: roundTopics, groups: [groupId] });
    }
    printSummary(s, facts, { eventBytes, pgVersion }, rounds);
  };

  await runWithCleanup({
    body,
    cleanup: async () => {
      producerChild?.kill('SIGTERM');
      if (service) await service.stop();
      service = null;
      await roundProducer?.disconnect().catch(() => undefined);
      roundProducer = null;
      await scratch.dropAll(s.keep);
      await k.admin.disconnect().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
    interrupted: 'interrupted: stopping the service and the producer, dropping the schemas, deleting the topics',
    problems,
    logFiles,
    keep: s.keep,
    log,
  });
}

/** @param {Round} r */
function describeDrain(r) {
  const d = /** @type {NonNullable<Round['drain']>} */ (r.drain);
  const parts = [
    `drain: ${fmtInt(d.eventsPerSec)} events/s consumed and committed (${fmtInt(d.events)} in ${fmt(d.seconds, 2)} s` +
      ` after the first commit; ${fmtInt(d.distinctPerSec)} distinct stored/s)` +
      (r.copy ? ` = ${fmt(d.eventsPerSec / r.copy.rowsPerSec, 2)}x COPY` : ''),
    `${fmtInt(d.fromReadyPerSec)}/s counted from /readyz (first commit ${fmt(d.readyToFirstSec, 2)} s after it)`,
    `service CPU ${fmt(usPer(d.serviceCpuSec, d.events), 1)} µs/event`,
    `Postgres CPU ${fmt(usPer(d.postgresCpuSec, d.events), 1)} µs/event`,
  ];
  if (d.brokerCpuSec !== null) parts.push(`broker CPU ${fmt(usPer(d.brokerCpuSec, d.events), 1)} µs/event`);
  if (d.machineBusy !== null) parts.push(`machine ${fmt(d.machineBusy * 100, 0)}% busy`);
  parts.push(`service peak RSS ${d.peakRssKb === null ? '?' : fmt(d.peakRssKb / 1024, 0)} MB`);
  return parts.join(', ');
}

/** @param {NonNullable<Round['live']>} l */
function describeLive(l) {
  const p = l.probe;
  return (
    `live: ${fmtInt(l.produced)} records at ${fmtInt(l.rate)}/s; ${p.seen} of ${p.sent} probes visible, accepted → visible ` +
    `p50 ${fmt(p.p50, 0)} p95 ${fmt(p.p95, 0)} p99 ${fmt(p.p99, 0)} max ${fmt(p.max, 0)} ms ` +
    `(send → ack p50 ${fmt(p.ackP50, 1)} ms); consumer lag (high-water − committed, each second) median ${fmtInt(l.medianLag)} max ${fmtInt(l.maxLag)} records; ` +
    `service CPU ${fmt(usPer(l.serviceCpuSec, l.produced + p.sent), 1)} µs/event, ` +
    `machine ${l.machineBusy === null ? '?' : fmt(l.machineBusy * 100, 0)}% busy, ` +
    `service peak RSS ${l.peakRssKb === null ? '?' : fmt(l.peakRssKb / 1024, 0)} MB`
  );
}

/**
 * @param {Settings} s
 * @param {ReturnType<typeof import('../lib/machine.cjs').machineFacts>} facts
 * @param {{ eventBytes: number, pgVersion: string }} info
 * @param {Round[]} rounds
 */
function printSummary(s, facts, info, rounds) {
  const drains = rounds.filter((r) => r.drain);
  const copies = rounds.filter((r) => r.copy);
  const lives = rounds.filter((r) => r.live);
  const drainRate = med(drains, (r) => r.drain?.eventsPerSec);
  const copyRate = med(copies, (r) => r.copy?.rowsPerSec);
  const ratio = drainRate / copyRate;
  const pooled = lives.flatMap((r) => r.live?.probe.visible ?? []).sort((a, b) => a - b);
  const p99 = med(lives, (r) => r.live?.probe.p99);
  const hwmMb = Math.max(0, ...rounds.map((r) => r.hwmKb ?? 0)) / 1024 || NaN;
  const verdict = (/** @type {boolean} */ ok) => (ok ? 'met' : 'NOT met');
  const us = (/** @type {number | null | undefined} */ sec, /** @type {number} */ n) => usPer(sec ?? null, n);

  const rows = [];
  if (drains.length)
    rows.push([
      'drain (consumed + committed)',
      fmtInt(drainRate),
      copies.length ? fmt(ratio, 2) : '',
      fmt(
        med(drains, (r) => us(r.drain?.serviceCpuSec, r.drain?.events ?? 0)),
        1,
      ),
      fmt(
        med(drains, (r) => us(r.drain?.postgresCpuSec, r.drain?.events ?? 0)),
        1,
      ),
      fmt(
        med(drains, (r) => (r.drain?.peakRssKb ?? NaN) / 1024),
        0,
      ),
      fmt(
        med(drains, (r) => (r.drain?.machineBusy ?? NaN) * 100),
        0,
      ),
    ]);
  if (copies.length)
    rows.push([
      `COPY, ${fmtInt(s['copy-batch'])} rows a statement`,
      fmtInt(copyRate),
      '1.00',
      '',
      fmt(
        med(copies, (r) => us(r.copy?.postgresCpuSec, s.events)),
        1,
      ),
      '',
      fmt(
        med(copies, (r) => (r.copy?.machineBusy ?? NaN) * 100),
        0,
      ),
    ]);
  if (lives.length)
    rows.push([
      `live @ ~${fmtInt(med(lives, (r) => r.live?.rate))}/s`,
      '',
      '',
      fmt(
        med(lives, (r) => us(r.live?.serviceCpuSec, (r.live?.produced ?? 0) + (r.live?.probe.sent ?? 0))),
        1,
      ),
      '',
      fmt(
        med(lives, (r) => (r.live?.peakRssKb ?? NaN) / 1024),
        0,
      ),
      fmt(
        med(lives, (r) => (r.live?.machineBusy ?? NaN) * 100),
        0,
      ),
    ]);

  console.log('');
  console.log(
    `bench:aggregation — medians of ${rounds.length} round(s), ${new Date().toISOString().slice(0, 10)}; ` +
      `${fmtInt(s.events)} records a round over ${fmtInt(s.customers)} customers and ${s.metrics} metrics, ` +
      `${fmt(s.duplicates * 100, 1)}% duplicates, records of ~${info.eventBytes} B (value), ${ev.PARTITIONS} partitions`,
  );
  console.log(
    `machine: ${facts.nproc} CPUs (${facts.cpu}), ${fmt(facts.memGb)} GB; node ${facts.node}; Kafka ${facts.kafka}; ` +
      `PostgreSQL ${info.pgVersion}`,
  );
  console.log('');
  console.log(
    table(
      ['phase', 'events/s', 'x COPY', 'service µs/event', 'Postgres µs/event', 'peak RSS MB', 'machine busy %'],
      rows,
    ),
  );
  console.log(
    'drain events/s: records committed (usage_progress) after the first commit was seen ÷ the time since; duplicates\n' +
      'count as consumed. COPY: the same rows (usage_events’ columns) into an unindexed table, one connection.\n' +
      'µs/event: CPU of the service process / of every postgres process per event (per row for COPY).',
  );
  const loads = drains.map((r) => r.drain?.loadBefore ?? 0);
  if (loads.length)
    console.log(
      `background load before each drain: max ${fmt(Math.max(...loads) * 100, 0)}%` +
        (Math.max(...loads) > 0.15 ? ' — other processes were running; expect noise' : ''),
    );
  console.log('');
  if (drains.length && copies.length) {
    console.log(
      `drain: ${fmtInt(drainRate)} events/s ÷ COPY ${fmtInt(copyRate)} rows/s = ${fmt(ratio, 2)}x ` +
        `(target >= ${TARGETS.ratio}x: ${verdict(ratio >= TARGETS.ratio)}; >= ${fmtInt(TARGETS.eventsPerSec)}/s: ` +
        `${verdict(drainRate >= TARGETS.eventsPerSec)})`,
    );
    console.log(
      '  each round, drain events/s / COPY rows/s: ' +
        rounds.map((r) => `${fmtInt(r.drain?.eventsPerSec ?? NaN)}/${fmtInt(r.copy?.rowsPerSec ?? NaN)}`).join(', '),
    );
  } else if (drains.length) {
    console.log(
      `drain: ${fmtInt(drainRate)} events/s (>= ${fmtInt(TARGETS.eventsPerSec)}/s: ` +
        `${verdict(drainRate >= TARGETS.eventsPerSec)}; no baseline run)`,
    );
  }
  if (lives.length) {
    console.log(
      `live: accepted → visible p99 ${fmt(p99, 0)} ms, median of the rounds (target < ${TARGETS.p99Ms} ms: ` +
        `${verdict(p99 < TARGETS.p99Ms)}); all ${pooled.length} probes: p50 ${fmt(percentile(pooled, 50), 0)} ` +
        `p99 ${fmt(percentile(pooled, 99), 0)} max ${fmt(pooled[pooled.length - 1], 0)} ms; ` +
        `each round p99: ${lives.map((r) => fmt(r.live?.probe.p99, 0)).join(', ')} ms at ` +
        `${lives.map((r) => fmtInt(r.live?.rate ?? NaN)).join(', ')} records/s`,
    );
  }
  console.log(
    `service peak RSS (VmHWM, the highest of the rounds' processes): ${fmt(hwmMb, 0)} MB ` +
      `(target < ${TARGETS.rssMb} MB: ${verdict(hwmMb < TARGETS.rssMb)})`,
  );
  const reconciled = rounds.filter((r) => r.reconciliation);
  if (reconciled.length)
    console.log(
      `reconciliation (${fmtInt(s.subscribed)} subscriptions, the service's own code): ` +
        reconciled.map((r) => (r.reconciliation?.ok ? 'OK' : 'DIFFERENCES')).join(', ') +
        `; read in ${reconciled.map((r) => fmt(r.reconciliation?.seconds, 1)).join(', ')} s`,
    );
  console.log('');
}

main().catch((err) => {
  log(`ERROR: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
