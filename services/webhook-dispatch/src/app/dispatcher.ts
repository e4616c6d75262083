// The dispatcher: sends due deliveries and records each attempt. Any number of replicas may run.
//
// Claiming is a lease, not a long transaction: a short transaction picks due rows with
// FOR UPDATE SKIP LOCKED (replicas never pick the same row) and pushes their next_attempt_at
// past the attempt's deadline. The row stays PENDING; only recording the attempt moves it on.
// So a crash at any point loses nothing: the lease runs out and the row is claimed again, by this
// or another replica, and sent with the same webhook-id (at-least-once; the receiver
// deduplicates by that id). No database connection is held while a receiver takes its time.
//
// Concurrency is bounded per endpoint (`endpointConcurrency` attempts in flight) and in total
// (`maxInFlight`), so a slow endpoint fills only its own slots: endpoints at their limit are left
// out of the next claim, and the others keep flowing.
//
// Deliveries of a disabled endpoint (by its owner, or automatically for failing) are not sent
// and stay PENDING: enabling the endpoint again resumes them where they were. A deleted endpoint
// takes its deliveries with it (on delete cascade), so nothing of it is ever sent again.
import { buildEvent } from '@usageflow/contracts';
import { appendToOutbox } from '@usageflow/db';
import { meter, type Logger } from '@usageflow/telemetry';
import { randomUUID } from 'node:crypto';
import { isSuccess, sendWebhook, type AttemptResult, type Sender } from '../adapters/http/sender';
import { shouldDisable } from '../domain/endpoint-health';
import { nextAttemptDelayMs } from '../domain/retry-schedule';
import { PRODUCER, type WebhookContext } from './context';
import type { DeliveryRow } from './deliveries';
import type { EndpointRow } from './endpoints';
import { SuccessRecorder } from './success-recorder';

/** How the dispatcher runs; everything has a production default. */
export interface DispatcherOptions {
  /** Attempts in flight in this process at most, over all endpoints (bounds memory and sockets). */
  maxInFlight?: number;
  /**
   * The wait before the next attempt once `attempt` attempts failed, or null when none is left.
   * Default: the domain schedule (about three days, with jitter). Tests shorten it.
   */
  retryDelayMs?: (attempt: number, random: () => number) => number | null;
  /** How long a claim holds a delivery before another replica may take it (default: timeout + 30 s). */
  leaseMs?: number;
  /** Sends one attempt (default: the HTTP sender). */
  send?: Sender;
}

/** A claimed delivery with the endpoint it goes to (read in the same statement). */
export type ClaimedDelivery = DeliveryRow & { endpoint: EndpointRow };

/** Attempts in flight per process by default. */
export const DEFAULT_MAX_IN_FLIGHT = 100;

/**
 * How many deliveries per free slot a claim takes ahead. Kept small: a waiting delivery's lease
 * (timeout + 30 s) must outlast the attempts queued before it.
 */
const PREFETCH = 2;

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}

// Longer than any attempt can take, so a live sender's claim never runs out under it.
const LEASE_MARGIN_MS = 30_000;
// Error text kept with an attempt: enough to diagnose, never a whole response.
const MAX_ERROR_LENGTH = 500;

/**
 * Claims due deliveries for sending: at most `limit` in all, and per endpoint no more than
 * `perEndpoint` minus the attempts already in flight to it (`busy`). Claimed rows stay PENDING
 * with next_attempt_at moved to `leaseUntil`.
 */
