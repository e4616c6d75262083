// @ts-check
'use strict';
/**
 * The load generator of bench:ingestion, forked once per measurement by bench/ingestion/run.cjs
 * so that its CPU time is its own and it never shares an event loop with the gateway under test.
 *
 * Input: one JSON argument (see LoadConfig). Output, over the IPC channel:
 *   { type: 'progress', requests, acceptedEvents, elapsedMs }   about every 2 s
 *   { type: 'result', ...LoadResult }                             once, at the end
 *   { type: 'error', message }                                    on failure (then exit 1)
 *
 * Two shapes of load, both over loopback HTTP/1.1 with keep-alive (node:http Agent):
 *   closed  `concurrency` lanes, each sending its next request when the previous one was
 *           answered, until `requests` were sent: the saturation throughput at that concurrency.
 *   open    requests started at a fixed `rate` for `durationSec`, whatever the answers do
 *           (at most `maxOutstanding` at once): latency at a given load. Latency is counted from
 *           when a request was due, not when it left, so a stall in the gateway (or here) shows
 *           up in the percentiles instead of quietly lowering the rate (coordinated omission).
 *
 * Every event carries an id of its own (`<idPrefix>-<n>`), one of 1,000 customer ids (so the
 * records spread over the usage topic's partitions as real traffic would) and properties that
 * bring it to about `eventBytes` bytes of JSON.
 */
const http = require('node:http');
const { performance } = require('node:perf_hooks');
const { percentile } = require('../lib/stats.cjs');
const { post, runWorker } = require('../lib/worker.cjs');

/**
 * @typedef {object} LoadConfig
 * @property {string} host
 * @property {number[]} ports          the gateways' ports; requests go to each in turn
 * @property {string} apiKey
 * @property {'single' | 'batch'} kind     POST /v1/events (one event) or /v1/events/batch
 * @property {number} batchSize            events per batch request
 * @property {number} eventBytes           target size of one event's JSON
 * @property {string} idPrefix             event ids are `<idPrefix>-<n>`: unique per measurement
 * @property {'closed' | 'open'} mode
 * @property {number} requests             closed: requests to send
 * @property {number} concurrency          closed: requests outstanding at once
 * @property {number} rate                 open: requests started per second
 * @property {number} durationSec          open: for how long
 * @property {number} maxOutstanding       open: the most requests outstanding at once
 * @property {number} warmupRequests       sent (closed, uncounted) before the measurement
 */

const CUSTOMERS = 1000;
/** Error answers kept verbatim (the first few), to say why requests failed. */
const ERROR_SAMPLES = 3;

/**
 * Builds event JSON of about `eventBytes` bytes: the fixed fields of a real API call event, then
 * a `note` property padded to the size. Ids and the timestamp vary; the rest is a template.
 * @param {LoadConfig} cfg
 */
function eventFactory(cfg) {
  const customers = Array.from({ length: CUSTOMERS }, (_, i) => `user_${String(i).padStart(6, '0')}`);
  const props = '"properties":{"region":"eu-west-1","model":"gpt-4o-mini","endpoint":"/v1/chat/completions"';
  const sample = (/** @type {string} */ note) =>
    `{"id":"${cfg.idPrefix}-000000000","metric":"API_CALL","amount":1,"customerId":"${customers[0]}",` +
    `"timestamp":"${new Date().toISOString()}",${props}${note}}}`;
  const bare = sample('').length;
  const room = cfg.eventBytes - bare - ',"note":""'.length;
  const note = room > 0 ? `,"note":"${'x'.repeat(room)}"` : '';
  let n = 0;
  let stamp = '';
  let stampAt = 0;
  return {
    eventBytes: sample(note).length,
    /** One event's JSON. */
    next() {
      const now = Date.now();
      // NOTE: a timestamp per 100 ms is enough to look like live traffic, and costs no client CPU.
      if (now - stampAt >= 100) {
        stamp = new Date(now).toISOString();
        stampAt = now;
      }
      const i = n++;
      return (
        `{"id":"${cfg.idPrefix}-${String(i).padStart(9, '0')}","metric":"API_CALL","amount":1,` +
        `"customerId":"${customers[i % CUSTOMERS]}","timestamp":"${stamp}",${props}${note}}}`
      );
    },
  };
}

