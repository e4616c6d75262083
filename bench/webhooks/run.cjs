// @ts-check
'use strict';
/**
 * bench:webhooks — signed webhook deliveries per second to a local receiver, and how long an
 * event takes from the topic to the receiver (p50/p99), against a bare HTTP POST loop to the same
 * receiver in the same run (the baseline PERFORMANCE.md names).
 *
 *   npm run bench:webhooks                                  (launcher: infra + build, then this file)
 *   DATABASE_URL=... KAFKA_BROKERS=... node bench/webhooks/run.cjs
 *
 * Each round: a scratch schema and topic; ENDPOINTS endpoints of one organization pointing at one
 * local receiver (answering 204, in a child process: the peak RSS printed is the service's); a burst of EVENTS invoice.created events produced to the topic
 * and drained by the service's own fan-out and dispatcher (built from dist, in this process):
 * deliveries/s. Then events at half that rate for 8 s: latency is each arrival − its event's
 * produce time (p50/p99), as PERFORMANCE.md's p99 target means it.
 *
 * Knobs (env): BENCH_RUNS=3, BENCH_EVENTS=5000, BENCH_ENDPOINTS=2, BENCH_POLL_MS=250,
 *              BENCH_ENDPOINT_CONCURRENCY=8
 */
const path = require('node:path');
const http = require('node:http');
const fs = require('node:fs');
const { randomUUID, randomBytes } = require('node:crypto');
const { fork } = require('node:child_process');

const ROOT = path.resolve(__dirname, '../..');
const { createDatabase, migrate, messagingMigrations } = require(path.join(ROOT, 'packages/db/dist'));
const { idempotencyMigration } = require(path.join(ROOT, 'packages/http/dist'));
const { serviceAuthMigrations } = require(path.join(ROOT, 'packages/auth/dist'));
const { createKafkaClient, EventProducer, ensureTopics, encodeEvent } = require(path.join(ROOT, 'packages/kafka/dist'));
const { createLogger } = require(path.join(ROOT, 'packages/telemetry/dist'));
const { EVENT_CATALOG } = require(path.join(ROOT, 'packages/contracts/dist'));
const wd = path.join(ROOT, 'services/webhook-dispatch/dist');
const { buildWebhookDispatch } = require(path.join(wd, 'service'));
const { webhookMigrations } = require(path.join(wd, 'adapters/db/migrations'));
const { DEFAULT_WEBHOOK_SETTINGS } = require(path.join(wd, 'config'));
const { generateSecret } = require(path.join(wd, 'domain/signing'));

const { percentile, median } = require('../lib/stats.cjs');

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const RUNS = env('BENCH_RUNS', 3);
const EVENTS = env('BENCH_EVENTS', 5000);
const ENDPOINTS = env('BENCH_ENDPOINTS', 2);
const POLL_MS = env('BENCH_POLL_MS', 250);
const CONCURRENCY = env('BENCH_ENDPOINT_CONCURRENCY', 8);