export async function claimDue(
  ctx: WebhookContext,
  input: { now: Date; leaseUntil: Date; limit: number; perEndpoint: number; busy: ReadonlyMap<string, number> },
): Promise<ClaimedDelivery[]> {
  const { now, leaseUntil, limit, perEndpoint, busy } = input;
  if (limit <= 0) return [];
  const saturated = [...busy].filter(([, n]) => n >= perEndpoint).map(([id]) => id);
  // Look at a few more due rows than can be taken, so the per-endpoint cap still fills the limit
  // when one endpoint has a long queue.
  const scan = Math.min(1_000, Math.max(100, limit * 10));
  const { rows } = await ctx.db.raw<{ rows: ClaimedDelivery[] }>(
    `with due as (
       select d.id, d.endpoint_id, d.next_attempt_at
         from webhook_deliveries d
         join webhook_endpoints e on e.id = d.endpoint_id and e.organization_id = d.organization_id and e.enabled
        where d.status = 'PENDING' and d.next_attempt_at <= ?
          and d.endpoint_id <> all (?::uuid[])
        order by d.next_attempt_at
        limit ?
     ), ranked as (
       select due.id, due.next_attempt_at,
              row_number() over (partition by due.endpoint_id order by due.next_attempt_at, due.id)
                + coalesce(busy.n, 0) as slot
         from due
         left join unnest(?::uuid[], ?::int[]) as busy(endpoint_id, n) on busy.endpoint_id = due.endpoint_id
     ), picked as (
       select d.id
         from ranked r
         join webhook_deliveries d on d.id = r.id
        where r.slot <= ?
          -- checked again on the locked row: another replica may have just recorded it
          and d.status = 'PENDING' and d.next_attempt_at <= ?
        order by r.next_attempt_at, r.id
        limit ?
          for update of d skip locked
     )
     update webhook_deliveries d
        set next_attempt_at = ?, updated_at = ?
       from picked
      where d.id = picked.id
     returning d.*, (select row_to_json(e) from webhook_endpoints e where e.id = d.endpoint_id) as endpoint`,
    [now, saturated, scan, [...busy.keys()], [...busy.values()], perEndpoint, now, limit, leaseUntil, now],
  );
  return rows;
}

/** What recording an attempt did to its delivery. */
export type AttemptOutcome = 'DELIVERED' | 'RETRY' | 'FAILED' | 'SUPERSEDED' | 'ENDPOINT_GONE';

/** The worker that sends due deliveries every `pollIntervalMs`; `stop()` waits for attempts in flight. */
export class Dispatcher {
  readonly name = 'webhook-dispatcher';
  private readonly logger: Logger;
  private readonly maxInFlight: number;
  private readonly retryDelayMs: (attempt: number, random: () => number) => number | null;
  private readonly leaseMs: number;
  private readonly send: Sender;
  private readonly successes: SuccessRecorder;
  /** Attempts in flight, and how many of them go to each endpoint. */
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sending = new Map<string, number>();
  /**
   * Claimed deliveries waiting for a free slot of their endpoint, and per endpoint how many are
   * claimed in all (waiting + sending). A claim takes up to PREFETCH times an endpoint's
   * concurrency, so a finished attempt starts the next one at once instead of a claim per slot.
   */
  private readonly waiting = new Map<string, ClaimedDelivery[]>();
  private readonly busy = new Map<string, number>();
  private waitingCount = 0;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private woken = false;
  private readonly metrics = {
    attempts: meter('usageflow.webhooks').createCounter('usageflow.webhooks.attempts', {
      description: 'webhook attempts recorded, by outcome',
    }),
    latency: meter('usageflow.webhooks').createHistogram('usageflow.webhooks.attempt_latency', {
      description: 'time from sending a webhook to its answer (or failure)',
      unit: 'ms',
    }),
    disabled: meter('usageflow.webhooks').createCounter('usageflow.webhooks.endpoints_disabled', {
      description: 'endpoints disabled because every attempt failed for too long',
    }),
  };

  constructor(
    private readonly ctx: WebhookContext,
    options: DispatcherOptions = {},
  ) {
    this.logger = ctx.logger.child({ component: 'webhook-dispatcher' });
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.retryDelayMs = options.retryDelayMs ?? nextAttemptDelayMs;
    this.leaseMs = options.leaseMs ?? ctx.settings.timeoutMs + LEASE_MARGIN_MS;
    this.send = options.send ?? sendWebhook;
    this.successes = new SuccessRecorder(ctx);
    if (!(this.maxInFlight >= 1)) throw new Error('maxInFlight must be at least 1');
  }

  /** Starts polling in the background. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Claims no more, and resolves once every attempt in flight is recorded. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    // Claimed but never attempted: give them back now rather than leave them to their lease.
    const unsent = [...this.waiting.values()].flat();
    this.waiting.clear();
    this.waitingCount = 0;
    if (unsent.length > 0) {
      await this.ctx
        .db('webhook_deliveries')
        .whereIn(
          'id',
          unsent.map((d) => d.id),
        )
        .andWhere({ status: 'PENDING' })
        .update({ next_attempt_at: this.ctx.clock() })
        .catch((err: unknown) => this.logger.warn({ err }, 'claimed deliveries left to their lease'));
    }
  }

  /**
   * New deliveries were created in this process: claim now instead of at the next poll (other
   * replicas find them at their next poll).
   */
  nudge(): void {
    this.woken = true;
    this.wake?.();
  }

