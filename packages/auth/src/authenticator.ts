// Verifies a request's credential against the service's own data and says who is calling.
// JWTs: signature with the key published under the token's `kid`, then the membership, so a
// member removed or demoted after the token was issued loses access without waiting for the
// token to expire. API keys: one digest lookup, no bcrypt and no write per request (the
// ingestion hot path). Everything read from the store is cached briefly; `invalidate()` drops it.
import { isRole, JWT_ALGORITHMS, type RouteAuth } from '@usageflow/contracts';
import { errors as jose, importJWK, jwtVerify, type JWTHeaderParameters, type KeyLike } from 'jose';
import { LoadingCache } from './cache';
import { authErrors } from './errors';
import { API_KEY_PATTERN, apiKeyDigest, JWT_AUDIENCE, JWT_ISSUER } from './tokens';
import type {
  ApiKeyPrincipal,
  ApiKeyRecord,
  AuthStore,
  MemberRecord,
  Principal,
  SigningKeyRecord,
  UserPrincipal,
} from './types';

/** The credentials of a request, as sent (`Authorization` header, `x-usageflow-api-key` header). */
export interface Credentials {
  authorization?: string;
  apiKey?: string;
}

/** How an `Authenticator` reads and caches. */
export interface AuthenticatorOptions {
  store: AuthStore;
  /** The time tokens, keys and cache entries are judged by (default: the system clock). */
  clock?: () => Date;
  /** How long a store answer is trusted (default 5 s): the longest a revocation goes unseen. */
  cacheTtlMs?: number;
  /** How long "no such key / kid" is trusted (default 1 s), so floods of bad credentials stay off the DB. */
  negativeCacheTtlMs?: number;
  /** Entries per cache (default 100 000); the oldest go first. */
  maxCacheEntries?: number;
}

/** Skew allowed between identity's clock and ours when judging `exp`, `nbf` and a key's `notBefore`. */
const CLOCK_TOLERANCE_S = 5;
/** Far beyond any token identity signs; refuses oversized input before any parsing. */
const MAX_TOKEN_LENGTH = 8_192;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BEARER = /^Bearer +(\S+) *$/i;

const TAKES: Record<Exclude<RouteAuth, 'none'>, string> = {
  jwt: 'a bearer token (Authorization: Bearer <token>)',
  apiKey: 'an API key (x-usageflow-api-key header)',
  jwtOrApiKey: 'a bearer token (Authorization: Bearer <token>) or an API key (x-usageflow-api-key header)',
};

type VerificationKey = KeyLike | Uint8Array;

/** Verifies bearer JWTs and API keys against an `AuthStore`, with short-lived caches. */
export class Authenticator {
  private readonly store: AuthStore;
  private readonly clock: () => Date;
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly signingKeys: LoadingCache<SigningKeyRecord | null>;
  private readonly apiKeys: LoadingCache<ApiKeyRecord | null>;
  private readonly members: LoadingCache<MemberRecord | null>;
  /** Imported keys by kid, reused while the published JWK stays the same (importing is the costly part). */
  private readonly imported = new Map<
    string,
    { record: SigningKeyRecord; jwk: string; key: Promise<VerificationKey> }
  >();

  constructor(options: AuthenticatorOptions) {
    this.store = options.store;
    this.clock = options.clock ?? (() => new Date());
    this.ttlMs = options.cacheTtlMs ?? 5_000;
    this.negativeTtlMs = options.negativeCacheTtlMs ?? 1_000;
    const max = options.maxCacheEntries ?? 100_000;
    const now = () => this.clock().getTime();
    this.signingKeys = new LoadingCache(max, now);
    this.apiKeys = new LoadingCache(max, now);
    this.members = new LoadingCache(max, now);
  }

  /** Who sent `credentials`, if the route takes that kind of credential; throws an `authErrors` 401 otherwise. */
  async authenticate(credentials: Credentials, allowed: Exclude<RouteAuth, 'none'>): Promise<Principal> {
    const authorization = credentials.authorization?.trim() || undefined;
    const apiKey = credentials.apiKey?.trim() || undefined;
    if (!authorization && !apiKey) throw authErrors.UNAUTHENTICATED(`this endpoint requires ${TAKES[allowed]}`);
    // Two credentials could name two organizations; refusing beats guessing which one acts.
    if (authorization && apiKey) throw authErrors.UNAUTHENTICATED('send either a bearer token or an API key, not both');
    if (apiKey) {
      if (allowed === 'jwt') throw authErrors.UNAUTHENTICATED(`this endpoint takes ${TAKES.jwt}, not an API key`);
      return this.verifyApiKey(apiKey);
    }
    if (allowed === 'apiKey') throw authErrors.UNAUTHENTICATED(`this endpoint takes ${TAKES.apiKey}`);
    const token = BEARER.exec(authorization!)?.[1];
    if (!token) throw authErrors.UNAUTHENTICATED(`this endpoint takes ${TAKES[allowed]}`);
    return this.verifyToken(token);
  }

  /** Drops every cached answer, so the next request reads the store (call after applying identity events). */
  invalidate(): void {
    this.signingKeys.clear();
    this.apiKeys.clear();
    this.members.clear();
  }

