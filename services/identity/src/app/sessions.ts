// Sign-up, login, refresh and logout.
import {
  buildEvent,
  type LoginBody,
  type RefreshBody,
  type SignupBody,
  type TokenResponse,
  type Role,
} from '@usageflow/contracts';
import { appendToOutbox, type Knex } from '@usageflow/db';
import { randomUUID } from 'node:crypto';
import { identityErrors } from '../domain/errors';
import { isBlocked, retryAfterSeconds, windowStart } from '../domain/login-limits';
import { emailKey, sha256Hex } from '../domain/secrets';
import { PRODUCER, type IdentityContext } from './context';
import type { KeyRing } from './key-ring';
import { hashNewPassword, verifyPassword } from './passwords';
import { issueSession, organizationsOf } from './tokens';

const UNIQUE_VIOLATION = '23505';

/** Sign-up: a user, their organization, and their OWNER membership, with the two events. */
export async function signup(ctx: IdentityContext, keys: KeyRing, body: SignupBody): Promise<TokenResponse> {
  const passwordHash = await hashNewPassword(body.password, ctx.config.bcryptCost);
  const now = ctx.clock();
  const userId = randomUUID();
  const organizationId = randomUUID();
  try {
    return await ctx.db.transaction(async (trx) => {
      await trx('users').insert({
        id: userId,
        email: body.email,
        email_key: emailKey(body.email),
        name: body.name ?? null,
        password_hash: passwordHash,
        created_at: now,
      });
      await trx('organizations').insert({
        id: organizationId,
        name: body.organizationName,
        created_by: userId,
        created_at: now,
      });
      await trx('memberships').insert({
        organization_id: organizationId,
        user_id: userId,
        role: 'OWNER',
        joined_at: now,
        updated_at: now,
      });
      const envelope = { organizationId, occurredAt: now, producer: PRODUCER };
      await appendToOutbox(trx, [
        buildEvent('organization.created', {
          ...envelope,
          id: randomUUID(),
          data: { name: body.organizationName, createdBy: userId },
        }),
        buildEvent('member.joined', {
          ...envelope,
          id: randomUUID(),
          data: { userId, email: body.email, role: 'OWNER' },
        }),
      ]);
      return issueSession(ctx, keys, trx, { userId, organizationId, role: 'OWNER' });
    });
  } catch (err) {
    if ((err as { code?: string }).code === UNIQUE_VIOLATION && /email_key/.test(String(err)))
      throw identityErrors.EMAIL_TAKEN('log in instead, or ask an owner of the organization to invite you');
    throw err;
  }
}

async function failuresSoFar(db: Knex, subjects: string[], window: Date): Promise<Map<string, number>> {
  const rows = await db('login_failures')
    .whereIn('subject', subjects)
    .andWhere('window_start', window)
    .select<{ subject: string; failures: number }[]>('subject', 'failures');
  return new Map(rows.map((r) => [r.subject, r.failures]));
}

async function recordFailure(db: Knex, subjects: string[], window: Date): Promise<void> {
  await db.raw(
    `insert into login_failures (subject, window_start, failures)
     select s, ?, 1 from unnest(?::text[]) as s
     on conflict (subject, window_start) do update set failures = login_failures.failures + 1`,
    [window, subjects],
  );
}

/**
 * Login. Failed attempts are counted per e-mail and per client address; over the limit the
 * attempt is refused with 429 before any password is checked.
 */
export async function login(
  ctx: IdentityContext,
  keys: KeyRing,
  body: LoginBody,
  clientAddress: string,
): Promise<TokenResponse> {
  const { db, config } = ctx;
  const now = ctx.clock();
  const window = windowStart(now, config.loginLimits.windowMs);
  // Subjects are digested: the table never holds addresses or e-mails in clear.
  const emailSubject = `email:${sha256Hex(emailKey(body.email))}`;
  const addressSubject = `addr:${sha256Hex(clientAddress)}`;
  const counts = await failuresSoFar(db, [emailSubject, addressSubject], window);
  if (
    isBlocked({ email: counts.get(emailSubject) ?? 0, address: counts.get(addressSubject) ?? 0 }, config.loginLimits)
  ) {
    throw identityErrors.LOGIN_RATE_LIMITED('too many failed logins; wait before trying again', {
      retryAfter: retryAfterSeconds(now, config.loginLimits.windowMs),
    });
  }
  const user = await db('users')
    .where({ email_key: emailKey(body.email) })
    .first();
  const ok = await verifyPassword(body.password, user?.password_hash, config.bcryptCost);
  if (!ok) {
    await recordFailure(db, [emailSubject, addressSubject], window);
    throw identityErrors.INVALID_CREDENTIALS();
  }
  await db('login_failures').where({ subject: emailSubject }).delete();
  const organizations = await organizationsOf(db, user.id);
  const chosen = body.organizationId ? organizations.find((o) => o.id === body.organizationId) : organizations[0];
  if (!chosen)
    throw identityErrors.NOT_A_MEMBER(
      body.organizationId
        ? 'you are not a member of that organization'
        : 'you are no longer a member of any organization',
    );
  return db.transaction((trx) =>
    issueSession(ctx, keys, trx, { userId: user.id, organizationId: chosen.id, role: chosen.role }),
  );
}

/**
 * Refresh: the token is single use. Presenting a token that was already exchanged means it was
 * copied: the whole family (that login's chain of tokens) is revoked.
 */
export async function refresh(ctx: IdentityContext, keys: KeyRing, body: RefreshBody): Promise<TokenResponse> {
  const now = ctx.clock();
  const outcome = await ctx.db.transaction(async (trx) => {
    const row = await trx('refresh_tokens')
      .where({ token_digest: sha256Hex(body.refreshToken) })
      .forUpdate()
      .first();
    if (!row || row.revoked_at || new Date(row.expires_at) <= now) return { error: 'invalid' as const };
    if (row.used_at) {
      await trx('refresh_tokens')
        .where({ family_id: row.family_id })
        .whereNull('revoked_at')
        .update({ revoked_at: now });
      return { error: 'reused' as const, familyId: row.family_id as string };
    }
    await trx('refresh_tokens').where({ id: row.id }).update({ used_at: now });
    const organizationId = body.organizationId ?? (row.organization_id as string);
    const membership = await trx('memberships')
      .where({ organization_id: organizationId, user_id: row.user_id })
      .first<{ role: Role } | undefined>('role');
    // rolls back: the presented token stays usable for an organization the person belongs to
    if (!membership) throw identityErrors.NOT_A_MEMBER('you are not a member of that organization');
    return {
      tokens: await issueSession(ctx, keys, trx, {
        userId: row.user_id,
        organizationId,
        role: membership.role,
        familyId: row.family_id,
      }),
    };
  });
  if ('tokens' in outcome && outcome.tokens) return outcome.tokens;
  if (outcome.error === 'reused') {
    ctx.logger.warn({ familyId: outcome.familyId }, 'a used refresh token was presented again; its family is revoked');
  }
  throw identityErrors.REFRESH_TOKEN_INVALID('log in again');
}

/** Logout: revokes the refresh token's whole family. Idempotent. */
export async function logout(ctx: IdentityContext, refreshToken: string): Promise<void> {
  const row = await ctx
    .db('refresh_tokens')
    .where({ token_digest: sha256Hex(refreshToken) })
    .first('family_id');
  if (!row) return;
  await ctx
    .db('refresh_tokens')
    .where({ family_id: row.family_id })
    .whereNull('revoked_at')
    .update({ revoked_at: ctx.clock() });
}
