// Webhook endpoints: registered by DEVELOPER and OWNER, each with a signing secret shown once and
// rotated with an overlap during which both secrets sign. A URL is checked when it is set (scheme,
// then every address its host resolves to) and again at each delivery, since DNS can change.
import {
  type CreatedWebhookEndpoint,
  type CreateWebhookEndpointBody,
  type PageOf,
  type PageRequest,
  type RotatedSecret,
  type RotateSecretBody,
  type UpdateWebhookEndpointBody,
  type WebhookEndpoint,
} from '@usageflow/contracts';
import { iso, isoOrNull, type Knex } from '@usageflow/db';
import { CREATED_ORDER, keysetPage } from '@usageflow/http';
import { randomUUID } from 'node:crypto';
import { webhookErrors } from '../domain/errors';
import { generateSecret } from '../domain/signing';
import { checkEndpointUrl, checkResolvedAddresses } from '../domain/url-safety';
import type { Caller, WebhookContext } from './context';

/** A webhook_endpoints row. */
export interface EndpointRow {
  id: string;
  organization_id: string;
  url: string;
  event_types: string[];
  description: string | null;
  enabled: boolean;
  disabled_reason: 'MANUAL' | 'FAILING' | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | string | null;
  failing_since: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

/** The API view of a row: never a secret. */
export const toEndpoint = (r: EndpointRow): WebhookEndpoint => ({
  id: r.id,
  url: r.url,
  eventTypes: r.event_types,
  description: r.description,
  enabled: r.enabled,
  disabledReason: r.disabled_reason,
  previousSecretExpiresAt: isoOrNull(r.previous_secret_expires_at),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

/**
 * Checks a URL the way a delivery will use it: scheme and form, then every address its host
 * resolves to must be public or allow-listed. Refuses with 400 naming the `url` field.
 */
export async function checkUrl(ctx: WebhookContext, raw: string): Promise<string> {
  const form = checkEndpointUrl(raw, { allowHttp: ctx.settings.allowHttp });
  if (!form.ok) throw refused(form.detail);
  let addresses: string[];
  try {
    addresses = await ctx.resolve(form.hostname);
  } catch {
    throw refused(`${form.hostname} does not resolve`);
  }
  const check = checkResolvedAddresses(addresses, ctx.settings.allowedAddresses);
  if (!check.ok) {
    throw refused(
      check.reason === 'NO_ADDRESSES'
        ? `${form.hostname} has no address`
        : `${form.hostname} resolves to ${check.address}, a ${check.kind} address: not reachable from a public service`,
    );
  }
  return form.url;
}

function refused(message: string) {
  return webhookErrors.ENDPOINT_URL_REFUSED(message, { errors: [{ field: 'url', message }] });
}

/** `POST /v1/webhook-endpoints`, inside the caller's (idempotency) transaction. */
export async function createEndpoint(
  ctx: WebhookContext,
  trx: Knex.Transaction,
  caller: Caller,
  body: CreateWebhookEndpointBody,
): Promise<CreatedWebhookEndpoint> {
  const url = await checkUrl(ctx, body.url);
  const now = ctx.clock();
  const enabled = body.enabled ?? true;
  const row: EndpointRow = {
    id: randomUUID(),
    organization_id: caller.organizationId,
    url,
    event_types: body.eventTypes,
    description: body.description ?? null,
    enabled,
    disabled_reason: enabled ? null : 'MANUAL',
    secret: generateSecret(ctx.randomBytes),
    previous_secret: null,
    previous_secret_expires_at: null,
    failing_since: null,
    created_at: now,
    updated_at: now,
  };
  await trx('webhook_endpoints').insert(row);
  return { endpoint: toEndpoint(row), secret: row.secret };
}

/** `GET /v1/webhook-endpoints`. */
export function listEndpoints(
  ctx: WebhookContext,
  caller: Caller,
  page: PageRequest,
): Promise<PageOf<WebhookEndpoint>> {
  return keysetPage<EndpointRow, WebhookEndpoint>(
    ctx.db('webhook_endpoints').where({ organization_id: caller.organizationId }),
    page,
    CREATED_ORDER,
    toEndpoint,
  );
}

/** `GET /v1/webhook-endpoints/{id}`. */
export async function getEndpoint(ctx: WebhookContext, caller: Caller, id: string): Promise<WebhookEndpoint> {
  return toEndpoint(await endpointRow(ctx.db, caller, id));
}

/** `PATCH /v1/webhook-endpoints/{id}`: enabling again clears an automatic disabling and its failure streak. */
export function updateEndpoint(
  ctx: WebhookContext,
  caller: Caller,
  id: string,
  body: UpdateWebhookEndpointBody,
): Promise<WebhookEndpoint> {
  return ctx.db.transaction(async (trx) => {
    const row = await endpointRow(trx, caller, id, true);
    const update: Partial<EndpointRow> = { updated_at: ctx.clock() };
    if (body.url !== undefined) update.url = await checkUrl(ctx, body.url);
    if (body.eventTypes !== undefined) update.event_types = body.eventTypes;
    if (body.description !== undefined) update.description = body.description;
    if (body.enabled !== undefined && body.enabled !== row.enabled) {
      update.enabled = body.enabled;
      update.disabled_reason = body.enabled ? null : 'MANUAL';
      if (body.enabled) update.failing_since = null;
    }
    await trx('webhook_endpoints').where({ id }).update(update);
    return toEndpoint({ ...row, ...update });
  });
}

/** `DELETE /v1/webhook-endpoints/{id}`: its deliveries and their log go with it. */
export async function deleteEndpoint(ctx: WebhookContext, caller: Caller, id: string): Promise<void> {
  const deleted = await ctx.db('webhook_endpoints').where({ id, organization_id: caller.organizationId }).delete();
  if (deleted === 0) throw webhookErrors.ENDPOINT_NOT_FOUND(`no webhook endpoint ${id}`);
}

/**
 * `POST /v1/webhook-endpoints/{id}/rotate-secret`: a new secret signs from now on; the current one
 * keeps signing beside it for `overlapSeconds` (default 24 h), so receivers can switch without
 * refusing a single delivery.
 */
export function rotateSecret(
  ctx: WebhookContext,
  caller: Caller,
  id: string,
  body: RotateSecretBody,
): Promise<RotatedSecret> {
  return ctx.db.transaction(async (trx) => {
    const row = await endpointRow(trx, caller, id, true);
    const now = ctx.clock();
    const expiresAt = new Date(now.getTime() + (body.overlapSeconds ?? 86_400) * 1000);
    const secret = generateSecret(ctx.randomBytes);
    await trx('webhook_endpoints').where({ id: row.id }).update({
      secret,
      previous_secret: row.secret,
      previous_secret_expires_at: expiresAt,
      updated_at: now,
    });
    return { secret, previousSecretExpiresAt: expiresAt.toISOString() };
  });
}

/** The secrets that sign at `now`: the current one, and the previous one during its overlap. */
export function signingSecrets(row: EndpointRow, now: Date): string[] {
  const overlapping =
    row.previous_secret !== null &&
    row.previous_secret_expires_at !== null &&
    new Date(row.previous_secret_expires_at).getTime() > now.getTime();
  return overlapping ? [row.secret, row.previous_secret!] : [row.secret];
}

async function endpointRow(db: Knex, caller: Caller, id: string, forUpdate = false): Promise<EndpointRow> {
  const query = db<EndpointRow>('webhook_endpoints').where({ id, organization_id: caller.organizationId });
  const row = await (forUpdate ? query.forUpdate() : query).first();
  if (!row) throw webhookErrors.ENDPOINT_NOT_FOUND(`no webhook endpoint ${id}`);
  return row;
}
