// @ts-check
'use strict';
/**
 * bench:billing — the billing service (services/billing, `node dist/main.js`, its own process)
 * turning a burst of usage summaries into invoices: from the first usage.period_summarized on
 * its summaries topic to the last invoice.created on its invoices topic, on the same machine.
 *
 *   npm run bench:billing                  (ensures the local infra; builds the service if missing)
 *   npm run bench:billing -- --help        (every option)
 *
 * Per round (default 3; medians reported), with a fresh organization, a Postgres schema,
 * catalog, subscriptions, summaries and invoices topics (BILLING_*_TOPIC) and consumer groups of
 * the round's own, so no run writes to the real domain topics (their retention is unlimited):
 *   seed     metric.created x2 + plan.created on the round's catalog topic and N
 *            subscription.created on its subscriptions topic, the service stopped;
 *   start    the service; wait for /readyz, for its projections to hold the round's plan, metrics
 *            and N subscriptions, and for its summaries consumer to have joined;
 *   burst    N usage.period_summarized (built and validated before the clock) to the round's
 *            summaries topic; the clock starts at the first produce acknowledgement;
 *   collect  invoice.created from the round's invoices topic, read from the end offsets taken
 *            before the burst, until N have arrived: invoices/s, time to the
 *            last one, summary → invoice latency per invoice, the service's CPU and peak RSS;
 *   check    N distinct invoiceIds and subscriptions, numbers INV-000001.. without a gap, each
 *            amountCents equal to the amount computed by hand (scenario.cjs), every record valid
 *            as invoice.created, and the service's own tables agreeing.
 * The targets (docs PERFORMANCE.md) are reported, never asserted.
 *
 * Exit status: 0 when every round ran and every check held; 1 on an error, a stalled round or a
 * failed check. A figure below target does not fail the run.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { randomUUID } = require('node:crypto');

const { percentile } = require('../lib/stats.cjs');
const { parseOptions } = require('../lib/cli.cjs');
const { logger, fmtInt, fmt, med, table } = require('../lib/output.cjs');
const { vmHwmKb, vmRssKb, backgroundLoad, cpuWindow, postgresCpuSec } = require('../lib/proc.cjs');
const { freePort, startService } = require('../lib/service.cjs');
const { kafkaTools: kafkaClient } = require('../lib/kafka.cjs');
const { prepareRun, scratchOf, runWithCleanup } = require('../lib/run.cjs');
const sc = require('./scenario.cjs');

/** PERFORMANCE.md: 10,000 period summaries → 10,000 invoices on the topic in < 10 s; RSS < 200 MB. */
const TARGETS = { invoices: 10_000, seconds: 10, rssMb: 200 };

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/** name -> [default, help]; numbers are parsed as numbers, the rest kept as strings. */
const OPTIONS = /** @type {const} */ ({
  rounds: [3, 'rounds of seed + start + burst + collect; medians are reported'],
  subscriptions: [10_000, 'subscriptions per round: one summary and one invoice each'],
  'batch-size': [500, 'the service’s BILLING_BATCH_SIZE: the most invoices issued in one transaction'],
  'poll-ms': [1000, 'the service’s BILLING_POLL_MS (the invoicer is also woken by each consumed batch)'],
  partitions: [6, 'partitions of the round’s summaries topic (usageflow.usage-summaries.v1 has 6)'],
  'produce-batch': [1000, 'summaries per produce request'],
  'stall-seconds': [60, 'fail a round when no invoice (or no projection progress) arrives for this long'],
  'service-node-args': ['', 'extra node options of the service, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"'],
  keep: [false, 'keep the schemas, topics, consumer groups and the service’s logs (their names are printed)'],
});

/** @typedef {{ [K in keyof typeof OPTIONS]: (typeof OPTIONS)[K][0] extends number ? number : (typeof OPTIONS)[K][0] extends boolean ? boolean : string }} Settings */

/** @param {string[]} argv @returns {Settings} */
function parseArgs(argv) {
  const s = parseOptions(argv, OPTIONS, {
    head: [
      'usage: npm run bench:billing -- [options]',
      '       node bench/billing/run.cjs [options]',
      '',
      'The billing service (services/billing/dist/main.js, built if missing) in its own process, turning',
      "a burst of usage summaries into invoice.created records on its invoices topic (the round's own).",
      'KAFKA_BROKERS / DATABASE_URL: use those (else the local infra is ensured).',
    ],
    pad: 28,
    minWhole: 1,
  });
  return /** @type {Settings} */ (/** @type {unknown} */ (s));
}

