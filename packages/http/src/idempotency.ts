// Idempotency-Key on creating requests (POST). A retried request with the same key gets the
// first response again instead of creating twice; the same key with a different request is
// refused. The key row, the state change and the stored response commit in ONE transaction:
// a concurrent duplicate waits on the key's unique index until the first commits (then replays
// it) or rolls back (then runs itself). Nothing half-written is ever replayed.
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Request, Response } from 'express';
import { commonErrors } from './problem';

/** What a creating handler answers; stored for replays. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

/** The migration creating the key store in a service's schema (added by the runtime). */
export const idempotencyMigration = {
  name: '000_platform_idempotency_keys',
  async up(db: Knex) {
    await db.raw(`
      create table idempotency_keys (
        scope           text not null,            -- organization id (or another tenant scope)
        key             text not null,
        fingerprint     text not null,            -- sha256 of method, path and body
        response_status integer not null,
        response_body   jsonb,
        created_at      timestamptz not null default now(),
        primary key (scope, key)
      );
      create index idempotency_keys_created_at on idempotency_keys (created_at);
    `);
  },
};

const KEY = /^[\x21-\x7e]{1,255}$/; // printable ASCII, no spaces

/** What idempotency reads of a request (any express request, whatever its typed params). */
export type IdempotentRequest = Pick<Request, 'method' | 'baseUrl' | 'path' | 'body'> & {
  header(name: string): string | undefined;
};

/** The request's Idempotency-Key, if any; a malformed one is a 400. */
export function idempotencyKey(req: IdempotentRequest): string | undefined {
  const key = req.header('idempotency-key');
  if (key === undefined) return undefined;
  if (!KEY.test(key))
    throw commonErrors.IDEMPOTENCY_KEY_INVALID('use 1 to 255 printable ASCII characters, e.g. a UUID');
  return key;
}

/** A fingerprint of what the request asks for: same key + different fingerprint = misuse. */
export function requestFingerprint(req: IdempotentRequest): string {
  return createHash('sha256')
    .update(`${req.method} ${req.baseUrl}${req.path}\n${JSON.stringify(req.body ?? null)}`)
    .digest('hex');
}

/**
 * Runs `handle` in a transaction, at most once per (scope, key). Without a key it simply runs.
 * Returns the response to send and whether it is a replay.
 */
export async function withIdempotency(
  db: Knex,
  request: { scope: string; key: string | undefined; fingerprint: string },
  handle: (trx: Knex.Transaction) => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  const { scope, key, fingerprint } = request;
  if (key === undefined) return { ...(await db.transaction(handle)), replayed: false };
  return db.transaction(async (trx) => {
    // A placeholder row claims the key; a concurrent twin blocks here until we commit or roll back.
    const claimed = await trx('idempotency_keys')
      .insert({ scope, key, fingerprint, response_status: 0 })
      .onConflict(['scope', 'key'])
      .ignore()
      .returning('key');
    if (claimed.length === 0) {
      const stored = await trx('idempotency_keys').where({ scope, key }).first();
      if (stored.fingerprint !== fingerprint) {
        throw commonErrors.IDEMPOTENCY_KEY_REUSED(`Idempotency-Key ${key} was used for a different request`);
      }
      return { status: stored.response_status, body: stored.response_body, replayed: true };
    }
    const response = await handle(trx);
    await trx('idempotency_keys')
      .where({ scope, key })
      .update({ response_status: response.status, response_body: JSON.stringify(response.body ?? null) });
    return { ...response, replayed: false };
  });
}

/**
 * `withIdempotency` for a creating request: its Idempotency-Key and fingerprint, scoped to
 * `scope` (the caller's organization).
 */
export function idempotentRequest(
  db: Knex,
  req: IdempotentRequest,
  scope: string,
  handle: (trx: Knex.Transaction) => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  return withIdempotency(db, { scope, key: idempotencyKey(req), fingerprint: requestFingerprint(req) }, handle);
}

/** Sends a (possibly replayed) stored response; a replay says so in `Idempotent-Replayed`. */
export function sendStored(res: Response, response: StoredResponse & { replayed: boolean }): void {
  if (response.replayed) res.setHeader('Idempotent-Replayed', 'true');
  res.status(response.status).json(response.body);
}
