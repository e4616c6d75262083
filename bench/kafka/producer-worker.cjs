// @ts-check
'use strict';
/**
 * One measurement of the UsageFlow producer wrapper (`@usageflow/kafka` EventProducer), run in
 * its own process by bench/kafka/run.cjs (child_process.fork) so that its peak RSS, CPU time and
 * JIT state belong to this measurement only.
 *
 * Input: one JSON argument (see WorkerConfig). Output, over the IPC channel:
 *   { type: 'progress', acked, elapsedMs }   about every 2 s
 *   { type: 'result', ...WorkerResult }      once, at the end
 *   { type: 'error', message }               on failure (then exit 1)
 *
 * Workload: `records` records of `size` bytes, cut into sends of `batch` records; `concurrency`
 * sends are kept outstanding at once (a pool of lanes, each awaiting its send before starting
 * the next). Latency is per send (call → all records of that send acknowledged, acks=all).
 */
const crypto = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { createKafkaClient, EventProducer } = require('@usageflow/kafka');
const { createLogger } = require('@usageflow/telemetry');
const { percentile } = require('../lib/stats.cjs');
const { post, runWorker } = require('../lib/worker.cjs');

/**
 * @typedef {object} WorkerConfig
 * @property {string[]} brokers
 * @property {string} topic
 * @property {number} records
 * @property {number} size         bytes per record value
 * @property {number} batch        records per send()
 * @property {number} concurrency  sends outstanding at once
 * @property {number} maxInFlight  EventProducer maxInFlightRequests
 * @property {'null' | 'varied'} keys  null keys (as ProducerPerformance) or 1,000 distinct string keys
 * @property {'buffer' | 'string'} value  Buffer values (as ProducerPerformance's byte[]) or strings
 */

/** Distinct payloads cycled through: "random-ish" without paying a random byte per record. */
const PAYLOADS = 1024;

/**
 * Uppercase ASCII letters, like ProducerPerformance's generated payload (`random.nextInt(26) + 65`).
 * @param {number} size
 */
function randomPayload(size) {
  const bytes = crypto.randomBytes(size);
  for (let i = 0; i < size; i++) bytes[i] = 65 + (bytes[i] % 26);
  return bytes;
}

/** @param {WorkerConfig} cfg */
async function main(cfg) {
  const logger = createLogger({ service: 'bench-kafka', level: 'warn' });
  const kafka = createKafkaClient({ brokers: cfg.brokers, clientId: 'bench-kafka', logger });
  const producer = new EventProducer(kafka, { logger, maxInFlightRequests: cfg.maxInFlight });

  /** @type {(string | Buffer)[]} */
  const values = [];
  for (let i = 0; i < PAYLOADS; i++) {
    const p = randomPayload(cfg.size);
    values.push(cfg.value === 'string' ? p.toString('latin1') : p);
  }
  /** @type {(string | null)[]} */
  const keys = [];
  for (let i = 0; i < 1000; i++) keys.push(cfg.keys === 'varied' ? `customer-${i.toString().padStart(6, '0')}` : null);

  await producer.connect();
  // Warm the metadata for the topic (one record, not counted) so that the measured window is
  // sending only, as ProducerPerformance's first send pays its metadata fetch inside its own
  // window but nothing else (connect and InitProducerId are outside both).
  await producer.send(cfg.topic, [{ key: null, value: values[0] }]);

  const target = cfg.records;
  let next = 0;
  let acked = 0;
  /** @type {number[]} */
  const latencies = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const progress = setInterval(() => post({ type: 'progress', acked, elapsedMs: performance.now() - t0 }), 2000);

  const lane = async () => {
    while (next < target) {
      const start = next;
      const n = Math.min(cfg.batch, target - start);
      next += n;
      /** @type {{ key: string | null, value: string | Buffer }[]} */
      const messages = new Array(n);
      for (let i = 0; i < n; i++) {
        const r = start + i;
        messages[i] = { key: keys[r % 1000], value: values[r % PAYLOADS] };
      }
      const ts = performance.now();
      await producer.send(cfg.topic, messages);
      latencies.push(performance.now() - ts);
      acked += n;
    }
  };
  try {
    await Promise.all(Array.from({ length: cfg.concurrency }, lane));
  } finally {
    clearInterval(progress);
  }
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await producer.disconnect();

  latencies.sort((a, b) => a - b);
  const seconds = elapsedMs / 1000;
  const recordsPerSec = acked / seconds;
  post({
    type: 'result',
    records: acked, // the warm-up record is not counted (the topic holds records + 1)
    seconds,
    recordsPerSec,
    mbPerSec: (recordsPerSec * cfg.size) / (1024 * 1024), // ProducerPerformance's MB (2^20)
    sends: latencies.length,
    latAvgMs: latencies.reduce((s, x) => s + x, 0) / Math.max(1, latencies.length),
    latP50Ms: percentile(latencies, 50),
    latP99Ms: percentile(latencies, 99),
    latMaxMs: latencies[latencies.length - 1] ?? 0,
    cpuUserMs: cpu.user / 1000,
    cpuSysMs: cpu.system / 1000,
    maxRssKb: process.resourceUsage().maxRSS,
  });
}

runWorker(main);