// ---------------------------------------------------------------------------------------------
// Output helpers
// ---------------------------------------------------------------------------------------------

const log = logger('bench:billing');
/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** @param {boolean} ok */
const mark = (ok) => (ok ? 'OK' : 'FAILED');
/** @param {boolean} ok */
const verdict = (ok) => (ok ? 'met' : 'NOT met');
/** @param {unknown} err */
const messageOf = (err) => (err instanceof Error ? err.message : String(err));

// ---------------------------------------------------------------------------------------------
// Kafka
// ---------------------------------------------------------------------------------------------

/** @param {string[]} brokers */
function kafkaTools(brokers) {
  const { EventProducer } = require('@usageflow/kafka');
  const k = kafkaClient(brokers, 'bench-billing');
  const { kafka, admin, logger } = k;
  return {
    ...k,
    /**
     * A producer for one round's scratch topic, disconnected at the round's end: a KafkaJS client
     * keeps refreshing the metadata of every topic it produced to, and once the topic is deleted
     * its sends to any other topic retry forever.
     */
    async scratchProducer() {
      const p = new EventProducer(kafka, { logger });
      await p.connect();
      return p;
    },
    /** Whether a consumer group has a member with an assignment. @param {string} groupId */
    async joined(groupId) {
      const { groups } = await admin.describeGroups([groupId]);
      return groups[0]?.state === 'Stable' && groups[0].members.length > 0;
    },
  };
}

/**
 * Reads invoice.created records of `organizationId` from `topic`, from the offsets `from` (its
 * high-water marks before the burst) on, with a consumer group of its own. Each record keeps
 * its timestamp: the time the service's producer stamped it as it sent it (CreateTime), i.e.
 * when it went onto the topic.
 * @param {ReturnType<typeof kafkaTools>} k
 * @param {{ topic: string, groupId: string, organizationId: string, from: Array<{ partition: number, offset: string }> }} o
 */
async function startInvoiceReader(k, o) {
  const consumer = k.kafka.consumer({ groupId: o.groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
  /** @type {Array<{ value: string, timestampMs: number, seenMs: number }>} */
  const records = [];
  let others = 0;
  await consumer.connect();
  await consumer.subscribe({ topics: [o.topic], fromBeginning: false });
  // Resolves once the group is joined (KafkaJS's run waits for the join and sync).
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const seenMs = Date.now();
      for (const m of batch.messages) {
        const value = m.value?.toString() ?? '';
        // A string test before any parsing: the topic carries every organization's invoices.
        if (!value.includes(`"organizationId":"${o.organizationId}"`)) {
          others++;
          continue;
        }
        records.push({ value, timestampMs: Number(m.timestamp), seenMs });
      }
    },
  });
  // NOTE: seek once joined rather than admin.setOffsets before: KafkaJS's setOffsets waits for a
  // fetch of its own paused consumer (5 s). A new group starts at the end anyway, which is at or
  // after `from`, and nothing of the round's organization is there before the burst.
  for (const p of o.from) consumer.seek({ topic: o.topic, partition: p.partition, offset: p.offset });
  return {
    records,
    others: () => others,
    stop: () => consumer.disconnect(),
  };
}

// ---------------------------------------------------------------------------------------------
// Postgres
// ---------------------------------------------------------------------------------------------

/**
 * What the service's projections hold of the round's organization; null while its tables do
 * not exist yet.
 * @param {import('pg').Pool} pool
 * @param {string} schema
 * @param {string} organizationId
 */
async function projected(pool, schema, organizationId) {
  try {
    const r = await pool.query(
      `select (select count(*) from ${schema}.subscriptions where organization_id = $1)::int as subscriptions,
              (select count(*) from ${schema}.plan_versions where organization_id = $1)::int as plans,
              (select count(*) from ${schema}.metrics where organization_id = $1)::int as metrics`,
      [organizationId],
    );
    return /** @type {{ subscriptions: number, plans: number, metrics: number }} */ (r.rows[0]);
  } catch (err) {
    if (/** @type {{ code?: string }} */ (err).code === '42P01') return null;
    throw err;
  }
}

/**
 * The service's own view once the round is over: invoices, summaries not invoiced, outbox rows
 * not published.
 * @param {import('pg').Pool} pool
 * @param {string} schema
 */
