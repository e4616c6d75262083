// @ts-check
'use strict';
/**
 * The billing side of a bench:aggregation round, so the service's own reconciliation has real
 * periods to check: the catalog (every bench metric, and a plan billing all of them but the
 * last), subscriptions for the first customers, their closing once the drain is stored, and then
 * the reconciliation itself (services/aggregation/dist/app/reconciliation.js, the code behind
 * GET /v1/reconciliation and GET /v1/reconciliation/unbilled) read against the round's schema.
 *
 * Every event is built with `buildEvent` (@usageflow/contracts), which validates it, and encoded
 * with `encodeEvent` (@usageflow/kafka), as the subscription service publishes them.
 */
const path = require('node:path');
const { randomUUID } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { fmtInt, fmt } = require('../lib/output.cjs');

const ROOT = path.resolve(__dirname, '..', '..');
const SERVICE_DIR = path.join(ROOT, 'services', 'aggregation');
const HOUR = 3_600_000;
/** The plan the subscriptions are on. */
const PLAN = { code: 'bench', version: 1 };
/** A page of both routes, the largest they serve (MAX_PAGE_LIMIT), read as an operator would. */
const PAGE_LIMIT = 200;

/**
 * The round's catalog, subscriptions and closings. The subscribed customers are cust_0.. (the
 * bench's own customer ids); their period holds every timestamp of the stream (the hour before
 * the base time) and the probes' (the wall time of the live phase), and ends after both.
 * @param {{ spec: import('./events.cjs').StreamSpec, subscribed: number }} o
 */
function billingScenario(o) {
  const { buildEvent } = require('@usageflow/contracts');
  const org = o.spec.organizationId;
  const base = o.spec.baseTimeMs;
  const iso = (/** @type {number} */ ms) => new Date(ms).toISOString();
  const period = { start: iso(base - 2 * HOUR), end: iso(base + HOUR) };
  const nextPeriod = { start: period.end, end: iso(base + 4 * HOUR) };
  const metrics = Array.from({ length: o.spec.metrics }, (_, i) => `METRIC_${i}`);
  // NOTE: the last metric is left off the plan, so its events of subscribed customers are
  // stored but billed by no one: the unbilled usage must name them METRIC_NOT_ON_PLAN.
  const planMetrics = metrics.slice(0, -1);
  const subscriptions = Array.from({ length: o.subscribed }, (_, i) => ({
    subscriptionId: randomUUID(),
    customerId: `cust_${i}`,
  }));
  /** @param {any} type @param {any} data */
  const build = (type, data) =>
    buildEvent(type, {
      id: randomUUID(),
      organizationId: org,
      occurredAt: new Date().toISOString(),
      producer: 'subscription',
      data,
    });
  return {
    period,
    nextPeriod,
    planMetrics,
    subscriptions,
    /** metric.created (SUM) of every bench metric, then plan.created of the plan. */
    catalogEvents: () => [
      ...metrics.map((key, i) =>
        build('metric.created', { key, name: `Metric ${i}`, unit: 'units', aggregation: 'SUM' }),
      ),
      build('plan.created', {
        ...PLAN,
        name: 'Bench',
        currency: 'USD',
        interval: 'MONTHLY',
        basePrice: '0.00',
        planMetrics: planMetrics.map((metricKey) => ({ metricKey, includedUnits: '0', overageUnitPrice: '0.01' })),
      }),
    ],
    /** subscription.created of every subscription, its current period the one above. */
    subscriptionEvents: () =>
      subscriptions.map((s) =>
        build('subscription.created', {
          ...s,
          planCode: PLAN.code,
          planVersion: PLAN.version,
          startAt: period.start,
          billingAnchor: period.start,
          currentPeriod: period,
        }),
      ),
    /**
     * subscription.period_closed of every subscription with the usage topic's high-water marks
     * now. NOTE: the bench closes the period before its end (closedAt is now): the service takes
     * a closing's marks as given, and what it must show is that the events read after them are
     * late, whatever their timestamp.
     * @param {Map<number, number>} marks
     */
    closingEvents: (marks) => {
      const closedAt = new Date().toISOString();
      const usageHighWaterMarks = [...marks]
        .sort(([a], [b]) => a - b)
        .map(([partition, high]) => ({ partition, offset: String(high) }));
      return subscriptions.map((s) =>
        build('subscription.period_closed', {
          ...s,
          planCode: PLAN.code,
          planVersion: PLAN.version,
          period,
          closedAt,
          graceEndsAt: period.end,
          usageHighWaterMarks,
          nextPeriod,
        }),
      );
    },
  };
}

