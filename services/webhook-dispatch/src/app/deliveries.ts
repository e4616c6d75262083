// The delivery log and replay: each delivery with its attempts, newest first; resending one
// delivery (same webhook-id, so a receiver deduplicates) or every failed one of a time range.
// A resend queues the delivery again now. If that attempt fails, the retry schedule goes on from
// where the delivery left it: a delivery that had used up its attempts is FAILED again at once.
import type { PageOf, PageRequest, ResendFailedBody, WebhookDelivery } from '@usageflow/contracts';
import { iso, isoOrNull } from '@usageflow/db';
import { keysetPage } from '@usageflow/http';
import { webhookErrors } from '../domain/errors';
import type { Caller, WebhookContext } from './context';

/** A webhook_deliveries row. */
export interface DeliveryRow {
  id: string;
  organization_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  payload: string;
  status: WebhookDelivery['status'];
  attempt_count: number;
  next_attempt_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

interface AttemptRow {
  delivery_id: string;
  attempt: number;
  at: Date | string;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
}

/** `GET /v1/webhook-endpoints/{id}/deliveries?status=`: newest first, each with its attempts. */
export async function listDeliveries(
  ctx: WebhookContext,
  caller: Caller,
  endpointId: string,
  page: PageRequest,
  filter: { status?: string },
): Promise<PageOf<WebhookDelivery>> {
  const endpoint = await ctx
    .db('webhook_endpoints')
    .where({ id: endpointId, organization_id: caller.organizationId })
    .first('id');
  if (!endpoint) throw webhookErrors.ENDPOINT_NOT_FOUND(`no webhook endpoint ${endpointId}`);
  const q = ctx.db('webhook_deliveries').where({ endpoint_id: endpointId, organization_id: caller.organizationId });
  if (filter.status !== undefined) q.andWhere({ status: filter.status });
  const rows = await keysetPage<DeliveryRow, DeliveryRow>(
    q,
    page,
    [
      { column: 'created_at', field: 'created_at', type: 'timestamptz' },
      { column: 'id', field: 'id', type: 'text' },
    ],
    (r) => r,
    { descending: true },
  );
  const attempts = await attemptsOf(
    ctx,
    rows.data.map((r) => r.id),
  );
  return { data: rows.data.map((r) => toDelivery(r, attempts.get(r.id) ?? [])), nextCursor: rows.nextCursor };
}

/** `POST /v1/webhook-deliveries/{id}/resend`. */
export async function resendDelivery(ctx: WebhookContext, caller: Caller, id: string): Promise<WebhookDelivery> {
  const now = ctx.clock();
  const [row] = await ctx
    .db<DeliveryRow>('webhook_deliveries')
    .where({ id, organization_id: caller.organizationId })
    .update({ status: 'PENDING', next_attempt_at: now, updated_at: now })
    .returning('*');
  if (!row) throw webhookErrors.DELIVERY_NOT_FOUND(`no webhook delivery ${id}`);
  return toDelivery(row, (await attemptsOf(ctx, [row.id])).get(row.id) ?? []);
}

/** `POST /v1/webhook-endpoints/{id}/resend-failed`: the failed deliveries created in [from, to). */
export async function resendFailed(
  ctx: WebhookContext,
  caller: Caller,
  endpointId: string,
  body: ResendFailedBody,
): Promise<{ resent: number }> {
  const endpoint = await ctx
    .db('webhook_endpoints')
    .where({ id: endpointId, organization_id: caller.organizationId })
    .first('id');
  if (!endpoint) throw webhookErrors.ENDPOINT_NOT_FOUND(`no webhook endpoint ${endpointId}`);
  const now = ctx.clock();
  const resent = await ctx
    .db('webhook_deliveries')
    .where({ endpoint_id: endpointId, organization_id: caller.organizationId, status: 'FAILED' })
    .andWhere('created_at', '>=', new Date(body.from))
    .andWhere('created_at', '<', new Date(body.to))
    .update({ status: 'PENDING', next_attempt_at: now, updated_at: now });
  return { resent };
}

async function attemptsOf(ctx: WebhookContext, ids: string[]): Promise<Map<string, AttemptRow[]>> {
  const byDelivery = new Map<string, AttemptRow[]>();
  if (ids.length === 0) return byDelivery;
  const rows = await ctx
    .db<AttemptRow>('webhook_attempts')
    .whereIn('delivery_id', ids)
    .orderBy(['delivery_id', 'attempt']);
  for (const r of rows) byDelivery.set(r.delivery_id, [...(byDelivery.get(r.delivery_id) ?? []), r]);
  return byDelivery;
}

function toDelivery(r: DeliveryRow, attempts: AttemptRow[]): WebhookDelivery {
  return {
    id: r.id,
    endpointId: r.endpoint_id,
    eventId: r.event_id,
    eventType: r.event_type,
    status: r.status,
    attempts: attempts.map((a) => ({
      attempt: a.attempt,
      at: iso(a.at),
      statusCode: a.status_code,
      latencyMs: a.latency_ms,
      error: a.error,
    })),
    nextAttemptAt: isoOrNull(r.next_attempt_at),
    createdAt: iso(r.created_at),
  };
}