async function serviceTables(pool, schema) {
  const r = await pool.query(
    `select (select count(*) from ${schema}.invoices)::int as invoices,
            (select count(*) from ${schema}.usage_summaries)::int as summaries,
            (select count(*) from ${schema}.usage_summaries where invoice_id is null)::int as uninvoiced,
            (select count(*) from ${schema}.outbox where published_at is null)::int as unpublished`,
  );
  return /** @type {{ invoices: number, summaries: number, uninvoiced: number, unpublished: number }} */ (r.rows[0]);
}

// ---------------------------------------------------------------------------------------------
// A round
// ---------------------------------------------------------------------------------------------

/**
 * @typedef {object} Round
 * @property {number} invoicesPerSec   N ÷ (last invoice on the topic − first summary acknowledged)
 * @property {number} seconds          last invoice on the topic − first summary acknowledged
 * @property {number} firstSec         first invoice on the topic − first summary acknowledged
 * @property {number} produceSec       first to last summary acknowledged
 * @property {number} p50Ms            summary acknowledged → its invoice on the topic
 * @property {number} p99Ms
 * @property {number} maxMs
 * @property {number} catchUpSec       spawn → projections hold the round's subscriptions
 * @property {number | null} serviceCpuSec
 * @property {number | null} postgresCpuSec every postgres process on this machine (null: a remote one)
 * @property {number | null} brokerCpuSec
 * @property {number | null} machineBusy
 * @property {number | null} rssReadyKb VmRSS when /readyz first answered 200 (before the consumers replay)
 * @property {number | null} rssBeforeKb VmRSS just before the burst (after the replay)
 * @property {number | null} peakRssKb  highest VmRSS sampled during the burst
 * @property {number | null} hwmKb      VmHWM at the end of the round (the process's whole life)
 * @property {number} runnerCpuSec     this process's CPU during the burst (producing, reading)
 * @property {number | null} loadBefore
 * @property {boolean} ok
 */

/**
 * Waits until `done()` resolves true, printing `line()` once a second; fails when `progress()`
 * has not changed for `stallSec` or `alive()` turns false.
 * @param {{ done: () => Promise<boolean>, progress: () => number, line: () => string, stallSec: number, alive: () => boolean, what: string, pollMs?: number }} o
 */
async function waitFor(o) {
  let last = o.progress();
  let lastAt = Date.now();
  let lineAt = Date.now();
  for (;;) {
    if (!o.alive()) throw new Error(`${o.what}: the service exited`);
    if (await o.done()) return;
    const now = Date.now();
    const p = o.progress();
    if (p !== last) {
      last = p;
      lastAt = now;
    } else if (now - lastAt > o.stallSec * 1000) {
      throw new Error(`${o.what}: no progress for ${o.stallSec} s (${o.line()})`);
    }
    if (now - lineAt >= 1000) {
      log(`    ${o.line()}`);
      lineAt = now;
    }
    await sleep(o.pollMs ?? 50);
  }
}

/**
 * The round's checks on the invoice.created records collected: each prints OK or FAILED.
 * @param {ReturnType<typeof sc.scenario>} scn
 * @param {Array<{ event: any }>} invoices
 * @param {number} n
 */
