// @ts-check
'use strict';
/**
 * The usage events of bench:aggregation, shared by the producer (produce-worker.cjs) and the
 * runner (the raw COPY baseline, the probe, the correctness check), so both sides agree on every
 * record without passing the records between processes.
 *
 * A stream is a sequence of records numbered 0, 1, 2...; each record is the usage.recorded
 * envelope of one event, as the ingestion gateway writes it to the usage topic
 * (services/ingestion/src/app/ingest.ts, toRecords): key `<organizationId>:<customerId>`, a JSON
 * envelope whose data carries the normalized event and the gateway's receivedAt, and one
 * `traceparent` header. A share of the records (`duplicates`) repeat an earlier event's exact
 * eventId, customer, metric and amount in a new envelope, as a sender's retry does: the
 * aggregation service must store each event once.
 *
 * Everything about an event follows from its number (customer, metric, amount, timestamp), so
 * the runner can rebuild any record, and count the distinct events of any range, by arithmetic.
 */
const { createHash, randomUUID } = require('node:crypto');

/** The usage topic's partition count (topics.cjs: usageflow.usage-events.v1). */
const PARTITIONS = 12;
/** Events' timestamps fall in the hour before the stream's base time: one or two rollup hours. */
const SPREAD_MS = 3_600_000;
/** A duplicate repeats one of the last this-many distinct events (a retry comes soon after). */
const RETRY_WINDOW = 997;

/**
 * @typedef {object} StreamSpec
 * @property {string} organizationId
 * @property {string} apiKeyId     the gateway adds the sending key's id to every event
 * @property {number} customers
 * @property {number} metrics
 * @property {number} duplicates   share of records that repeat an earlier event, 0 <= d < 1
 * @property {number} baseTimeMs   timestamps fall in the hour before this
 */

/**
 * One event as its sender sent it (the gateway adds receivedAt and apiKeyId).
 * @typedef {{ eventId: string, customerId: string, metric: string, amount: string, timestamp: string, properties: { region: string, userId?: string } }} Event
 */

/**
 * Cheap integer mixers: consecutive event numbers land on scattered customers and metrics, as
 * real traffic does, instead of walking the customers in order.
 * @param {number} n
 */
const mixA = (n) => Math.imul(n ^ (n >>> 15), 0x2c1b3c6d) >>> 0;
/** @param {number} n */
const mixB = (n) => Math.imul(n ^ (n >>> 13), 0x297a2d39) >>> 0;
/** @param {number} n */
const mixC = (n) => Math.imul(n + 0x9e3779b9, 0x85ebca6b) >>> 0;

/** @param {StreamSpec} spec */
function stream(spec) {
  // Parts per million, so whether a record is a duplicate is exact integer arithmetic.
  const ppm = Math.round(spec.duplicates * 1e6);

  /** Duplicates among records 0..i (0 for i < 0). @param {number} i */
  const dupsThrough = (i) => (i < 0 ? 0 : Math.floor(((i + 1) * ppm) / 1e6));
  /** @param {number} i */
  const isDup = (i) => i > 0 && dupsThrough(i) > dupsThrough(i - 1);
  /** Distinct events among records [from, to). @param {number} from @param {number} to */
  const distinctIn = (from, to) => to - dupsThrough(to - 1) - (from - dupsThrough(from - 1));

  /**
   * The number of the event record `i` carries: a new one, or for a duplicate, one of the
   * RETRY_WINDOW distinct events just before it.
   * @param {number} i
   */
  const eventOf = (i) => {
    const distinctBefore = i - dupsThrough(i - 1);
    if (!isDup(i)) return distinctBefore;
    return distinctBefore - 1 - (mixC(i) % Math.min(distinctBefore, RETRY_WINDOW));
  };

  /**
   * The event's own fields (what a sender sent), from its number alone.
   * @param {number} e
   */
  const event = (e) => {
    const metric = mixB(e) % spec.metrics;
    const customerId = `cust_${mixA(e) % spec.customers}`;
    // one metric carries a userId (the kind of property a UNIQUE_COUNT metric counts)
    /** @type {Event['properties']} */
    const properties = metric === 1 ? { region: 'eu', userId: `user_${mixC(e) % 1000}` } : { region: 'eu' };
    /** @type {Event} */
    const ev = {
      eventId: `evt_${e}`,
      customerId,
      metric: `METRIC_${metric}`,
      // the last metric has fractional amounts (a gauge, "2.5" GB); the others small integers
      amount: metric === spec.metrics - 1 && spec.metrics > 1 ? '2.5' : String((e % 13) + 1),
      timestamp: new Date(spec.baseTimeMs - (mixC(e) % SPREAD_MS)).toISOString(),
      properties,
    };
    return ev;
  };

  return { isDup, eventOf, event, distinctIn, dupsThrough };
}

