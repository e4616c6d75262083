// Recording successful attempts in groups. A success is the common case and changes nothing but
// its delivery (DELIVERED), its attempt row and, at most, the end of its endpoint's failure
// streak; so instead of one transaction per attempt (five round trips each, the dispatcher's
// bottleneck), successes that finish close together are recorded in one transaction of three
// set-based statements. One group is written at a time; while it is, the next one gathers, so
// under load groups grow by themselves and when idle each success is written at once.
// Failures keep their own transaction (dispatcher.ts): they decide retries and endpoint health.
import type { AttemptResult } from '../adapters/http/sender';
import type { WebhookContext } from './context';
import type { ClaimedDelivery } from './dispatcher';

/** What recording a success did: DELIVERED, or nothing (the claim was lost, the endpoint deleted). */
export type SuccessOutcome = 'DELIVERED' | 'SUPERSEDED' | 'ENDPOINT_GONE';

export interface RecordedSuccess {
  delivery: ClaimedDelivery;
  result: AttemptResult;
  /** When the attempt started. */
  at: Date;
}

/** The most successes one transaction records. */
const MAX_GROUP = 500;

/**
 * Records successful attempts in one transaction, each only if its claim still holds (the
 * delivery is PENDING at the attempt count it was claimed with), and ends the failure streak of
 * their endpoints afterwards. Returns each delivery's outcome by id.
 */
export async function recordSuccesses(
  ctx: WebhookContext,
  successes: readonly RecordedSuccess[],
): Promise<Map<string, SuccessOutcome>> {
  const outcomes = new Map<string, SuccessOutcome>();
  const endpointIds = [...new Set(successes.map((s) => s.delivery.endpoint_id))].sort();
  const streaksToEnd = await ctx.db.transaction(async (trx) => {
    const now = ctx.clock();
    // The endpoints first, shared and in id order, as a single success locks its one endpoint
    // (see Dispatcher.record): deleting an endpoint waits for us, and we never deadlock with it.
    const endpoints = await trx('webhook_endpoints')
      .whereIn('id', endpointIds)
      .orderBy('id')
      .forShare()
      .select<{ id: string; failing_since: Date | null }[]>('id', 'failing_since');
    const present = new Set(endpoints.map((e) => e.id));
    const live = successes.filter((s) => present.has(s.delivery.endpoint_id));
    for (const s of successes) if (!present.has(s.delivery.endpoint_id)) outcomes.set(s.delivery.id, 'ENDPOINT_GONE');
    if (live.length === 0) return [];

    const { rows: moved } = await trx.raw<{ rows: { id: string }[] }>(
      `update webhook_deliveries d
          set status = 'DELIVERED', attempt_count = claimed.attempt_count + 1, next_attempt_at = null, updated_at = ?
         from unnest(?::text[], ?::int[]) as claimed(id, attempt_count)
        where d.id = claimed.id and d.status = 'PENDING' and d.attempt_count = claimed.attempt_count
       returning d.id`,
      [now, live.map((s) => s.delivery.id), live.map((s) => s.delivery.attempt_count)],
    );
    const movedIds = new Set(moved.map((r) => r.id));
    const recorded = live.filter((s) => movedIds.has(s.delivery.id));
    for (const s of live) outcomes.set(s.delivery.id, movedIds.has(s.delivery.id) ? 'DELIVERED' : 'SUPERSEDED');
    if (recorded.length > 0) {
      await trx.raw(
        `insert into webhook_attempts (delivery_id, attempt, at, status_code, latency_ms)
         select * from unnest(?::text[], ?::int[], ?::timestamptz[], ?::int[], ?::int[])`,
        [
          recorded.map((s) => s.delivery.id),
          recorded.map((s) => s.delivery.attempt_count + 1),
          recorded.map((s) => s.at),
          recorded.map((s) => s.result.statusCode!), // a success has its 2xx status (isSuccess)
          recorded.map((s) => Math.max(0, Math.trunc(s.result.latencyMs))),
        ],
      );
    }
    const delivered = new Set(recorded.map((s) => s.delivery.endpoint_id));
    return endpoints.filter((e) => e.failing_since !== null && delivered.has(e.id)).map((e) => e.id);
  });
  if (streaksToEnd.length > 0) {
    // Its own statement, not under the shared locks (two writers upgrading them would deadlock).
    await ctx.db('webhook_endpoints').whereIn('id', streaksToEnd).whereNotNull('failing_since').update({
      failing_since: null,
    });
  }
  return outcomes;
}

interface Waiting extends RecordedSuccess {
  resolve: (outcome: SuccessOutcome) => void;
  reject: (err: unknown) => void;
}

/** Group commit of successes: `add` resolves once the group carrying the success is committed. */
export class SuccessRecorder {
  private queue: Waiting[] = [];
  private writing = false;

  constructor(
    private readonly ctx: WebhookContext,
    private readonly maxGroup = MAX_GROUP,
  ) {}

  add(success: RecordedSuccess): Promise<SuccessOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...success, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.writing || this.queue.length === 0) return;
    const group = this.queue.slice(0, this.maxGroup);
    this.queue = this.queue.slice(group.length);
    this.writing = true;
    recordSuccesses(this.ctx, group).then(
      (outcomes) => this.settle(() => group.forEach((w) => w.resolve(outcomes.get(w.delivery.id) ?? 'SUPERSEDED'))),
      (err: unknown) => this.settle(() => group.forEach((w) => w.reject(err))),
    );
  }

  private settle(answer: () => void): void {
    this.writing = false;
    answer();
    this.flush();
  }
}