function checkInvoices(scn, invoices, n) {
  const { validateEvent } = require('@usageflow/contracts');
  const ids = new Set(invoices.map((x) => x.event.data.invoiceId));
  const subs = new Set(invoices.map((x) => x.event.data.subscriptionId));
  const foreign = [...subs].filter((id) => !scn.indexOf.has(id)).length;
  const numbers = invoices.map((x) => /** @type {string} */ (x.event.data.number)).sort();
  const expectedNumbers = Array.from({ length: n }, (_, i) => `INV-${String(i + 1).padStart(6, '0')}`);
  const numbersOk = numbers.length === n && numbers.every((v, i) => v === expectedNumbers[i]);
  /** @type {string[]} */
  const wrongAmounts = [];
  let cents = 0;
  for (const { event } of invoices) {
    const i = scn.indexOf.get(event.data.subscriptionId);
    const expected = i === undefined ? NaN : sc.expectedCents(i);
    cents += event.data.amountCents;
    if (event.data.amountCents !== expected)
      wrongAmounts.push(`${event.data.number}: ${event.data.amountCents} ≠ ${expected}`);
  }
  const invalid = invoices.filter((x) => !validateEvent(x.event).ok || x.event.type !== 'invoice.created').length;
  const distinctAmounts = new Set(invoices.map((x) => x.event.data.amountCents)).size;
  const checks = [
    { name: `${fmtInt(n)} invoice.created records`, ok: invoices.length === n, detail: fmtInt(invoices.length) },
    { name: `${fmtInt(n)} distinct invoiceIds`, ok: ids.size === n, detail: fmtInt(ids.size) },
    {
      name: `${fmtInt(n)} distinct subscriptions, all the round's`,
      ok: subs.size === n && foreign === 0,
      detail: `${fmtInt(subs.size)}, ${foreign} foreign`,
    },
    {
      name: `numbers ${expectedNumbers[0]}..${expectedNumbers[n - 1]} without a gap`,
      ok: numbersOk,
      detail: numbersOk ? '' : `first ${numbers[0]}, last ${numbers[numbers.length - 1]}`,
    },
    {
      name: 'amountCents = the amount computed by hand',
      ok: wrongAmounts.length === 0,
      detail:
        wrongAmounts.length === 0
          ? `${fmtInt(distinctAmounts)} distinct amounts, $${(cents / 100).toFixed(2)} in all`
          : `${wrongAmounts.length} differ, e.g. ${wrongAmounts.slice(0, 3).join('; ')}`,
    },
    { name: 'every record valid as invoice.created', ok: invalid === 0, detail: invalid ? `${invalid} invalid` : '' },
  ];
  return checks;
}

/**
 * One round: seed, start, burst, collect, check, stop.
 * @param {{ s: Settings, tag: string, runId: string, round: number, k: ReturnType<typeof kafkaTools>, pool: import('pg').Pool, brokers: string[], databaseUrl: string, serviceMain: string, brokerPid: number | null, scratch: ReturnType<typeof scratchOf>, setService: (svc: ReturnType<typeof startService> | null) => void, logFiles: string[] }} c
 * @returns {Promise<Round>}
 */