  /** Claims what is due and starts sending it; returns how many were claimed. */
  async tick(): Promise<number> {
    const room = this.maxInFlight * PREFETCH - this.inFlight.size - this.waitingCount;
    if (room <= 0) return 0;
    const now = this.ctx.clock();
    const claimed = await claimDue(this.ctx, {
      now,
      leaseUntil: new Date(now.getTime() + this.leaseMs),
      limit: room,
      perEndpoint: this.ctx.settings.endpointConcurrency * PREFETCH,
      busy: this.busy,
    });
    for (const delivery of claimed) {
      const id = delivery.endpoint_id;
      this.busy.set(id, (this.busy.get(id) ?? 0) + 1);
      const queue = this.waiting.get(id) ?? [];
      queue.push(delivery);
      this.waiting.set(id, queue);
      this.waitingCount += 1;
    }
    for (const id of new Set(claimed.map((d) => d.endpoint_id))) this.drain(id);
    return claimed.length;
  }

  /** Starts the waiting deliveries of an endpoint while it has free slots (and the process has room). */
  private drain(endpointId: string): void {
    const queue = this.waiting.get(endpointId);
    while (
      queue &&
      queue.length > 0 &&
      (this.sending.get(endpointId) ?? 0) < this.ctx.settings.endpointConcurrency &&
      this.inFlight.size < this.maxInFlight
    ) {
      this.waitingCount -= 1;
      this.launch(queue.shift()!);
    }
    if (queue && queue.length === 0) this.waiting.delete(endpointId);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      this.woken = false;
      try {
        await this.tick();
        failures = 0;
      } catch (err) {
        failures++;
        this.logger.error({ err, failures }, 'claiming due webhook deliveries failed; trying again');
      }
      // A finished attempt frees a slot: it wakes the loop early, so a busy endpoint's queue
      // does not wait a whole poll interval per slot.
      if (!this.stopping && !this.woken) {
        await this.pause(
          failures
            ? Math.min(10_000, this.ctx.settings.pollIntervalMs * 2 ** failures)
            : this.ctx.settings.pollIntervalMs,
        );
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private launch(delivery: ClaimedDelivery): void {
    const endpointId = delivery.endpoint_id;
    this.sending.set(endpointId, (this.sending.get(endpointId) ?? 0) + 1);
    const attempt = this.attempt(delivery).finally(() => {
      decrement(this.sending, endpointId);
      decrement(this.busy, endpointId);
      this.inFlight.delete(attempt);
      // The next waiting delivery of this endpoint (or another's, if the process was full).
      if (!this.stopping) {
        this.drain(endpointId);
        for (const id of this.waiting.keys()) this.drain(id);
      }
      this.woken = true;
      this.wake?.();
    });
    this.inFlight.add(attempt);
  }

  /** Sends one attempt and records it; never throws (a failure leaves the claim to run out). */
  private async attempt(delivery: ClaimedDelivery): Promise<void> {
    const log = this.logger.child({
      organizationId: delivery.organization_id,
      endpointId: delivery.endpoint_id,
      deliveryId: delivery.id,
      eventId: delivery.event_id,
    });
    const at = this.ctx.clock();
    let result: AttemptResult;
    try {
      result = await this.send(this.ctx, delivery.endpoint, delivery);
    } catch (err) {
      log.error({ err }, 'webhook sender failed');
      result = { statusCode: null, latencyMs: Date.now() - at.getTime(), error: 'internal error while sending' };
    }
    try {
      // Successes are recorded in groups (success-recorder.ts); a failure decides retries and
      // the endpoint's health in a transaction of its own.
      const { outcome, disabled } = isSuccess(result)
        ? { outcome: await this.successes.add({ delivery, result, at }), disabled: null }
        : await this.record(delivery, result, at);
      this.metrics.attempts.add(1, { outcome });
      this.metrics.latency.record(result.latencyMs, { success: String(isSuccess(result)) });
      log.debug(
        { attempt: delivery.attempt_count + 1, statusCode: result.statusCode, latencyMs: result.latencyMs, outcome },
        'webhook attempt recorded',
      );
      if (outcome === 'FAILED') log.warn({ attempts: delivery.attempt_count + 1 }, 'webhook delivery failed for good');
      if (disabled) {
        this.metrics.disabled.add(1);
        // The owners are told by e-mail (the webhook_endpoint.disabled event, written with it).
        log.warn(
          { failingSince: disabled.toISOString() },
          `webhook endpoint ${delivery.endpoint_id} of organization ${delivery.organization_id} disabled: ` +
            `every attempt failed since ${disabled.toISOString()}`,
        );
      }
    } catch (err) {
      // At-least-once: the claim runs out and the delivery is sent again with the same webhook-id.
      log.error({ err }, 'webhook attempt not recorded; the delivery will be tried again');
    }
  }

  /**
   * Records a failed attempt in one transaction: the attempt row, the delivery's next state
   * (retry or failed for good), and the endpoint's health. Only the holder of the claim records:
   * if the delivery moved on meanwhile (another replica took it after the claim ran out and
   * recorded first), this attempt is dropped.
   */
  private async record(
    delivery: ClaimedDelivery,
    result: AttemptResult,
    at: Date,
  ): Promise<{ outcome: AttemptOutcome; disabled: Date | null }> {
    const { ctx } = this;
    return ctx.db.transaction(async (trx) => {
      const now = ctx.clock();
      // The endpoint first, locked: the same order as deleting one (endpoint, then its
      // deliveries by cascade), so the two never deadlock. Successes share this lock
      // (success-recorder.ts); a failure may change the endpoint's health and takes it alone.
      const endpoint = await trx<EndpointRow>('webhook_endpoints')
        .where({ id: delivery.endpoint_id })
        .forUpdate()
        .first('enabled', 'failing_since');
      if (!endpoint) return { outcome: 'ENDPOINT_GONE' as const, disabled: null };

      const attempt = delivery.attempt_count + 1;
      const delay = this.retryDelayMs(attempt, ctx.random);
      const outcome: AttemptOutcome = delay === null ? 'FAILED' : 'RETRY';
      const moved = await trx('webhook_deliveries')
        .where({ id: delivery.id, status: 'PENDING', attempt_count: delivery.attempt_count })
        .update({
          status: outcome === 'RETRY' ? 'PENDING' : outcome,
          attempt_count: attempt,
          next_attempt_at: delay === null ? null : new Date(now.getTime() + delay),
          updated_at: now,
        });
      if (moved === 0) return { outcome: 'SUPERSEDED' as const, disabled: null };
      await trx('webhook_attempts').insert({
        delivery_id: delivery.id,
        attempt,
        at,
        status_code: result.statusCode,
        latency_ms: Math.max(0, Math.trunc(result.latencyMs)),
        error: result.error === null ? null : result.error.slice(0, MAX_ERROR_LENGTH),
      });

      // Health: a failure starts or continues the endpoint's failure streak (a success ends it);
      // a streak long enough disables the endpoint.
      const failingSince = endpoint.failing_since === null ? now : new Date(endpoint.failing_since);
      const disable =
        endpoint.enabled &&
        shouldDisable({
          firstFailureAt: failingSince,
          lastSuccessAt: null, // cleared with failing_since on every success
          now,
          disableAfterMs: ctx.settings.disableAfterMs,
        });
      if (endpoint.failing_since === null || disable) {
        await trx('webhook_endpoints')
          .where({ id: delivery.endpoint_id })
          .update(
            disable
              ? { failing_since: failingSince, enabled: false, disabled_reason: 'FAILING', updated_at: now }
              : { failing_since: failingSince },
          );
      }
      if (disable) {
        // Its owners hear of it: identity consumes this and e-mails them (docs/webhooks.md).
        await appendToOutbox(trx, [
          buildEvent('webhook_endpoint.disabled', {
            id: randomUUID(),
            organizationId: delivery.organization_id,
            occurredAt: now,
            producer: PRODUCER,
            data: {
              endpointId: delivery.endpoint_id,
              url: delivery.endpoint.url,
              reason: 'FAILING',
              failingSince: failingSince.toISOString(),
              lastError: (result.statusCode === null
                ? (result.error ?? 'no answer')
                : `HTTP ${result.statusCode}`
              ).slice(0, MAX_ERROR_LENGTH),
            },
          }),
        ]);
      }
      return { outcome, disabled: disable ? failingSince : null };
    });
  }
}
