// Identity verifies credentials against its own tables (the source every projection copies),
// so a token or key works here the moment it is issued.
import type { ApiKeyRecord, AuthStore, MemberRecord, SigningKeyRecord } from '@usageflow/auth';
import type { ApiKeyScope, Role } from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';

/** The AuthStore of the identity service: its own tables. */
export class IdentityAuthStore implements AuthStore {
  constructor(private readonly db: Knex) {}

  async signingKey(kid: string): Promise<SigningKeyRecord | undefined> {
    const row = await this.db('signing_keys')
      .where({ kid })
      .first('kid', 'alg', 'public_jwk', 'not_before', 'expires_at');
    if (!row) return undefined;
    return {
      kid: row.kid,
      alg: row.alg,
      publicJwk: row.public_jwk,
      notBefore: new Date(row.not_before),
      expiresAt: new Date(row.expires_at),
    };
  }

  async apiKeyByDigest(digest: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db('api_keys')
      .where({ digest })
      .first('id', 'organization_id', 'scopes', 'mode', 'revoked_at');
    if (!row) return undefined;
    return {
      apiKeyId: row.id,
      organizationId: row.organization_id,
      scopes: row.scopes as ApiKeyScope[],
      mode: row.mode,
      revokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
    };
  }

  async member(organizationId: string, userId: string): Promise<MemberRecord | undefined> {
    const row = await this.db('memberships')
      .where({ organization_id: organizationId, user_id: userId })
      .first('role', 'updated_at');
    if (row) return { organizationId, userId, role: row.role as Role, updatedAt: new Date(row.updated_at) };
    const removed = await this.db('removed_memberships')
      .where({ organization_id: organizationId, user_id: userId })
      .first('removed_at');
    if (removed) return { organizationId, userId, role: null, updatedAt: new Date(removed.removed_at) };
    return undefined;
  }
}
