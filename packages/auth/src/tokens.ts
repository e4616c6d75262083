// The credential formats identity issues and every service verifies, declared once here so the
// signer and the verifiers cannot drift apart.
import { JWT_ALGORITHMS, type Role } from '@usageflow/contracts';
import { SignJWT, type KeyLike } from 'jose';
import { createHash } from 'node:crypto';

/** The `iss` of every access token. */
export const JWT_ISSUER = 'usageflow';
/** The `aud` of every access token. */
export const JWT_AUDIENCE = 'usageflow';

/** An algorithm identity may sign access tokens with. */
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** The claims of an access token (header: `alg`, `kid`, `typ: 'JWT'`). */
export interface AccessTokenClaims {
  iss: typeof JWT_ISSUER;
  aud: typeof JWT_AUDIENCE;
  /** The user id. */
  sub: string;
  /** The organization id. */
  org: string;
  /** The member's role when the token was issued. */
  role: Role;
  /** A UUID naming this token. */
  jti: string;
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expires at, seconds since the epoch. */
  exp: number;
}

/** The header carrying an API key. */
export const API_KEY_HEADER = 'x-usageflow-api-key';

/** The shape of an API key: mode prefix, then at least 32 URL-safe characters of secret. */
export const API_KEY_PATTERN = /^uf_(live|test)_[A-Za-z0-9_-]{32,128}$/;

/** How an API key is stored and looked up: the lowercase hex SHA-256 of the full key string. */
export function apiKeyDigest(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Signs an access token in the one claim format (pure: ids and times come in). */
export async function signAccessToken(input: {
  key: KeyLike | Uint8Array;
  kid: string;
  alg: JwtAlgorithm;
  organizationId: string;
  userId: string;
  role: Role;
  tokenId: string;
  issuedAt: Date;
  expiresAt: Date;
}): Promise<string> {
  return new SignJWT({ org: input.organizationId, role: input.role })
    .setProtectedHeader({ alg: input.alg, kid: input.kid, typ: 'JWT' })
    .setIssuer(JWT_ISSUER)
    .setAudience(JWT_AUDIENCE)
    .setSubject(input.userId)
    .setJti(input.tokenId)
    .setIssuedAt(Math.floor(input.issuedAt.getTime() / 1000))
    .setExpirationTime(Math.floor(input.expiresAt.getTime() / 1000))
    .sign(input.key);
}