const log = (line) => process.stdout.write(`[bench:webhooks ${process.uptime().toFixed(1)}s] ${line}\n`);
const peakRssMb = () => {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

/**
 * A receiver answering 204 that stamps each arrival by webhook-id, in a child process
 * (receiver-worker.cjs), so this process's peak RSS is the service's and the load's.
 */
async function startReceiver() {
  /** @type {Array<{ at: number, id: string }>} */
  const arrivals = [];
  const child = fork(path.join(__dirname, 'receiver-worker.cjs'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const port = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the receiver exited (${code}) before listening`)));
    child.on('message', (/** @type {any} */ m) => {
      if (m.port) resolve(m.port);
      if (m.arrivals) for (const [at, id] of m.arrivals) arrivals.push({ at, id });
    });
  });
  child.removeAllListeners('exit');
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    arrivals,
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(undefined);
        child.once('exit', resolve);
        child.send('close');
      }),
  };
}

/** The baseline: POST the same body to the receiver, `concurrency` requests at a time, n in all. */
async function bareLoop(port, body, n, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const lat = [];
  let next = 0;
  const started = Date.now();
  const lane = async () => {
    while (next < n) {
      next += 1;
      const t = process.hrtime.bigint();
      await new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: '/hooks',
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  agent.destroy();
  const seconds = (Date.now() - started) / 1000;
  lat.sort((a, b) => a - b);
  return { perSec: n / seconds, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

async function round(i, infra) {
  const logger = createLogger({ service: 'bench-webhooks', level: 'warn' });
  const schema = `bench_webhooks_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const db = createDatabase({ url: infra.databaseUrl, schema, poolMax: 10 });
  const kafka = createKafkaClient({ brokers: infra.brokers, clientId: 'bench-webhooks', logger });
  const producer = new EventProducer(kafka, { logger });
  const topic = `bench.webhooks.${randomUUID().slice(0, 8)}`;
  const receiver = await startReceiver();
  let service;
  try {
    await migrate(db, schema, [
      ...messagingMigrations,
      idempotencyMigration,
      ...serviceAuthMigrations,
      ...webhookMigrations,
    ]);
    await producer.connect();
    await ensureTopics(kafka, [{ topic, numPartitions: 3 }]);
    const org = randomUUID();
    const now = new Date();
    await db('webhook_endpoints').insert(
      Array.from({ length: ENDPOINTS }, () => ({
        id: randomUUID(),
        organization_id: org,
        url: receiver.url,
        event_types: ['invoice.created'],
        enabled: true,
        secret: generateSecret(randomBytes),
        created_at: now,
        updated_at: now,
      })),
    );
    service = buildWebhookDispatch({
      db,
      kafka,
      producer,
      logger,
      identityProjection: false,
      config: {
        ...DEFAULT_WEBHOOK_SETTINGS,
        allowHttp: true,
        allowedAddresses: ['127.0.0.0/8'],
        pollIntervalMs: POLL_MS,
        endpointConcurrency: CONCURRENCY,
      },
      fanout: { topics: [topic], groupId: `bench-webhooks-${randomUUID()}` },
    });
    for (const w of service.workers) await w.start();

    const example = EVENT_CATALOG['invoice.created'].examples[0];
    const producedAt = new Map();
    /** Produces `n` events in sends of `chunk`, one send every `everyMs` (0: back to back). */
    const produce = async (n, chunk, everyMs) => {
      for (let sent = 0; sent < n; sent += chunk) {
        const due = Date.now() + everyMs;
        const events = Array.from({ length: Math.min(chunk, n - sent) }, () => ({
          ...example,
          id: randomUUID(),
          organizationId: org,
          occurredAt: new Date().toISOString(),
        }));
        await producer.send(
          topic,
          events.map((e) => encodeEvent(e).message),
        );
        const at = Date.now();
        for (const e of events) producedAt.set(e.id, at);
        if (everyMs > 0) await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      }
    };
    const arrived = async (expected) => {
      const t0 = Date.now();
      while (receiver.arrivals.length < expected) {
        if (Date.now() - t0 > 300_000)
          throw new Error(`only ${receiver.arrivals.length} of ${expected} arrived in 5 min`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    // Throughput: a burst of EVENTS events, drained as fast as the dispatcher can.
    const started = Date.now();
    await produce(EVENTS, 500, 0);
    const expected = EVENTS * ENDPOINTS;
    await arrived(expected);
    const seconds = (receiver.arrivals[receiver.arrivals.length - 1].at - started) / 1000;
    const perSec = expected / seconds;
    // Latency: events at half that rate for 8 s, each from its produce to the receiver.
    const steadyEventsPerSec = Math.max(1, Math.floor(perSec / 2 / ENDPOINTS));
    await produce(steadyEventsPerSec * 8, Math.max(1, Math.floor(steadyEventsPerSec / 20)), 50);
    await arrived(expected + steadyEventsPerSec * 8 * ENDPOINTS);
    const ids = await db('webhook_deliveries').select('id', 'event_id');
    const eventOf = new Map(ids.map((r) => [r.id, r.event_id]));
    const lat = receiver.arrivals
      .slice(expected)
      .map((a) => a.at - producedAt.get(eventOf.get(a.id)))
      .sort((a, b) => a - b);
    const result = { perSec, p50: percentile(lat, 50), p99: percentile(lat, 99) };
    log(
      `round ${i}: burst of ${expected} deliveries in ${seconds.toFixed(1)}s = ${Math.round(perSec)}/s; ` +
        `at ${steadyEventsPerSec * ENDPOINTS}/s (half of it) topic → receiver p50 ${result.p50} ms, p99 ${result.p99} ms`,
    );
    const body = JSON.stringify({ type: 'invoice.created', timestamp: example.occurredAt, data: example.data });
    const base = await bareLoop(receiver.port, body, expected, CONCURRENCY * ENDPOINTS);
    log(
      `round ${i}: bare POST loop ${Math.round(base.perSec)}/s, p50 ${base.p50.toFixed(2)} ms, p99 ${base.p99.toFixed(2)} ms`,
    );
    return { result, base };
  } finally {
    if (service) for (const w of [...service.workers].reverse()) await w.stop();
    await receiver.close();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await producer.disconnect();
    await db.raw('drop schema if exists ?? cascade', [schema]);
    await db.destroy();
  }
}

async function main() {
  const databaseUrl = process.env.DATABASE_URL;
  const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
  if (!databaseUrl || brokers.length === 0)
    throw new Error('DATABASE_URL and KAFKA_BROKERS must be set: run `npm run bench:webhooks`');
  log(
    `${RUNS} rounds: ${EVENTS} invoice.created × ${ENDPOINTS} endpoints, endpoint concurrency ${CONCURRENCY}, poll ${POLL_MS} ms`,
  );
  const rounds = [];
  for (let i = 1; i <= RUNS; i++) rounds.push(await round(i, { databaseUrl, brokers }));
  const m = (pick) => median(rounds.map(pick));
  const perSec = m((r) => r.result.perSec);
  const basePerSec = m((r) => r.base.perSec);
  process.stdout.write(
    `\nbench:webhooks — medians of ${RUNS} rounds (${EVENTS * ENDPOINTS} deliveries each)\n` +
      `| workload | per s | p50 ms | p99 ms |\n|---|---:|---:|---:|\n` +
      `| signed deliveries (burst; latency at half that rate, topic → receiver) | ${Math.round(perSec)} | ${m((r) => r.result.p50)} | ${m((r) => r.result.p99)} |\n` +
      `| bare POST loop (baseline) | ${Math.round(basePerSec)} | ${m((r) => r.base.p50).toFixed(2)} | ${m((r) => r.base.p99).toFixed(2)} |\n` +
      `ratio deliveries / bare POSTs: ${(perSec / basePerSec).toFixed(2)}x; peak RSS of this process (the service + the load producing its events; the receiver runs apart): ${Math.round(peakRssMb())} MB\n` +
      `targets (PERFORMANCE.md): >= 1,000 deliveries/s (${perSec >= 1000 ? 'met' : 'NOT met'}), p99 < 100 ms (${m((r) => r.result.p99) < 100 ? 'met' : 'NOT met'})\n`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:webhooks failed: ${err.stack ?? err}\n`);
    process.exit(1);
  },
);
