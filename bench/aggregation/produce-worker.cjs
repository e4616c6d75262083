// @ts-check
'use strict';
/**
 * The producer of bench:aggregation, forked by run.cjs so that building and sending the records
 * is CPU of its own and never delays the runner's probe and progress polls.
 *
 * Input: one JSON argument (ProduceConfig). Output, over the IPC channel:
 *   { type: 'progress', produced, elapsedMs }   about every second
 *   { type: 'result', ...ProduceResult }        once, at the end
 *   { type: 'error', message }                  on failure (then exit 1)
 *
 * Two modes:
 *   bulk    records [from, from + count) as fast as the producer allows: the topic the drain
 *           phase then consumes.
 *   steady  records from `from` on at `rate` per second for `durationSec`: the live phase's
 *           background traffic. Each tick sends whatever is due in one produce request, as the
 *           gateway's group commit does.
 *
 * The client and settings are the ingestion gateway's (services/ingestion/src/adapters/kafka/
 * usage-producer.ts): @platformatic/kafka, idempotent, acks=all, no compression, partitions
 * chosen as Java's client would. An idempotent producer has one request in flight, so the next
 * batch is built while the previous one is on the wire.
 */
const { performance } = require('node:perf_hooks');
const { randomBytes } = require('node:crypto');
/** @type {any} ECMAScript-only package: loaded with require(esm), Node >= 20.19 */
const kafka = require('@platformatic/kafka');
const { post, runWorker } = require('../lib/worker.cjs');
const { stream, envelope, partitioner } = require('./events.cjs');

/**
 * @typedef {object} ProduceConfig
 * @property {string[]} brokers
 * @property {string} topic
 * @property {import('./events.cjs').StreamSpec} spec
 * @property {'bulk' | 'steady'} mode
 * @property {number} from          the first record number
 * @property {number} count         bulk: records to produce
 * @property {number} rate          steady: records per second
 * @property {number} durationSec   steady: for how long
 * @property {number} batchRecords  the most records in one produce request
 */

const TICK_MS = 5;

/** @param {ProduceConfig} cfg */
async function main(cfg) {
  const producer = new kafka.Producer({
    clientId: 'bench-aggregation-producer',
    bootstrapBrokers: cfg.brokers,
    idempotent: true,
    acks: kafka.ProduceAcks.ALL,
    autocreateTopics: false,
  });
  const s = stream(cfg.spec);
  const partitionOf = partitioner(kafka.murmur2);
  // One trace context per produce request, as the gateway has one per HTTP request.
  const headersOf = () =>
    new Map([
      [
        Buffer.from('traceparent'),
        Buffer.from(`00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`),
      ],
    ]);

  /** Records [from, to) as produce messages. @param {number} from @param {number} to */
  const build = (from, to) => {
    const receivedAt = new Date().toISOString();
    const headers = headersOf();
    const messages = new Array(to - from);
    for (let i = from; i < to; i++) {
      const { key, value } = envelope(cfg.spec, s.event(s.eventOf(i)), receivedAt);
      messages[i - from] = {
        topic: cfg.topic,
        key: Buffer.from(key),
        value: Buffer.from(value),
        headers,
        partition: partitionOf(key),
      };
    }
    return messages;
  };

  await producer.metadata({ topics: [cfg.topic] });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let produced = 0;
  const progress = setInterval(() => post({ type: 'progress', produced, elapsedMs: performance.now() - t0 }), 1000);
  try {
    if (cfg.mode === 'bulk') produced = await bulk(cfg, producer, build, (n) => (produced = n));
    else produced = await steady(cfg, producer, build, t0, (n) => (produced = n));
  } finally {
    clearInterval(progress);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await producer.close();
  post({
    type: 'result',
    from: cfg.from,
    to: cfg.from + produced,
    produced,
    seconds,
    recordsPerSec: produced / seconds,
    cpuMs: (cpu.user + cpu.system) / 1000,
  });
}

/**
 * Records [from, from + count) as fast as the producer allows: the next batch is built while
 * the previous one is in flight.
 * @param {ProduceConfig} cfg
 * @param {any} producer
 * @param {(from: number, to: number) => any[]} build
 * @param {(produced: number) => void} report
 */
async function bulk(cfg, producer, build, report) {
  const end = cfg.from + cfg.count;
  /** @type {Promise<unknown> | null} */
  let inFlight = null;
  let acked = 0;
  for (let i = cfg.from; i < end;) {
    const to = Math.min(end, i + cfg.batchRecords);
    const messages = build(i, to);
    if (inFlight) await inFlight;
    const n = to - i;
    inFlight = producer.send({ messages }).then(() => report((acked += n)));
    i = to;
  }
  if (inFlight) await inFlight;
  return acked;
}

/**
 * Records at `rate` per second for `durationSec`: every tick, what is due goes out in one
 * request (none while one is in flight: they gather, as in the gateway's group commit).
 * @param {ProduceConfig} cfg
 * @param {any} producer
 * @param {(from: number, to: number) => any[]} build
 * @param {number} t0
 * @param {(produced: number) => void} report
 */
async function steady(cfg, producer, build, t0, report) {
  const endMs = t0 + cfg.durationSec * 1000;
  let next = cfg.from;
  for (;;) {
    const now = performance.now();
    const due = cfg.from + Math.floor((Math.min(now, endMs) - t0) * (cfg.rate / 1000)) - next;
    if (due > 0) {
      const to = next + Math.min(due, cfg.batchRecords);
      await producer.send({ messages: build(next, to) });
      next = to;
      report(next - cfg.from);
      continue;
    }
    if (now >= endMs) break;
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  return next - cfg.from;
}

runWorker(main);
