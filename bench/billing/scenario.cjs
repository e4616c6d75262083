// @ts-check
'use strict';
/**
 * What one round of bench:billing sends to the billing service, and what it must get back.
 *
 * One fresh organization, one plan version and N subscriptions to it, each with one closed
 * period whose usage summary the round produces. Everything about subscription i follows from i
 * (its customer, its quantities, so its invoice's amount), so the runner can check every
 * invoice.created against the amount computed here by hand, in exact integer arithmetic.
 *
 * The events are built with `buildEvent` (@usageflow/contracts), which validates each one, and
 * encoded with `encodeEvent` (@usageflow/kafka), so their records are the ones the subscription
 * and aggregation services would write.
 */
const { createHash, randomUUID } = require('node:crypto');

/** The period every subscription of the run is billed for (a closed calendar month). */
const PERIOD = { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' };
const PLAN_CODE = 'pro';
const PLAN_VERSION = 1;

/**
 * The reference plan (docs: Pro, USD, 100.00 a month, 10,000 API calls included at 0.01 each)
 * plus a metric priced below a cent per unit, so that rounding to the cent happens on most
 * invoices.
 */
const PLAN = {
  code: PLAN_CODE,
  version: PLAN_VERSION,
  name: 'Pro',
  currency: 'USD',
  interval: /** @type {const} */ ('MONTHLY'),
  basePrice: '100.00',
  planMetrics: [
    { metricKey: 'API_CALL', includedUnits: '10000', overageUnitPrice: '0.01' },
    { metricKey: 'AI_TOKEN', includedUnits: '1000000', overageUnitPrice: '0.000025' },
  ],
};

const METRICS = [
  { key: 'API_CALL', name: 'API calls', unit: 'calls', aggregation: /** @type {const} */ ('SUM') },
  { key: 'AI_TOKEN', name: 'AI tokens', unit: 'tokens', aggregation: /** @type {const} */ ('SUM') },
];

/**
 * The usage of subscription i, whole units, spread so that amounts differ from one invoice to
 * the next: API calls 0..30,000 (a third within the allowance), tokens 0..4,000,000 (a quarter
 * within it, and billable token counts that end in every possible fraction of a cent).
 * @param {number} i
 */
function quantitiesOf(i) {
  return {
    API_CALL: BigInt((i * 7919) % 30_001),
    AI_TOKEN: BigInt((i * 104_729 + 12_345) % 4_000_001),
  };
}

/** Millionths of a unit per whole unit: prices are parsed to an exact integer at this scale. */
const MICROS = 1_000_000n;

/**
 * A non-negative decimal string ("0.000025") as an exact integer count of millionths.
 * @param {string} text
 */
function micros(text) {
  const [whole, fraction = ''] = text.split('.');
  if (fraction.length > 6) throw new Error(`${text}: more than 6 decimals`);
  return BigInt(whole) * MICROS + BigInt(fraction.padEnd(6, '0'));
}

/**
 * A line's amount in cents: `units` x `price`, rounded half-up to the cent once, as the
 * invoice calculator does (exact: integers only).
 * @param {bigint} units
 * @param {string} price
 */
function lineCents(units, price) {
  const exact = units * micros(price); // millionths of a dollar
  const perCent = MICROS / 100n;
  return (exact + perCent / 2n) / perCent;
}

/**
 * The total of subscription i's invoice in cents, computed by hand: the base fee, then per plan
 * metric max(0, quantity - included) x price, each line rounded half-up, summed.
 * @param {number} i
 */
function expectedCents(i) {
  const q = quantitiesOf(i);
  let total = lineCents(1n, PLAN.basePrice);
  for (const pm of PLAN.planMetrics) {
    const used = q[/** @type {'API_CALL' | 'AI_TOKEN'} */ (pm.metricKey)];
    const billable = used - BigInt(pm.includedUnits);
    total += lineCents(billable > 0n ? billable : 0n, pm.overageUnitPrice);
  }
  return Number(total);
}

/**
 * One round's organization and subscriptions, and the events that describe them.
 * @param {{ organizationId: string, subscriptions: number }} o
 */
function scenario(o) {
  const { buildEvent } = require('@usageflow/contracts');
  const { encodeEvent } = require('@usageflow/kafka');
  const org = o.organizationId;
  const subscriptionIds = Array.from({ length: o.subscriptions }, () => randomUUID());
  const customerOf = (/** @type {number} */ i) => `cust_${i}`;
  /** @type {Map<string, number>} */
  const indexOf = new Map(subscriptionIds.map((id, i) => [id, i]));

  /** metric.created x2 and plan.created, as the subscription service publishes them. */
  const catalogEvents = () => {
    const at = new Date().toISOString();
    const build = (/** @type {any} */ type, /** @type {any} */ data) =>
      buildEvent(type, { id: randomUUID(), organizationId: org, occurredAt: at, producer: 'subscription', data });
    return [...METRICS.map((m) => build('metric.created', m)), build('plan.created', PLAN)];
  };

  /** subscription.created of subscriptions [from, to). @param {number} from @param {number} to */
  const subscriptionEvents = (from, to) => {
    const at = new Date().toISOString();
    const events = [];
    for (let i = from; i < to; i++) {
      events.push(
        buildEvent('subscription.created', {
          id: randomUUID(),
          organizationId: org,
          occurredAt: at,
          producer: 'subscription',
          data: {
            subscriptionId: subscriptionIds[i],
            customerId: customerOf(i),
            planCode: PLAN_CODE,
            planVersion: PLAN_VERSION,
            startAt: PERIOD.start,
            billingAnchor: PERIOD.start,
            currentPeriod: PERIOD,
          },
        }),
      );
    }
    return events;
  };

  /**
   * The usage.period_summarized event of subscription i, as aggregation publishes it once the
   * period is closed: every plan metric, a fingerprint of the summary, the closing's marks.
   * @param {number} i
   */
  const summaryEvent = (i) => {
    const q = quantitiesOf(i);
    const metrics = METRICS.map((m) => ({
      metricKey: m.key,
      aggregation: m.aggregation,
      quantity: q[/** @type {'API_CALL' | 'AI_TOKEN'} */ (m.key)].toString(),
      eventCount: Number(q[/** @type {'API_CALL' | 'AI_TOKEN'} */ (m.key)] % 10_000n),
    }));
    const fingerprint = createHash('sha256')
      .update(JSON.stringify([subscriptionIds[i], PERIOD, metrics]))
      .digest('hex');
    return buildEvent('usage.period_summarized', {
      id: randomUUID(),
      organizationId: org,
      occurredAt: new Date().toISOString(),
      producer: 'aggregation',
      data: {
        subscriptionId: subscriptionIds[i],
        customerId: customerOf(i),
        planCode: PLAN_CODE,
        planVersion: PLAN_VERSION,
        period: PERIOD,
        metrics,
        fingerprint,
        highWaterMarks: [{ partition: 0, offset: String(i) }],
      },
    });
  };

  /** Every summary as a record (key = subscriptionId), built and validated before the clock starts. */
  const summaryRecords = () => subscriptionIds.map((_, i) => encodeEvent(summaryEvent(i)).message);

  return { organizationId: org, subscriptionIds, indexOf, catalogEvents, subscriptionEvents, summaryRecords };
}

module.exports = { PERIOD, PLAN, METRICS, quantitiesOf, lineCents, expectedCents, scenario };
