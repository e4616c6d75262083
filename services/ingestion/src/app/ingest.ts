// Taking usage in: who is sending (the API key, from the in-memory projection), what of it is
// acceptable (validated, normalized, metric known), and the acceptance itself: the records reach
// Kafka (acks=all) before the request is answered. Nothing here touches a database.
import { apiKeyDigest, API_KEY_PATTERN, authErrors } from '@usageflow/auth';
import { commonErrors, defineErrors, ProblemError } from '@usageflow/http';
import type { OutgoingMessage } from '@usageflow/kafka';
import { injectTraceHeaders } from '@usageflow/telemetry';
import type { IngestionSettings } from '../config';
import { normalizeCloudEvent } from '../domain/cloudevents';
import {
  normalizeBatch,
  normalizeUsageEvent,
  type AcceptedAt,
  type NormalizeOne,
  type NormalizeOptions,
  type RefusedAt,
} from '../domain/normalize';
import type { TokenBuckets } from '../domain/rate-limit';
import type { IngestionProjection, KeyRecord } from './projection';
import { QueueFullError, type SendQueue } from './send-queue';

/** The gateway's own error codes (besides the shared and auth ones). */
export const ingestionErrors = defineErrors({
  RATE_LIMITED: { status: 429, title: 'Too many events for this API key' },
  UNKNOWN_METRIC: { status: 422, title: 'The metric is not defined in your organization' },
  NOT_ACKNOWLEDGED: { status: 503, title: 'The events were not stored: retry with the same ids' },
});

/** The API key header (a person's JWT is not accepted here: ingestion is for machines). */
export const API_KEY_HEADER = 'x-usageflow-api-key';

export interface IngestContext {
  projection: IngestionProjection;
  queue: SendQueue;
  buckets: TokenBuckets;
  settings: IngestionSettings;
  /** Whether the projection has caught up with the identity and catalog topics. */
  ready: () => boolean;
  clock: () => Date;
  newId: () => string;
}

/** How the body was written: the product's own shape, or CloudEvents. */
export type BodyFormat = 'usage' | 'cloudevents';

/** The key a request is sent with; throws 401/403 problems. No I/O: a digest and a map lookup. */
export function authorize(ctx: IngestContext, header: string | string[] | undefined): KeyRecord {
  if (!ctx.ready()) {
    throw commonErrors.SERVICE_UNAVAILABLE('the gateway is still loading API keys; retry shortly', { retryAfter: 1 });
  }
  if (header === undefined || header === '') {
    throw authErrors.UNAUTHENTICATED(`send your API key in the ${API_KEY_HEADER} header`);
  }
  const key = Array.isArray(header) ? header[0]! : header;
  if (!API_KEY_PATTERN.test(key)) throw authErrors.API_KEY_INVALID('the API key is malformed');
  const digest = apiKeyDigest(key);
  const record = ctx.projection.keyByDigest(digest);
  if (!record) {
    if (ctx.projection.isRevoked(digest)) throw authErrors.API_KEY_REVOKED('the API key has been revoked');
    throw authErrors.API_KEY_INVALID('the API key is unknown');
  }
  if (!record.scopes.has('events:write'))
    throw commonErrors.FORBIDDEN('requires an API key with the events:write scope');
  return record;
}

/** Takes `count` events from the key's rate budget, or refuses with 429 and when to come back. */
export function charge(ctx: IngestContext, key: KeyRecord, count: number): void {
  const taken = ctx.buckets.take(key.apiKeyId, count, ctx.clock().getTime());
  if (taken.ok) return;
  if (taken.reason === 'EXCEEDS_BURST') {
    throw commonErrors.PAYLOAD_TOO_LARGE(`this API key may send at most ${taken.burst} events at once`);
  }
  {
    const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    throw ingestionErrors.RATE_LIMITED(`this API key may send ${ctx.settings.ratePerSecond} events per second`, {
      retryAfter: seconds,
    });
  }
}

/**
 * Validates and normalizes `inputs` for `key`'s organization, refusing metrics it has not defined
 * (unless it accepts unknown ones). Refused events carry their field errors; nothing is sent.
 */
