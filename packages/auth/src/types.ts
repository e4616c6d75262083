// What the auth middleware knows of a caller, and where it reads verification data from. Each
// service answers from its own data (identity from its tables, the others from their identity
// projection): verifying a request never calls another service.
import type { ApiKeyScope, Role } from '@usageflow/contracts';
import type { JWK } from 'jose';
import type { JwtAlgorithm } from './tokens';

/** A person signed in with a JWT, acting in one organization with one role. */
export interface UserPrincipal {
  kind: 'user';
  organizationId: string;
  userId: string;
  /** The current role: the projection's when it is newer than the token, else the token's. */
  role: Role;
  /** The token's `jti`. */
  tokenId: string;
}

/** A machine calling with an API key of one organization. */
export interface ApiKeyPrincipal {
  kind: 'apiKey';
  organizationId: string;
  apiKeyId: string;
  scopes: ApiKeyScope[];
  mode: 'live' | 'test';
}

/** Who is calling; the organization always comes from here, never from the request body. */
export type Principal = UserPrincipal | ApiKeyPrincipal;

/** A published JWT verification key. */
export interface SigningKeyRecord {
  kid: string;
  alg: JwtAlgorithm;
  publicJwk: JWK;
  notBefore: Date;
  expiresAt: Date;
}

/** An issued API key, known by the SHA-256 digest of its secret. */
export interface ApiKeyRecord {
  apiKeyId: string;
  organizationId: string;
  scopes: ApiKeyScope[];
  mode: 'live' | 'test';
  revokedAt: Date | null;
}

/** A membership as last changed; `role` null once the member was removed. */
export interface MemberRecord {
  organizationId: string;
  userId: string;
  role: Role | null;
  updatedAt: Date;
}

/** Where verification data comes from: identity reads its own tables, every other service its projection. */
export interface AuthStore {
  /** The key published under `kid`, if any. */
  signingKey(kid: string): Promise<SigningKeyRecord | undefined>;
  /** The key whose digest (lowercase hex SHA-256 of the full key string) is `digest`, if any. */
  apiKeyByDigest(digest: string): Promise<ApiKeyRecord | undefined>;
  /** The membership of `userId` in `organizationId`, if the store has heard of it. */
  member(organizationId: string, userId: string): Promise<MemberRecord | undefined>;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** The authenticated caller, set by `mountRoutes` (absent on routes with auth 'none'). */
    auth?: Principal;
  }
}
