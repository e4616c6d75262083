// The ingestion gateway's own settings (the common ones are parsed by the runtime). Every limit
// here bounds memory or time on the hot path; docs/ingestion.md explains each.
import { TOPICS } from '@usageflow/contracts';
import { ConfigError, loadConfig, num, str } from '@usageflow/config';

const spec = {
  INGEST_MAX_BATCH_EVENTS: num({ default: 1000, desc: 'the most events one batch request may carry' }),
  INGEST_MAX_BODY_BYTES: num({ default: 1_048_576, desc: 'the largest request body (413 beyond)' }),
  INGEST_MAX_FUTURE_SECONDS: num({ default: 300, desc: 'how far ahead of receipt a timestamp may lie (clock skew)' }),
  INGEST_MAX_PAST_DAYS: num({ default: 35, desc: 'how far before receipt a timestamp may lie (live keys)' }),
  INGEST_RATE_EVENTS_PER_SECOND: num({ default: 100_000, desc: 'sustained events per second per API key' }),
  INGEST_RATE_BURST_EVENTS: num({ default: 200_000, desc: 'events an API key may send at once after a pause' }),
  INGEST_MAX_IN_FLIGHT_EVENTS: num({ default: 200_000, desc: 'accepted events waiting for Kafka (503 beyond)' }),
  INGEST_ACK_TIMEOUT_MS: num({ default: 5_000, desc: 'how long a request waits for Kafka before 503' }),
  INGEST_SEND_MAX_EVENTS: num({ default: 10_000, desc: 'the most events one produce request carries' }),
  INGEST_USAGE_TOPIC: str({
    default: TOPICS.usageEvents,
    desc: 'the topic accepted events go to (benchmarks use a scratch one)',
  }),
  INGEST_LINGER_MS: num({
    default: 0,
    desc: 'how long a produce waits to gather more events (0: only while one is in flight)',
  }),
};

/** The gateway's settings, checked. */
export interface IngestionSettings {
  maxBatchEvents: number;
  maxBodyBytes: number;
  maxFutureMs: number;
  maxPastMs: number;
  ratePerSecond: number;
  rateBurst: number;
  maxInFlightEvents: number;
  ackTimeoutMs: number;
  sendMaxEvents: number;
  lingerMs: number;
  usageTopic: string;
}

/** The defaults, for tests and in-process wiring. */
export const DEFAULT_INGESTION_SETTINGS: IngestionSettings = toSettings(loadConfig(spec, {}));

/** Parses and checks the gateway's settings. */
export function ingestionConfig(env: Record<string, string | undefined>): IngestionSettings {
  const c = loadConfig(spec, env);
  const problems: Record<string, string> = {};
  for (const name of Object.keys(spec) as (keyof typeof spec)[]) {
    const value = c[name];
    if (typeof value !== 'number') continue;
    const zeroAllowed = name === 'INGEST_LINGER_MS';
    if (!Number.isInteger(value) || value < (zeroAllowed ? 0 : 1))
      problems[name] = zeroAllowed ? 'must be a whole number >= 0' : 'must be a whole number >= 1';
  }
  if (c.INGEST_RATE_BURST_EVENTS < c.INGEST_MAX_BATCH_EVENTS)
    problems.INGEST_RATE_BURST_EVENTS = 'must be at least INGEST_MAX_BATCH_EVENTS, or a full batch could never pass';
  if (Object.keys(problems).length) throw new ConfigError(problems);
  return toSettings(c);
}

function toSettings(c: ReturnType<typeof loadConfig<typeof spec>>): IngestionSettings {
  return {
    maxBatchEvents: c.INGEST_MAX_BATCH_EVENTS,
    maxBodyBytes: c.INGEST_MAX_BODY_BYTES,
    maxFutureMs: c.INGEST_MAX_FUTURE_SECONDS * 1000,
    maxPastMs: c.INGEST_MAX_PAST_DAYS * 86_400_000,
    ratePerSecond: c.INGEST_RATE_EVENTS_PER_SECOND,
    rateBurst: c.INGEST_RATE_BURST_EVENTS,
    maxInFlightEvents: c.INGEST_MAX_IN_FLIGHT_EVENTS,
    ackTimeoutMs: c.INGEST_ACK_TIMEOUT_MS,
    sendMaxEvents: c.INGEST_SEND_MAX_EVENTS,
    lingerMs: c.INGEST_LINGER_MS,
    usageTopic: c.INGEST_USAGE_TOPIC,
  };
}
