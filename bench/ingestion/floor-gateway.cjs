// @ts-check
'use strict';
/**
 * The floor of bench:ingestion: the least any gateway built on Node and the gateway's Kafka client
 * must do per event, run under the same load as the real gateway. Started by run.cjs (workload
 * `floor`), never deployed.
 *
 * It answers `POST` with 202 once Kafka acknowledged one record per event of the batch, and does
 * nothing else: no API key, no validation, no metric lookup, no logging, no tracing, no express.
 * What it keeps is what cannot be skipped: read and parse the body, write one record per event
 * (key organization:customer, a JSON value holding the event, padded to the real record's size,
 * one `traceparent` header), and produce them with the gateway's client and settings
 * (@platformatic/kafka, idempotent, acks=all, Java-compatible partitions) through a group commit
 * of one produce request in flight. The real gateway's rate divided by this one's says how much
 * of the machine the gateway's own work costs; this one's rate divided by ProducerPerformance's
 * says how much the Node client plus HTTP and JSON cost before any gateway logic.
 *
 * Environment: KAFKA_BROKERS, FLOOR_TOPIC, FLOOR_RECORD_BYTES (key + value + headers), PORT.
 * Listens once the topic's metadata is loaded; `GET /readyz` then answers 200, as the services'
 * does, so the benchmark starts it like one.
 */
const http = require('node:http');
const { randomUUID } = require('node:crypto');
/** @type {any} ECMAScript-only package: loaded with require(esm), Node >= 20.19 */
const kafka = require('@platformatic/kafka');

const topic = /** @type {string} */ (process.env.FLOOR_TOPIC);
const recordBytes = Number(process.env.FLOOR_RECORD_BYTES);
const port = Number(process.env.PORT);
const organizationId = randomUUID();
const traceparent = Buffer.from(`00-${randomUUID().replace(/-/g, '')}-${'0'.repeat(15)}1-01`);
const headers = new Map([[Buffer.from('traceparent'), traceparent]]);
const headerBytes = 'traceparent'.length + traceparent.length;

const producer = new kafka.Producer({
  clientId: 'bench-ingestion-floor',
  bootstrapBrokers: (process.env.KAFKA_BROKERS ?? '').split(','),
  idempotent: true,
  acks: kafka.ProduceAcks.ALL,
  autocreateTopics: false,
});

/** One record per event: the event in a JSON value padded so the record has the real size. */
function toRecord(/** @type {{ customerId?: unknown }} */ event) {
  const key = `${organizationId}:${String(event.customerId)}`;
  const json = JSON.stringify({ id: randomUUID(), organizationId, data: event });
  const room = recordBytes - Buffer.byteLength(key) - headerBytes - Buffer.byteLength(json);
  const value = room > 0 ? json + ' '.repeat(room) : json;
  return {
    topic,
    key: Buffer.from(key),
    value: Buffer.from(value),
    headers,
    partition: kafka.murmur2(key, true) & 0x7fffffff,
  };
}

/** @type {Array<{ records: any[], done: (err?: unknown) => void }>} */
let queue = [];
let sending = false;
function pump() {
  if (sending || queue.length === 0) return;
  const batch = queue;
  queue = [];
  sending = true;
  producer.send({ messages: batch.flatMap((p) => p.records) }).then(
    () => settle(batch),
    (/** @type {unknown} */ err) => settle(batch, err),
  );
}
function settle(/** @type {typeof queue} */ batch, /** @type {unknown} */ err) {
  sending = false;
  for (const p of batch) p.done(err);
  pump();
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(req.url === '/readyz' ? 200 : 404).end();
    return;
  }
  /** @type {Buffer[]} */
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const events = Array.isArray(body.events) ? body.events : [body];
    const records = events.map(toRecord);
    queue.push({
      records,
      done: (err) => {
        res.writeHead(err ? 503 : 202, { 'content-type': 'application/json' });
        res.end(err ? '{}' : `{"accepted":${records.length}}`);
      },
    });
    pump();
  });
});

producer.metadata({ topics: [topic] }).then(
  () => server.listen(port, '127.0.0.1'),
  (/** @type {unknown} */ err) => {
    console.error(err);
    process.exit(1);
  },
);
process.once('SIGTERM', () => {
  server.close();
  producer.close().finally(() => process.exit(0));
});
