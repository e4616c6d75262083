// For integration tests of a service that authenticates from its identity projection: seeds the
// projection directly (in production identity's topic fills it) with a signing key whose private
// half signs test tokens, members with roles, and API keys with scopes.
import type { ApiKeyScope, Role } from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';
import { exportJWK, generateKeyPair } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import { apiKeyDigest, signAccessToken } from './tokens';

/** Seeds `db`'s identity projection with a signing key; returns makers of tokens and keys. */
export async function seedIdentityProjection(db: Knex) {
  const kid = `test-${randomUUID()}`;
  const { publicKey, privateKey } = await generateKeyPair('EdDSA');
  const now = Date.now();
  await db('auth_signing_keys').insert({
    kid,
    alg: 'EdDSA',
    public_jwk: JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }),
    not_before: new Date(now - 60_000),
    expires_at: new Date(now + 86_400_000),
  });

  return {
    /** A token for a new member with `role` in `organizationId` (recorded in the projection). */
    async tokenFor(organizationId: string, role: Role): Promise<string> {
      const userId = randomUUID();
      const issuedAt = new Date();
      await db('auth_members').insert({ organization_id: organizationId, user_id: userId, role, updated_at: issuedAt });
      return signAccessToken({
        key: privateKey,
        kid,
        alg: 'EdDSA',
        organizationId,
        userId,
        role,
        tokenId: randomUUID(),
        issuedAt,
        expiresAt: new Date(issuedAt.getTime() + 900_000),
      });
    },

    /** An API key of `organizationId` with `scopes`. */
    async apiKeyFor(organizationId: string, scopes: ApiKeyScope[]): Promise<string> {
      const key = `uf_live_${randomBytes(32).toString('base64url')}`;
      await db('auth_api_keys').insert({
        api_key_id: randomUUID(),
        digest: apiKeyDigest(key),
        organization_id: organizationId,
        scopes,
        mode: 'live',
        created_at: new Date(),
      });
      return key;
    },
  };
}