/**
 * The record key and the usage.recorded envelope (JSON) of one event, as the gateway writes them.
 * NOTE: written out as a template rather than JSON.stringify (3x cheaper, and the producer is
 * CPU-bound on this 2-core machine); every value is generated here and needs no escaping, and
 * the runner checks once per run that the text equals JSON.stringify of the same object
 * (`envelopeObject`) and validates against the contract.
 * @param {StreamSpec} spec
 * @param {Event} ev
 * @param {string} receivedAt the gateway's acceptance time (ISO); also the envelope's occurredAt
 * @param {string} [id] the envelope id (a fresh uuid)
 */
function envelope(spec, ev, receivedAt, id = randomUUID()) {
  const p = ev.properties;
  const props = p.userId === undefined ? `{"region":"${p.region}"}` : `{"region":"${p.region}","userId":"${p.userId}"}`;
  return {
    key: `${spec.organizationId}:${ev.customerId}`,
    value:
      `{"id":"${id}","type":"usage.recorded","version":1,"organizationId":"${spec.organizationId}",` +
      `"occurredAt":"${receivedAt}","producer":"ingestion","data":{"eventId":"${ev.eventId}",` +
      `"customerId":"${ev.customerId}","metric":"${ev.metric}","amount":"${ev.amount}",` +
      `"timestamp":"${ev.timestamp}","properties":${props},"receivedAt":"${receivedAt}",` +
      `"apiKeyId":"${spec.apiKeyId}"}}`,
  };
}

/**
 * The same envelope as an object, in the gateway's field order (ingest.ts toRecords, and
 * normalize.ts for data): what `envelope` must serialize to.
 * @param {StreamSpec} spec
 * @param {Event} ev
 * @param {string} receivedAt
 * @param {string} id
 */
function envelopeObject(spec, ev, receivedAt, id) {
  return {
    id,
    type: 'usage.recorded',
    version: 1,
    organizationId: spec.organizationId,
    occurredAt: receivedAt,
    producer: 'ingestion',
    data: { ...ev, receivedAt, apiKeyId: spec.apiKeyId },
  };
}

/**
 * The partition a key lands on: what the gateway's producer chooses (Java's murmur2 of the key,
 * made positive, modulo the partition count), so the runner knows each record's offset. Cached
 * per key: there are only as many keys as customers, and hashing one costs about 3 µs.
 * @param {(key: string, cache: boolean) => number} murmur2 @platformatic/kafka's
 */
function partitioner(murmur2) {
  /** @type {Map<string, number>} */
  const cache = new Map();
  return (/** @type {string} */ key) => {
    let p = cache.get(key);
    if (p === undefined) {
      p = (murmur2(key, false) & 0x7fffffff) % PARTITIONS;
      cache.set(key, p);
    }
    return p;
  };
}

/**
 * The event's key in usage_event_keys: the first 128 bits of SHA-256(organizationId ':' eventId)
 * as a uuid (services/aggregation migrations), so the baseline's rows carry what the service's do.
 * @param {string} organizationId
 * @param {string} eventId
 */
function eventKey(organizationId, eventId) {
  const h = createHash('sha256').update(`${organizationId}:${eventId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

module.exports = { PARTITIONS, stream, envelope, envelopeObject, partitioner, eventKey };