/** @param {LoadConfig} cfg */
async function main(cfg) {
  const events = eventFactory(cfg);
  const sockets = cfg.mode === 'closed' ? cfg.concurrency : cfg.maxOutstanding;
  const agent = new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
  const path = cfg.kind === 'batch' ? '/v1/events/batch' : '/v1/events';
  const perRequest = cfg.kind === 'batch' ? cfg.batchSize : 1;

  const body = () => {
    if (cfg.kind === 'single') return events.next();
    let s = '{"events":[';
    for (let i = 0; i < cfg.batchSize; i++) s += (i === 0 ? '' : ',') + events.next();
    return s + ']}';
  };

  /**
   * Sends one request; resolves with the status and the events the gateway accepted.
   * @returns {Promise<{ status: number, accepted: number, text?: string }>}
   */
  let sent = 0;
  const send = () =>
    new Promise((resolve, reject) => {
      const payload = Buffer.from(body());
      const req = http.request(
        {
          agent,
          host: cfg.host,
          port: cfg.ports[sent++ % cfg.ports.length],
          method: 'POST',
          path,
          headers: {
            'content-type': 'application/json',
            'content-length': payload.length,
            'x-usageflow-api-key': cfg.apiKey,
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          if (status === 202) {
            // 202: every event of the request was acknowledged by Kafka; the body is not needed.
            res.resume();
            res.once('end', () => resolve({ status, accepted: perRequest }));
            return;
          }
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (/** @type {string} */ c) => (text += c));
          res.once('end', () => {
            let accepted = 0;
            if (status === 207) {
              try {
                accepted = Number(JSON.parse(text).accepted) || 0;
              } catch {
                accepted = 0;
              }
            }
            resolve({ status, accepted, text: text.slice(0, 500) });
          });
        },
      );
      req.once('error', reject);
      req.end(payload);
    });

  /** @type {Record<string, number>} */
  const statuses = {};
  /** @type {string[]} */
  const errorSamples = [];
  let acceptedEvents = 0;
  let completed = 0;
  let transportErrors = 0;
  /** @param {{ status: number, accepted: number, text?: string }} r */
  const count = (r) => {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    acceptedEvents += r.accepted;
    if (r.status !== 202 && errorSamples.length < ERROR_SAMPLES) errorSamples.push(`${r.status} ${r.text ?? ''}`);
  };

  // Warm-up: connections opened, both sides' JIT past the first requests; not counted.
  {
    let left = cfg.warmupRequests;
    const lanes = Array.from({ length: Math.min(sockets, Math.max(1, left)) }, async () => {
      while (left-- > 0) await send();
    });
    if (cfg.warmupRequests > 0) await Promise.all(lanes);
  }

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const progress = setInterval(
    () => post({ type: 'progress', requests: completed, acceptedEvents, elapsedMs: performance.now() - t0 }),
    2000,
  );
  /** @type {number[]} */
  const latencies = [];
  /** open: the most a request started after it was due (the generator's own lag). */
  let maxIssueLagMs = 0;

  /** @param {number} startedAt when the request was due (open) or sent (closed) */
  const once = async (startedAt) => {
    try {
      count(await send());
    } catch (err) {
      transportErrors++;
      if (errorSamples.length < ERROR_SAMPLES) errorSamples.push(`transport: ${/** @type {Error} */ (err).message}`);
    }
    latencies.push(performance.now() - startedAt);
    completed++;
  };

  if (cfg.mode === 'closed') {
    let issued = 0;
    const lanes = Array.from({ length: cfg.concurrency }, async () => {
      while (issued < cfg.requests) {
        issued++;
        await once(performance.now());
      }
    });
    await Promise.all(lanes);
  } else {
    const total = Math.max(1, Math.round(cfg.rate * cfg.durationSec));
    const interval = 1000 / cfg.rate;
    let issued = 0;
    let outstanding = 0;
    /** @type {Promise<void>[]} */
    const inFlight = [];
    await new Promise((resolve) => {
      const tick = () => {
        const now = performance.now();
        while (issued < total && t0 + issued * interval <= now) {
          // Held back at the cap: it goes on a later tick, its latency still counted from when it was due.
          if (outstanding >= cfg.maxOutstanding) break;
          const due = t0 + issued * interval;
          maxIssueLagMs = Math.max(maxIssueLagMs, now - due);
          issued++;
          outstanding++;
          inFlight.push(once(due).then(() => void outstanding--));
        }
        if (issued >= total) {
          clearInterval(timer);
          resolve(undefined);
        }
      };
      // A 1 ms timer: requests due in between are sent together on the next tick (at most 1 ms
      // late, counted in their latency).
      const timer = setInterval(tick, 1);
      tick();
    });
    await Promise.all(inFlight);
  }

  const seconds = (performance.now() - t0) / 1000;
  clearInterval(progress);
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  post({
    type: 'result',
    requests: completed,
    acceptedEvents,
    statuses,
    transportErrors,
    errorSamples,
    maxIssueLagMs,
    seconds,
    requestsPerSec: completed / seconds,
    eventsPerSec: acceptedEvents / seconds,
    eventBytes: events.eventBytes,
    bodyBytes: Buffer.byteLength(body()),
    latMeanMs: latencies.reduce((s, x) => s + x, 0) / Math.max(1, latencies.length),
    latP50Ms: percentile(sorted, 50),
    latP90Ms: percentile(sorted, 90),
    latP99Ms: percentile(sorted, 99),
    latP999Ms: percentile(sorted, 99.9),
    latMaxMs: sorted.length ? sorted[sorted.length - 1] : 0,
    cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssKb: process.resourceUsage().maxRSS,
  });
}

runWorker(main);