export function check(ctx: IngestContext, key: KeyRecord, inputs: readonly unknown[], format: BodyFormat) {
  const receivedAt = ctx.clock();
  const options: NormalizeOptions = {
    receivedAt,
    // NOTE: a test-mode key feeds customers on test clocks, whose time can be anywhere: its
    // events are not bounded by the wall clock.
    maxFutureMs: key.mode === 'test' ? Infinity : ctx.settings.maxFutureMs,
    maxPastMs: key.mode === 'test' ? Infinity : ctx.settings.maxPastMs,
    newId: ctx.newId,
    apiKeyId: key.apiKeyId,
  };
  const normalizeOne: NormalizeOne = format === 'cloudevents' ? normalizeCloudEvent : normalizeUsageEvent;
  const batch = normalizeBatch(inputs, options, normalizeOne);
  const accepted: AcceptedAt[] = [];
  const refused: Refusal[] = batch.refused;
  for (const event of batch.accepted) {
    if (ctx.projection.acceptsMetric(key.organizationId, event.data.metric)) {
      accepted.push(event);
    } else {
      const field = format === 'cloudevents' ? 'type' : 'metric';
      const message = `${event.data.metric} is not a metric of your organization: create it first (POST /v1/metrics)`;
      refused.push({ index: event.index, errors: [{ field, message }], unknownMetric: true });
    }
  }
  refused.sort((a, b) => a.index - b.index);
  return { accepted, refused, receivedAt };
}

/** A refused event; `unknownMetric` when valid but for a metric the organization lacks. */
export interface Refusal extends RefusedAt {
  unknownMetric?: true;
}

/**
 * Produces the accepted events and resolves once Kafka acknowledged all of them (acks=all).
 * Refuses with 503 + Retry-After when the gateway holds too much already, when the produce
 * failed, or when no acknowledgement came within the timeout; the sender retries with the same
 * ids and aggregation counts each once.
 */
export async function produce(ctx: IngestContext, key: KeyRecord, accepted: readonly AcceptedAt[], receivedAt: Date) {
  if (accepted.length === 0) return;
  const messages = toRecords(key.organizationId, accepted, receivedAt, ctx.newId);
  let done: Promise<void>;
  try {
    done = ctx.queue.enqueue(messages);
  } catch (err) {
    if (err instanceof QueueFullError) {
      throw commonErrors.SERVICE_UNAVAILABLE('the gateway is at capacity; retry shortly', { retryAfter: 1 });
    }
    throw err;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ctx.settings.ackTimeoutMs);
  });
  try {
    const outcome = await Promise.race([done.then(() => 'acked' as const), timeout]);
    if (outcome === 'timeout') {
      // The records may still reach the topic later: a retry with the same ids is counted once.
      done.catch(() => undefined);
      throw ingestionErrors.NOT_ACKNOWLEDGED(`Kafka did not acknowledge within ${ctx.settings.ackTimeoutMs} ms`, {
        retryAfter: 1,
      });
    }
  } catch (err) {
    if (err instanceof ProblemError) throw err;
    throw ingestionErrors.NOT_ACKNOWLEDGED('Kafka refused or could not be reached', { retryAfter: 1 }, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/** The usage topic's records: one usage.recorded envelope each, keyed by organization + customer. */
export function toRecords(
  organizationId: string,
  accepted: readonly AcceptedAt[],
  receivedAt: Date,
  newId: () => string,
): OutgoingMessage[] {
  const occurredAt = receivedAt.toISOString();
  // One trace context per request: every record of it continues the request's span.
  const trace = injectTraceHeaders({});
  return accepted.map(({ data }) => {
    const id = newId();
    return {
      key: `${organizationId}:${data.customerId}`,
      value: JSON.stringify({
        id,
        type: 'usage.recorded',
        version: 1,
        organizationId,
        occurredAt,
        producer: 'ingestion',
        data,
      }),
      // NOTE: only the trace context. The other topics' records also carry content-type, event-id
      // and event-type headers (encodeEvent), but this topic holds one type, the id is in the
      // value, and each header costs the hot path about as much as the rest of the record.
      headers: trace,
    };
  });
}