async function runRound(c) {
  const { s, tag, k, pool } = c;
  const { encodeEvent } = require('@usageflow/kafka');
  const n = s.subscriptions;
  const schema = `bench_billing_${c.runId}_r${c.round}`;
  const topic = `bench.billing.summaries.${c.runId}.r${c.round}`;
  /** The round's own catalog, subscriptions and invoices topics (never the real ones). */
  const topics = {
    catalog: `bench.billing.catalog.${c.runId}.r${c.round}`,
    subscriptions: `bench.billing.subscriptions.${c.runId}.r${c.round}`,
    invoices: `bench.billing.invoices.${c.runId}.r${c.round}`,
  };
  const groupPrefix = `bench.billing.${c.runId}.r${c.round}`;
  const readerGroup = `bench.billing.reader.${c.runId}.r${c.round}`;
  const scn = sc.scenario({ organizationId: randomUUID(), subscriptions: n });

  // --- seed ---
  log(`${tag}: organization ${scn.organizationId}; seeding the plan and ${fmtInt(n)} subscriptions...`);
  for (const t of [topic, topics.catalog, topics.subscriptions, topics.invoices]) await k.create(t, s.partitions);
  c.scratch.add({ topics: [topic, topics.catalog, topics.subscriptions, topics.invoices] });
  const producer = await k.scratchProducer();
  /** @param {string} to @param {import('@usageflow/contracts').DomainEvent[]} events */
  const publish = (to, events) =>
    producer.send(
      to,
      events.map((e) => encodeEvent(e).message),
    );
  await publish(topics.catalog, scn.catalogEvents());
  for (let at = 0; at < n; at += 1000)
    await publish(topics.subscriptions, scn.subscriptionEvents(at, Math.min(n, at + 1000)));
  const records = scn.summaryRecords();
  log(`  ${fmtInt(n)} summaries built and validated (${fmtInt(Buffer.byteLength(String(records[0].value)))} B each)`);

  // --- start ---
  const port = /** @type {number} */ (await freePort());
  const logFile = path.join(os.tmpdir(), `bench-billing-${c.runId}-r${c.round}.log`);
  c.logFiles.push(logFile);
  c.scratch.add({ schemas: [schema], groups: [groupPrefix, readerGroup] });
  const spawnedAt = Date.now();
  const svc = startService({
    name: 'billing service',
    main: c.serviceMain,
    nodeArgs: s['service-node-args'],
    port,
    logFile,
    env: {
      DATABASE_URL: c.databaseUrl,
      DATABASE_SCHEMA: schema,
      KAFKA_BROKERS: c.brokers.join(','),
      PORT: String(port),
      LOG_LEVEL: 'warn',
      MIGRATE_ON_START: 'true',
      BILLING_GROUP_ID: groupPrefix,
      BILLING_SUMMARIES_TOPIC: topic,
      BILLING_CATALOG_TOPIC: topics.catalog,
      BILLING_SUBSCRIPTIONS_TOPIC: topics.subscriptions,
      BILLING_INVOICES_TOPIC: topics.invoices,
      BILLING_BATCH_SIZE: String(s['batch-size']),
      BILLING_POLL_MS: String(s['poll-ms']),
    },
  });
  c.setService(svc);
  log(`  service pid ${svc.pid} on port ${port}, schema ${schema}, groups ${groupPrefix}.*`);
  await svc.ready({ pollMs: 50 });
  const readyAt = Date.now();
  const rssReadyKb = vmRssKb(svc.pid);
  log(`  ready in ${fmt((readyAt - spawnedAt) / 1000, 2)} s; waiting for its projections...`);
  /** @type {Awaited<ReturnType<typeof projected>>} */
  let seen = null;
  /** When the projections first held the round's data, and the summaries consumer had joined. */
  let caughtUpAt = 0;
  let joinedAt = 0;
  await waitFor({
    what: 'projection catch-up and consumer join',
    alive: svc.alive,
    stallSec: s['stall-seconds'],
    done: async () => {
      if (!caughtUpAt) {
        seen = await projected(pool, schema, scn.organizationId);
        const all = seen !== null && seen.subscriptions === n && seen.plans === 1 && seen.metrics === sc.METRICS.length;
        if (all) caughtUpAt = Date.now();
      }
      if (!joinedAt && (await k.joined(`${groupPrefix}.summaries`))) joinedAt = Date.now();
      return caughtUpAt > 0 && joinedAt > 0;
    },
    progress: () => (seen?.subscriptions ?? -1) + (joinedAt ? 1 : 0),
    line: () =>
      `projection: ${fmtInt(seen?.subscriptions ?? 0)} of ${fmtInt(n)} subscriptions of the round; ` +
      `summaries consumer ${joinedAt ? 'joined' : 'not joined yet'}`,
  });
  const catchUpSec = (caughtUpAt - spawnedAt) / 1000;
  log(
    `  projections hold the round's plan and subscriptions ${fmt(catchUpSec, 2)} s after the spawn; ` +
      `its summaries consumer joined ${fmt((joinedAt - readyAt) / 1000, 2)} s after /readyz answered 200`,
  );

  // --- burst ---
  const from = (await k.admin.fetchTopicOffsets(topics.invoices)).map((o) => ({
    partition: o.partition,
    offset: o.high,
  }));
  const reader = await startInvoiceReader(k, {
    topic: topics.invoices,
    groupId: readerGroup,
    organizationId: scn.organizationId,
    from,
  });
  const loadBefore = await backgroundLoad(500);
  if (loadBefore !== null && loadBefore > 0.15)
    log(
      `    note: the machine was ${fmt(loadBefore * 100, 0)}% busy just before the burst ` +
        '(the service still catching up, or other processes)',
    );
  log(`${tag}: burst — ${fmtInt(n)} summaries to ${topic} (${s.partitions} partitions), then collecting invoices...`);
  const rssBeforeKb = vmRssKb(svc.pid);
  const cpu = cpuWindow([svc.pid], c.brokerPid, { postgres: postgresCpuSec });
  const runnerCpu = process.cpuUsage();
  /** The acknowledgement time (epoch ms) of each summary's produce request. */
  const ackAt = new Float64Array(n);
  const produced = (async () => {
    for (let at = 0; at < n; at += s['produce-batch']) {
      const to = Math.min(n, at + s['produce-batch']);
      await producer.send(topic, records.slice(at, to));
      ackAt.fill(Date.now(), at, to);
    }
  })();
  produced.catch(() => undefined); // awaited below; an early failure must not be unhandled
  // The invoices the service has committed, for the progress lines: one cheap count every 250 ms.
  let issued = 0;
  let counting = false;
  const counter = setInterval(() => {
    if (counting) return;
    counting = true;
    pool
      .query(`select count(*)::int as n from ${schema}.invoices`)
      .then((r) => (issued = r.rows[0].n))
      .catch(() => undefined)
      .finally(() => (counting = false));
  }, 250);
  let lastCount = 0;
  try {
    await waitFor({
      what: 'invoicing',
      alive: svc.alive,
      stallSec: s['stall-seconds'],
      done: async () => reader.records.length >= n,
      progress: () => reader.records.length,
      line: () => {
        const got = reader.records.length;
        const line =
          `invoices: ${fmtInt(got)} of ${fmtInt(n)} on the topic (${fmtInt(got - lastCount)} in the last second), ` +
          `${fmtInt(issued)} committed in the service's schema`;
        lastCount = got;
        return line;
      },
      pollMs: 20,
    });
    await produced;
  } catch (err) {
    cpu.stop();
    await reader.stop().catch(() => undefined);
    await producer.disconnect().catch(() => undefined);
    clearInterval(counter);
    throw new Error(`${messageOf(err)}\n--- service log ---\n${svc.tail()}`);
  }
  const w = cpu.stop();
  const runner = process.cpuUsage(runnerCpu);
  clearInterval(counter);
  await reader.stop();
  await producer.disconnect();

  // --- figures ---
  const t0 = ackAt[0];
  const invoices = reader.records.map((r) => ({ ...r, event: JSON.parse(r.value) }));
  /** @type {number[]} */
  const latencies = [];
  for (const inv of invoices) {
    const i = scn.indexOf.get(inv.event.data.subscriptionId);
    if (i !== undefined) latencies.push(inv.timestampMs - ackAt[i]);
  }
  latencies.sort((a, b) => a - b);
  const lastOnTopic = Math.max(...invoices.map((x) => x.timestampMs));
  const firstOnTopic = Math.min(...invoices.map((x) => x.timestampMs));
  const seconds = (lastOnTopic - t0) / 1000;
  const hwmKb = vmHwmKb(svc.pid);
  /** @type {Round} */
  const r = {
    invoicesPerSec: n / seconds,
    seconds,
    firstSec: (firstOnTopic - t0) / 1000,
    produceSec: (ackAt[n - 1] - t0) / 1000,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.length ? latencies[latencies.length - 1] : NaN,
    catchUpSec,
    serviceCpuSec: w.cpuSec,
    postgresCpuSec: w.more.postgres,
    brokerCpuSec: w.brokerCpuSec,
    machineBusy: w.machineBusy,
    rssReadyKb,
    rssBeforeKb,
    peakRssKb: w.peakRssKb,
    hwmKb,
    runnerCpuSec: (runner.user + runner.system) / 1e6,
    loadBefore,
    ok: true,
  };
  log(`  ${describeRound(r, n)}`);
  const lastSeen = Math.max(...invoices.map((x) => x.seenMs));
  log(
    `  (the runner read the last one ${fmtInt(lastSeen - lastOnTopic)} ms after its timestamp; ` +
      `${fmtInt(reader.others())} records of other organizations skipped)`,
  );

  // --- check ---
  const checks = checkInvoices(scn, invoices, n);
  const t = await serviceTables(pool, schema);
  checks.push({
    name: `service tables: ${fmtInt(n)} summaries and invoices, none left uninvoiced or unpublished`,
    ok: t.invoices === n && t.summaries === n && t.uninvoiced === 0 && t.unpublished === 0,
    detail: `${fmtInt(t.summaries)} summaries, ${fmtInt(t.invoices)} invoices, ${t.uninvoiced} uninvoiced, ${t.unpublished} unpublished`,
  });
  for (const ch of checks) log(`  check: ${ch.name}: ${mark(ch.ok)}${ch.detail ? ` (${ch.detail})` : ''}`);
  r.ok = checks.every((ch) => ch.ok);

  // --- stop ---
  const stopped = await svc.stop();
  c.setService(null);
  if (stopped && stopped.code !== 0) {
    log(`  the service exited ${JSON.stringify(stopped)} on SIGTERM`);
    r.ok = false;
  }
  const warnings = logWarnings(logFile);
  if (warnings.count > 0)
    log(`  note: the service logged ${warnings.count} warning(s)/error(s), e.g. ${warnings.first}`);
  if (!s.keep) {
    const roundTopics = [topic, topics.catalog, topics.subscriptions, topics.invoices];
    await c.scratch.drop({ schemas: [schema], topics: roundTopics, groups: [groupPrefix, readerGroup] });
  }
  return r;
}