/**
 * Every page of a keyset-paged use case. @template T
 * @param {(page: { limit: number, cursor: string | null }) => Promise<{ data: T[], nextCursor: string | null }>} read
 */
async function allPages(read) {
  /** @type {T[]} */
  const all = [];
  let cursor = /** @type {string | null} */ (null);
  let pages = 0;
  do {
    const page = await read({ limit: PAGE_LIMIT, cursor });
    all.push(...page.data);
    cursor = page.nextCursor;
    pages++;
  } while (cursor);
  return { all, pages };
}

/**
 * The round's reconciliation, by the service's own code (its dist) against the round's schema:
 * every (period, plan metric) row, and the stored usage of [from, to) that no subscription bills.
 * Beside it, what the topic and the event store hold, counted here.
 * @param {{ databaseUrl: string, schema: string, organizationId: string, from: string, to: string, pool: import('pg').Pool, topicRecords: number }} o
 */
async function readReconciliation(o) {
  const { createDatabase } = require('@usageflow/db');
  const { createLogger } = require('@usageflow/telemetry');
  /** @type {typeof import('../../services/aggregation/src/app/reconciliation')} */
  const app = require(path.join(SERVICE_DIR, 'dist', 'app', 'reconciliation.js'));
  const db = createDatabase({
    url: o.databaseUrl,
    schema: o.schema,
    poolMax: 2,
    applicationName: 'bench-aggregation-reconciliation',
  });
  const ctx = { db, logger: createLogger({ service: 'bench-aggregation', level: 'warn' }), clock: () => new Date() };
  const caller = { organizationId: o.organizationId };
  try {
    const t0 = performance.now();
    const periods = await allPages((page) => app.reconciliation(ctx, caller, page, {}));
    const t1 = performance.now();
    const unbilled = await allPages((page) => app.unbilledUsage(ctx, caller, page, { from: o.from, to: o.to }));
    const t2 = performance.now();
    const count = async (/** @type {string} */ table) =>
      Number(
        (
          await o.pool.query(
            `select count(*)::bigint::text as n from ${o.schema}.${table} where organization_id = $1`,
            [o.organizationId],
          )
        ).rows[0].n,
      );
    return {
      rows: periods.all,
      rowPages: periods.pages,
      unbilled: unbilled.all,
      unbilledPages: unbilled.pages,
      periodsSec: (t1 - t0) / 1000,
      unbilledSec: (t2 - t1) / 1000,
      topicRecords: o.topicRecords,
      stored: await count('usage_events'),
      duplicates: await count('usage_duplicates'),
    };
  } finally {
    await db.destroy();
  }
}

/**
 * What the reconciliation says, and the problems in it: arrivals not all stored or dropped as
 * duplicates, a row that does not line up, a stored event neither in a period nor unbilled, a
 * late event without its late record. Waiting steps are not problems: no billing runs here, so
 * no invoice is ever issued.
 * @param {Awaited<ReturnType<typeof readReconciliation>>} r
 * @param {{ subscriptions: number, planMetrics: number }} expected
 */