  private async verifyToken(token: string): Promise<UserPrincipal> {
    if (token.length > MAX_TOKEN_LENGTH) throw authErrors.TOKEN_INVALID('the token is too long');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, (header) => this.verificationKey(header), {
        issuer: JWT_ISSUER,
        audience: JWT_AUDIENCE,
        algorithms: [...JWT_ALGORITHMS],
        typ: 'JWT',
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
        currentDate: this.clock(),
        clockTolerance: CLOCK_TOLERANCE_S,
      }));
    } catch (err) {
      throw tokenError(err);
    }
    const { sub, org, role, jti, iat } = payload;
    if (typeof sub !== 'string' || !UUID.test(sub))
      throw authErrors.TOKEN_INVALID('the token\'s "sub" claim is invalid');
    if (typeof org !== 'string' || !UUID.test(org))
      throw authErrors.TOKEN_INVALID('the token\'s "org" claim is invalid');
    if (!isRole(role)) throw authErrors.TOKEN_INVALID('the token\'s "role" claim is invalid');
    if (typeof jti !== 'string' || !UUID.test(jti))
      throw authErrors.TOKEN_INVALID('the token\'s "jti" claim is invalid');

    const member = await this.members.get(
      `${org}:${sub}`,
      async () => (await this.store.member(org, sub)) ?? null,
      (_, startedAt) => startedAt + this.ttlMs,
    );
    // A membership change at or after the token's issue time overrides the role the token carries;
    // an older record (or none yet: the projection may lag identity) leaves the token's role standing.
    let current = role;
    if (member && member.updatedAt.getTime() >= iat! * 1000) {
      if (member.role === null)
        throw authErrors.MEMBERSHIP_REVOKED('you were removed from this organization; this token no longer works');
      current = member.role;
    }
    return { kind: 'user', organizationId: org, userId: sub, role: current, tokenId: jti };
  }

  /** jose's key resolver: the key published under the header's kid, for the alg recorded with it. */
  private async verificationKey(header: JWTHeaderParameters): Promise<VerificationKey> {
    const kid = header.kid;
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > 128)
      throw authErrors.TOKEN_INVALID('the token names no signing key');
    // Known keys are re-read every ttl too: a key retired early (republished with an earlier
    // expiresAt) must stop working on every replica, not only the one that consumed the event.
    const record = await this.signingKeys.get(
      kid,
      async () => (await this.store.signingKey(kid)) ?? null,
      (value, startedAt) => startedAt + (value ? this.ttlMs : this.negativeTtlMs),
    );
    if (!record) throw authErrors.TOKEN_INVALID('the token was signed with an unknown key');
    if (header.alg !== record.alg) throw authErrors.TOKEN_INVALID("the token's algorithm does not match its key");
    const now = this.clock().getTime();
    if (now < record.notBefore.getTime() - CLOCK_TOLERANCE_S * 1000)
      throw authErrors.TOKEN_INVALID('the token was signed with a key that is not valid yet');
    // No tolerance here: a key's expiresAt is a hard end (it outlives every token it signed).
    if (now >= record.expiresAt.getTime())
      throw authErrors.TOKEN_INVALID('the token was signed with a key that has expired');
    return this.importKey(record);
  }

  private importKey(record: SigningKeyRecord): Promise<VerificationKey> {
    const cached = this.imported.get(record.kid);
    // Per request the record is the cached object itself: no JWK is serialized until a reload.
    if (cached && cached.record === record) return cached.key;
    const jwk = JSON.stringify(record.publicJwk);
    if (cached && cached.jwk === jwk) {
      cached.record = record;
      return cached.key;
    }
    const key = importJWK(record.publicJwk, record.alg);
    this.imported.set(record.kid, { record, jwk, key });
    // a JWK that does not import is the store's fault, not the caller's: let it surface as a 500
    key.catch(() => this.imported.delete(record.kid));
    return key;
  }

  private async verifyApiKey(key: string): Promise<ApiKeyPrincipal> {
    const match = API_KEY_PATTERN.exec(key);
    if (!match) throw authErrors.API_KEY_INVALID('the API key is malformed');
    const digest = apiKeyDigest(key);
    const record = await this.apiKeys.get(
      digest,
      async () => (await this.store.apiKeyByDigest(digest)) ?? null,
      (value, startedAt) => startedAt + (value ? this.ttlMs : this.negativeTtlMs),
    );
    if (!record) throw authErrors.API_KEY_INVALID('the API key is unknown');
    if (record.revokedAt && record.revokedAt.getTime() <= this.clock().getTime())
      throw authErrors.API_KEY_REVOKED('the API key was revoked');
    // The prefix is part of the secret's string: a live key can never pass as a test key.
    if (match[1] !== record.mode) throw authErrors.API_KEY_INVALID('the API key is unknown');
    return {
      kind: 'apiKey',
      organizationId: record.organizationId,
      apiKeyId: record.apiKeyId,
      scopes: [...record.scopes],
      mode: record.mode,
    };
  }
}

/** Maps a verification failure to its 401; anything else (the store failing) passes through as is. */
function tokenError(err: unknown): unknown {
  if (!(err instanceof jose.JOSEError)) return err;
  switch (err.code) {
    case 'ERR_JWT_EXPIRED':
      return authErrors.TOKEN_EXPIRED('the token has expired; refresh it or sign in again');
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return authErrors.TOKEN_INVALID("the token's signature is invalid");
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return authErrors.TOKEN_INVALID(`the token's "${(err as jose.JWTClaimValidationFailed).claim}" claim is invalid`);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return authErrors.TOKEN_INVALID("the token's algorithm is not accepted");
    default:
      return authErrors.TOKEN_INVALID('the token is malformed');
  }
}