/**
 * The warnings and errors in a service's log (pino JSON lines, level >= 40): how many, and the
 * first one's message.
 * @param {string} file
 */
function logWarnings(file) {
  let count = 0;
  let first = '';
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line);
      if (entry.level < 40) continue;
      if (count++ === 0) first = `"${entry.msg}"${entry.err?.message ? ` (${entry.err.message})` : ''}`;
    } catch {
      // not a log entry
    }
  }
  return { count, first };
}

/** KB as whole MB; '?' when unknown. @param {number | null} kb */
const mb = (kb) => (kb === null ? '?' : fmt(kb / 1024, 0));

/** @param {Round} r @param {number} n */
function describeRound(r, n) {
  const us = (/** @type {number | null} */ sec) => (sec === null ? '?' : fmt((sec * 1e6) / n, 0));
  return [
    `${fmtInt(r.invoicesPerSec)} invoices/s: ${fmtInt(n)} invoice.created on the topic ${fmt(r.seconds, 2)} s after the first summary`,
    `the first after ${fmt(r.firstSec, 2)} s (summaries all acknowledged after ${fmt(r.produceSec, 2)} s)`,
    `summary → invoice p50 ${fmtInt(r.p50Ms)} ms, p99 ${fmtInt(r.p99Ms)} ms, max ${fmtInt(r.maxMs)} ms`,
    `service CPU ${us(r.serviceCpuSec)} µs/invoice, Postgres CPU ${us(r.postgresCpuSec)} µs/invoice` +
      (r.brokerCpuSec === null ? '' : `, broker CPU ${us(r.brokerCpuSec)} µs/invoice`),
    `runner CPU ${fmt(r.runnerCpuSec, 2)} s`,
    `machine ${r.machineBusy === null ? '?' : fmt(r.machineBusy * 100, 0)}% busy`,
    `service RSS ${mb(r.rssReadyKb)} MB at /readyz, ${mb(r.rssBeforeKb)} MB before the burst, ` +
      `peak ${mb(r.peakRssKb)} MB during it, VmHWM ${mb(r.hwmKb)} MB`,
  ].join('; ');
}

