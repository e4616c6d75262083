// Issuing a session: a short-lived access token and a single-use refresh token.
import type { Role, TokenResponse } from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';
import { randomUUID } from 'node:crypto';
import { newOpaqueToken } from '../domain/secrets';
import type { IdentityContext } from './context';
import type { KeyRing } from './key-ring';

/** The organizations a user belongs to, oldest membership first. */
export async function organizationsOf(db: Knex, userId: string) {
  const rows = await db('memberships as m')
    .join('organizations as o', 'o.id', 'm.organization_id')
    .where('m.user_id', userId)
    .orderBy([
      { column: 'm.joined_at', order: 'asc' },
      { column: 'o.id', order: 'asc' },
    ])
    .select<{ id: string; name: string; role: Role }[]>('o.id', 'o.name', 'm.role');
  return rows;
}

/**
 * Issues tokens for `userId` in `organizationId` (a membership the caller checked), inside
 * `trx`. A new login starts a refresh-token family; a refresh continues its family.
 */
export async function issueSession(
  ctx: IdentityContext,
  keys: KeyRing,
  trx: Knex.Transaction,
  session: { userId: string; organizationId: string; role: Role; familyId?: string },
): Promise<TokenResponse> {
  const now = ctx.clock();
  const refresh = newOpaqueToken(ctx.random(32));
  const expiresAt = new Date(now.getTime() + ctx.config.refreshTokenTtlMs);
  await trx('refresh_tokens').insert({
    id: randomUUID(),
    family_id: session.familyId ?? randomUUID(),
    user_id: session.userId,
    organization_id: session.organizationId,
    token_digest: refresh.digest,
    created_at: now,
    expires_at: expiresAt,
  });
  const access = await keys.sign(session);
  return {
    accessToken: access.token,
    tokenType: 'Bearer',
    expiresIn: access.expiresIn,
    refreshToken: refresh.token,
    refreshTokenExpiresAt: expiresAt.toISOString(),
    userId: session.userId,
    organizationId: session.organizationId,
    role: session.role,
    organizations: await organizationsOf(trx, session.userId),
  };
}