function judgeReconciliation(r, expected) {
  /** @type {string[]} */
  const problems = [];
  const sum = (/** @type {number[]} */ xs) => xs.reduce((a, b) => a + b, 0);
  const mark = (/** @type {boolean} */ ok) => (ok ? 'OK' : 'MISMATCH');
  const ev = {
    stored: sum(r.rows.map((x) => x.events.stored)),
    summarized: sum(r.rows.map((x) => x.events.summarized)),
    late: sum(r.rows.map((x) => x.events.late)),
  };
  const lateRecords = sum(r.rows.map((x) => x.lateRecords.count));
  const subscriptions = new Set(r.rows.map((x) => x.subscriptionId)).size;
  const byState = (/** @type {string} */ state) => r.rows.filter((x) => x.state === state).length;
  const summarizedRows = byState('SUMMARIZED');
  const unbilled = sum(r.unbilled.map((u) => u.eventCount));
  /** @type {Map<string, { events: number, customers: Set<string> }>} */
  const reasons = new Map();
  for (const u of r.unbilled) {
    const entry = reasons.get(u.reason) ?? { events: 0, customers: new Set() };
    entry.events += u.eventCount;
    entry.customers.add(u.customerId);
    reasons.set(u.reason, entry);
  }
  /** @type {Map<string, number>} rows per waiting code */
  const waits = new Map();
  for (const row of r.rows) for (const w of row.waiting) waits.set(w.code, (waits.get(w.code) ?? 0) + 1);
  const lateUnbilled = sum(r.rows.map((x) => x.lateRecords.unbilled));
  const off = r.rows.filter((x) => !x.linesUp);

  const arrivalsOk = r.topicRecords === r.stored + r.duplicates;
  if (!arrivalsOk)
    problems.push(
      `${fmtInt(r.topicRecords)} records on the topic, but ${fmtInt(r.stored)} stored + ${fmtInt(r.duplicates)} ` +
        `duplicates dropped = ${fmtInt(r.stored + r.duplicates)}`,
    );
  const wantSummarized = expected.subscriptions * expected.planMetrics;
  if (summarizedRows !== wantSummarized)
    problems.push(
      `${summarizedRows} summarized period rows, expected ${expected.subscriptions} subscriptions × ` +
        `${expected.planMetrics} plan metrics = ${wantSummarized}`,
    );
  for (const row of off)
    problems.push(
      `${row.customerId} ${row.metricKey} ${row.period.start}..${row.period.end} (subscription ${row.subscriptionId}, ` +
        `${row.state}) does not line up: ` +
        row.differences
          .map((d) => `${d.code}: ${d.detail}${d.eventIds.length ? ` [${d.eventIds.join(', ')}]` : ''}`)
          .join('; '),
    );
  const explainedOk = r.stored === ev.stored + unbilled;
  if (!explainedOk)
    problems.push(
      `${fmtInt(r.stored)} events stored, but ${fmtInt(ev.stored)} in periods + ${fmtInt(unbilled)} unbilled = ` +
        `${fmtInt(ev.stored + unbilled)}`,
    );
  const lateOk = ev.late === lateRecords;
  if (!lateOk) problems.push(`${fmtInt(ev.late)} late events, but ${fmtInt(lateRecords)} late records`);

  const waiting = [...waits].map(([code, rows]) => `${code} ${fmtInt(rows)} rows`).join(', ');
  const lines = [
    `reconciliation (the service's own code; not a benchmark figure): periods read in ${fmt(r.periodsSec, 2)} s ` +
      `(${r.rowPages} pages of ${PAGE_LIMIT}), unbilled usage of ${fmtInt(r.stored)} stored events in ` +
      `${fmt(r.unbilledSec, 2)} s (${r.unbilledPages} pages)`,
    `  arrivals: ${fmtInt(r.topicRecords)} records on the topic = ${fmtInt(r.stored)} stored + ` +
      `${fmtInt(r.duplicates)} duplicates dropped ${mark(arrivalsOk)}`,
    `  periods: ${subscriptions} subscriptions, ${fmtInt(r.rows.length)} period × metric rows ` +
      `(${summarizedRows} SUMMARIZED, ${byState('CLOSED')} CLOSED, ${byState('OPEN')} OPEN): ` +
      `${fmtInt(ev.stored)} events stored, ${fmtInt(ev.summarized)} summarized, ${fmtInt(ev.late)} late; ` +
      `${fmtInt(lateRecords)} late records ${mark(lateOk)}; lines up ${r.rows.length - off.length}/${r.rows.length}, ` +
      `${sum(off.map((x) => x.differences.length))} differences`,
    `  waiting (no billing runs in this bench): ${waiting || 'nothing'}; ${fmtInt(lateUnbilled)} late records ` +
      `not on an invoice`,
    `  unbilled: ${
      [...reasons]
        .map(([reason, u]) => `${fmtInt(u.events)} events ${reason} (${fmtInt(u.customers.size)} customers)`)
        .join(', ') || 'nothing'
    }`,
    `  every stored event explained: ${fmtInt(r.stored)} = ${fmtInt(ev.stored)} in periods + ${fmtInt(unbilled)} ` +
      `unbilled ${mark(explainedOk)}`,
  ];
  for (const row of off.slice(0, 5))
    lines.push(
      `  DIFFERENCE ${row.customerId} ${row.metricKey} ${row.period.start}: ` +
        row.differences.map((d) => `${d.code} ${d.detail}`).join('; '),
    );
  return { ok: problems.length === 0, problems, lines };
}

module.exports = { PLAN, billingScenario, readReconciliation, judgeReconciliation };