// ---------------------------------------------------------------------------------------------
// The run
// ---------------------------------------------------------------------------------------------

async function main() {
  const s = parseArgs(process.argv.slice(2));
  const { facts, serviceMain, brokers, brokerPid, databaseUrl, pool, pgVersion } = await prepareRun({
    service: 'billing',
    poolMax: 2,
    log,
  });

  const k = kafkaTools(brokers);
  await k.admin.connect();
  const runId = Date.now().toString(36);
  const scratch = scratchOf(pool, k, log);
  /** @type {ReturnType<typeof startService> | null} */
  let service = null;
  /** @type {string[]} */
  const logFiles = [];
  /** @type {string[]} */
  const problems = [];

  await runWithCleanup({
    body: async () => {
      /** @type {Round[]} */
      const rounds = [];
      for (let round = 1; round <= s.rounds; round++) {
        const r = await runRound({
          s,
          tag: `round ${round}/${s.rounds}`,
          runId,
          round,
          k,
          pool,
          brokers,
          databaseUrl,
          serviceMain,
          brokerPid,
          scratch,
          setService: (svc) => (service = svc),
          logFiles,
        });
        rounds.push(r);
        if (!r.ok) problems.push(`round ${round}: a check failed (see above)`);
      }
      printSummary(s, facts, pgVersion, rounds);
    },
    cleanup: async () => {
      if (service) await service.stop();
      service = null;
      await scratch.dropAll(s.keep);
      await k.admin.disconnect().catch(() => undefined);
      await pool.end().catch(() => undefined);
    },
    interrupted: 'interrupted: stopping the service, dropping the schemas, deleting the topics and groups',
    problems,
    logFiles,
    keep: s.keep,
    log,
  });
}

/**
 * @param {Settings} s
 * @param {ReturnType<typeof import('../lib/machine.cjs').machineFacts>} facts
 * @param {string} pgVersion
 * @param {Round[]} rounds
 */
