// API keys: created by DEVELOPERs and OWNERs, shown once, stored as a SHA-256 digest.
import {
  buildEvent,
  DEFAULT_API_KEY_SCOPES,
  type ApiKey,
  type ApiKeyScope,
  type CreateApiKeyBody,
  type CreatedApiKey,
  type PageOf,
  type PageRequest,
} from '@usageflow/contracts';
import { appendToOutbox, iso, isoOrNull, type Knex } from '@usageflow/db';
import { CREATED_ORDER, keysetPage } from '@usageflow/http';
import { randomUUID } from 'node:crypto';
import { identityErrors } from '../domain/errors';
import { API_KEY_RANDOM_BYTES, newApiKey } from '../domain/secrets';
import { PRODUCER, type IdentityContext } from './context';
import type { Actor } from './members';

interface ApiKeyRow extends Record<string, unknown> {
  id: string;
  name: string;
  prefix: string;
  mode: 'live' | 'test';
  scopes: ApiKeyScope[];
  created_by: string;
  created_at: string | Date;
  last_used_at: string | Date | null;
  revoked_at: string | Date | null;
}

const toApiKey = (r: ApiKeyRow): ApiKey => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  mode: r.mode,
  scopes: r.scopes,
  createdBy: r.created_by,
  createdAt: iso(r.created_at),
  lastUsedAt: isoOrNull(r.last_used_at),
  revokedAt: isoOrNull(r.revoked_at),
});

/** `POST /v1/api-keys`, inside the caller's (idempotency) transaction. */
export async function createApiKey(
  ctx: IdentityContext,
  trx: Knex.Transaction,
  actor: Actor,
  body: CreateApiKeyBody,
): Promise<CreatedApiKey> {
  const now = ctx.clock();
  const mode = body.mode ?? 'live';
  const scopes = [...(body.scopes ?? DEFAULT_API_KEY_SCOPES)];
  const { key, prefix, digest } = newApiKey(mode, ctx.random(API_KEY_RANDOM_BYTES));
  const row = {
    id: randomUUID(),
    organization_id: actor.organizationId,
    name: body.name,
    prefix,
    digest,
    mode,
    scopes,
    created_by: actor.userId,
    created_at: now,
  };
  // per-key (organization) event order: writers of one organization's events serialize here
  await trx('organizations').where({ id: actor.organizationId }).forUpdate().first('id');
  await trx('api_keys').insert(row);
  await appendToOutbox(trx, [
    buildEvent('api_key.created', {
      id: randomUUID(),
      organizationId: actor.organizationId,
      occurredAt: now,
      producer: PRODUCER,
      // NOTE: the digest, never the key: ingestion verifies with it, nobody can log in with it.
      data: {
        apiKeyId: row.id,
        name: body.name,
        prefix,
        digest,
        mode,
        scopes,
        createdBy: actor.userId,
        createdAt: now.toISOString(),
      },
    }),
  ]);
  return { ...toApiKey({ ...row, last_used_at: null, revoked_at: null }), key };
}

/** `GET /v1/api-keys`: never the secrets. */
export function listApiKeys(ctx: IdentityContext, actor: Actor, page: PageRequest): Promise<PageOf<ApiKey>> {
  return keysetPage<ApiKeyRow, ApiKey>(
    ctx
      .db('api_keys')
      .where({ organization_id: actor.organizationId })
      .select('id', 'name', 'prefix', 'mode', 'scopes', 'created_by', 'created_at', 'last_used_at', 'revoked_at'),
    page,
    CREATED_ORDER,
    toApiKey,
  );
}

/** `DELETE /v1/api-keys/{id}`: idempotent; the event reaches every service's projection. */
export async function revokeApiKey(ctx: IdentityContext, actor: Actor, id: string): Promise<void> {
  await ctx.db.transaction(async (trx) => {
    await trx('organizations').where({ id: actor.organizationId }).forUpdate().first('id');
    const row = await trx('api_keys').where({ id, organization_id: actor.organizationId }).first('revoked_at');
    if (!row) throw identityErrors.API_KEY_NOT_FOUND();
    if (row.revoked_at) return;
    const now = ctx.clock();
    await trx('api_keys').where({ id }).update({ revoked_at: now, revoked_by: actor.userId });
    await appendToOutbox(trx, [
      buildEvent('api_key.revoked', {
        id: randomUUID(),
        organizationId: actor.organizationId,
        occurredAt: now,
        producer: PRODUCER,
        data: { apiKeyId: id, revokedBy: actor.userId, revokedAt: now.toISOString() },
      }),
    ]);
  });
}

/**
 * Records when keys last sent usage, from the usage stream: one statement per batch, never a
 * write per request. Only moves forward (a replayed batch changes nothing).
 */
export async function recordKeyUse(db: Knex, lastUse: ReadonlyMap<string, Date>): Promise<void> {
  if (lastUse.size === 0) return;
  await db.raw(
    `update api_keys k set last_used_at = u.at
       from unnest(?::uuid[], ?::timestamptz[]) as u(id, at)
      where k.id = u.id and (k.last_used_at is null or k.last_used_at < u.at)`,
    [[...lastUse.keys()], [...lastUse.values()]],
  );
}