function printSummary(s, facts, pgVersion, rounds) {
  const n = s.subscriptions;
  const us = (/** @type {number | null} */ sec) => (sec === null ? NaN : (sec * 1e6) / n);
  const row = (/** @type {string} */ label, /** @type {(f: (r: Round) => number | null) => number} */ get) => [
    label,
    fmtInt(get((r) => r.invoicesPerSec)),
    fmt(
      get((r) => r.seconds),
      2,
    ),
    fmt(
      get((r) => r.firstSec),
      2,
    ),
    fmtInt(get((r) => r.p50Ms)),
    fmtInt(get((r) => r.p99Ms)),
    fmt(
      get((r) => us(r.serviceCpuSec)),
      0,
    ),
    fmt(
      get((r) => us(r.postgresCpuSec)),
      0,
    ),
    fmt(
      get((r) => (r.peakRssKb ?? NaN) / 1024),
      0,
    ),
    fmt(
      get((r) => (r.hwmKb ?? NaN) / 1024),
      0,
    ),
    fmt(
      get((r) => (r.machineBusy ?? NaN) * 100),
      0,
    ),
  ];
  const rows = rounds.map((r, i) => row(`round ${i + 1}`, (f) => f(r) ?? NaN));
  rows.push(row(`median of ${rounds.length}`, (f) => med(rounds, f)));

  const seconds = med(rounds, (r) => r.seconds);
  const rate = med(rounds, (r) => r.invoicesPerSec);
  const hwmMb = Math.max(0, ...rounds.map((r) => r.hwmKb ?? 0)) / 1024 || NaN;
  console.log('');
  console.log(
    `bench:billing — ${rounds.length} round(s), ${new Date().toISOString().slice(0, 10)}; ${fmtInt(n)} summaries a round ` +
      `on ${s.partitions} partitions, BILLING_BATCH_SIZE ${s['batch-size']}, BILLING_POLL_MS ${s['poll-ms']}`,
  );
  console.log(
    `machine: ${facts.nproc} CPUs (${facts.cpu}), ${fmt(facts.memGb)} GB; node ${facts.node}; Kafka ${facts.kafka}; ` +
      `PostgreSQL ${pgVersion}`,
  );
  console.log('');
  console.log(
    table(
      [
        '',
        'invoices/s',
        'last on topic s',
        'first s',
        'p50 ms',
        'p99 ms',
        'service µs/invoice',
        'Postgres µs/invoice',
        'burst RSS MB',
        'VmHWM MB',
        'machine busy %',
      ],
      rows,
    ),
  );
  console.log(
    "seconds from the first summary acknowledged to the last (first) invoice.created on the round's invoices topic (its\n" +
      'record timestamp); p50/p99: each summary acknowledged → its invoice on the topic. burst RSS: highest VmRSS\n' +
      'sampled every 100 ms during the burst; VmHWM: the process’s peak over its life (start-up and replay included).\n' +
      'µs/invoice: CPU of the service process / of every postgres process during the burst, per invoice.',
  );
  const loads = rounds.map((r) => r.loadBefore ?? 0);
  console.log(
    `background load before each burst: max ${fmt(Math.max(...loads) * 100, 0)}%` +
      (Math.max(...loads) > 0.15 ? ' — other processes were running; expect noise' : ''),
  );
  console.log('');
  const at = n === TARGETS.invoices ? '' : ` (this run: ${fmtInt(n)} a round, so not the target's measurement)`;
  console.log(
    `target: ${fmtInt(TARGETS.invoices)} summaries → ${fmtInt(TARGETS.invoices)} invoices on the topic in < ${TARGETS.seconds} s: ` +
      (n === TARGETS.invoices ? verdict(seconds < TARGETS.seconds) : 'n/a') +
      ` — median ${fmt(seconds, 2)} s, ${fmtInt(rate)} invoices/s${at}; each round ` +
      rounds.map((r) => `${fmt(r.seconds, 2)} s`).join(', '),
  );
  console.log(
    `target: service peak RSS < ${TARGETS.rssMb} MB: ${verdict(hwmMb < TARGETS.rssMb)} — highest VmHWM of the rounds ` +
      `${fmt(hwmMb, 0)} MB (during the bursts: ${fmt(Math.max(...rounds.map((r) => r.peakRssKb ?? 0)) / 1024, 0)} MB)`,
  );
  console.log(
    `median summary → invoice latency: p50 ${fmtInt(med(rounds, (r) => r.p50Ms))} ms, p99 ${fmtInt(med(rounds, (r) => r.p99Ms))} ms`,
  );
  console.log('');
}

main().catch((err) => {
  log(`ERROR: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
