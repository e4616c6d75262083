import { ProblemError } from '@usageflow/http';
import { exportJWK, generateKeyPair, SignJWT, type KeyLike } from 'jose';
import { randomUUID } from 'node:crypto';
import { Authenticator } from './authenticator';
import { InMemoryAuthStore } from './memory-store';
import { apiKeyDigest, JWT_AUDIENCE, JWT_ISSUER, signAccessToken } from './tokens';
import type { ApiKeyRecord } from './types';

const ORG = randomUUID();
const USER = randomUUID();
const KID = 'k1';
const T0 = new Date('2025-03-10T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const LIVE_KEY = `uf_live_${'a'.repeat(40)}`;

describe('Authenticator', () => {
  let privateKey: KeyLike;
  let otherPrivateKey: KeyLike;
  let store: InMemoryAuthStore;
  let now: Date;
  let auth: Authenticator;

  beforeAll(async () => {
    ({ privateKey } = await generateKeyPair('EdDSA'));
    ({ privateKey: otherPrivateKey } = await generateKeyPair('EdDSA'));
  });

  beforeEach(async () => {
    now = T0;
    store = new InMemoryAuthStore();
    store.signingKeys.set(KID, {
      kid: KID,
      alg: 'EdDSA',
      publicJwk: await publicJwkOf(privateKey),
      notBefore: at(-86_400_000),
      expiresAt: at(86_400_000),
    });
    auth = new Authenticator({ store, clock: () => now, cacheTtlMs: 5_000, negativeCacheTtlMs: 1_000 });
  });

  const token = (o: Partial<Parameters<typeof signAccessToken>[0]> = {}) =>
    signAccessToken({
      key: privateKey,
      kid: KID,
      alg: 'EdDSA',
      organizationId: ORG,
      userId: USER,
      role: 'DEVELOPER',
      tokenId: randomUUID(),
      issuedAt: now,
      expiresAt: at(15 * 60_000),
      ...o,
    });
  const bearer = async (t: string | Promise<string>) => ({ authorization: `Bearer ${await t}` });
  const withKey = (key: string) => ({ apiKey: key });
  const putApiKey = (key: string, record: Partial<ApiKeyRecord> = {}) =>
    store.apiKeys.set(apiKeyDigest(key), {
      apiKeyId: randomUUID(),
      organizationId: ORG,
      scopes: ['events:write'],
      mode: 'live',
      revokedAt: null,
      ...record,
    });
  const rejection = async (p: Promise<unknown>): Promise<ProblemError> => {
    const outcome = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(outcome instanceof ProblemError)) throw new Error(`expected a ProblemError, got ${String(outcome)}`);
    return outcome;
  };

  describe('bearer tokens', () => {
    it('accepts a valid token and returns the user principal with the token role', async () => {
      const tokenId = randomUUID();
      const principal = await auth.authenticate(await bearer(token({ tokenId })), 'jwt');
      expect(principal).toEqual({ kind: 'user', organizationId: ORG, userId: USER, role: 'DEVELOPER', tokenId });
    });

    it('refuses an expired token with TOKEN_EXPIRED (beyond the 5 s tolerance)', async () => {
      const t = await token({ expiresAt: at(60_000) });
      now = at(64_000);
      await expect(auth.authenticate(await bearer(t), 'jwt')).resolves.toMatchObject({ kind: 'user' });
      now = at(66_000);
      await expect(auth.authenticate(await bearer(t), 'jwt')).rejects.toMatchObject({
        status: 401,
        code: 'TOKEN_EXPIRED',
      });
    });

    it.each([
      ['a wrong signature', () => token({ key: otherPrivateKey }), /signature/],
      ['an unknown kid', () => token({ kid: 'nope' }), /unknown key/],
    ])('refuses %s with TOKEN_INVALID', async (_, make, detail) => {
      const err = await rejection(auth.authenticate(await bearer(make()), 'jwt'));
      expect(err).toMatchObject({ status: 401, code: 'TOKEN_INVALID' });
      expect(err.detail).toMatch(detail);
    });

    it('refuses a token whose header alg differs from the alg recorded for its kid', async () => {
      store.signingKeys.set(KID, { ...store.signingKeys.get(KID)!, alg: 'ES256' });
      const err = await rejection(auth.authenticate(await bearer(token()), 'jwt'));
      expect(err).toMatchObject({ code: 'TOKEN_INVALID', detail: "the token's algorithm does not match its key" });
    });

    it.each([
      ['iss', { iss: 'someone-else', aud: JWT_AUDIENCE }],
      ['aud', { iss: JWT_ISSUER, aud: 'another-audience' }],
    ])('refuses a token with the wrong %s', async (claim, { iss, aud }) => {
      const t = await new SignJWT({ org: ORG, role: 'OWNER' })
        .setProtectedHeader({ alg: 'EdDSA', kid: KID, typ: 'JWT' })
        .setIssuer(iss)
        .setAudience(aud)
        .setSubject(USER)
        .setJti(randomUUID())
        .setIssuedAt(Math.floor(now.getTime() / 1000))
        .setExpirationTime(Math.floor(now.getTime() / 1000) + 600)
        .sign(privateKey);
      const err = await rejection(auth.authenticate(await bearer(t), 'jwt'));
      expect(err).toMatchObject({ code: 'TOKEN_INVALID', detail: `the token's "${claim}" claim is invalid` });
    });

    it('refuses tokens signed by a key past its expiresAt or before its notBefore', async () => {
      const t = await token();
      store.signingKeys.set(KID, { ...store.signingKeys.get(KID)!, expiresAt: at(-1) });
      await expect(auth.authenticate(await bearer(t), 'jwt')).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
        detail: 'the token was signed with a key that has expired',
      });
      auth.invalidate();
      store.signingKeys.set(KID, { ...store.signingKeys.get(KID)!, notBefore: at(60_000), expiresAt: at(120_000) });
      await expect(auth.authenticate(await bearer(t), 'jwt')).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
        detail: 'the token was signed with a key that is not valid yet',
      });
    });

    it.each([
      ['role', { role: 'ROOT' as never }],
      ['org', { organizationId: 'not-a-uuid' }],
      ['sub', { userId: ORG.toUpperCase() }],
      ['jti', { tokenId: 'abc' }],
    ])('refuses a validly signed token with a bad %s claim', async (claim, overrides) => {
      const err = await rejection(auth.authenticate(await bearer(token(overrides)), 'jwt'));
      expect(err).toMatchObject({ code: 'TOKEN_INVALID', detail: `the token's "${claim}" claim is invalid` });
    });

    it('refuses garbage as TOKEN_INVALID without echoing it', async () => {
      const err = await rejection(auth.authenticate({ authorization: 'Bearer secret-garbage.x.y' }, 'jwt'));
      expect(err).toMatchObject({ code: 'TOKEN_INVALID' });
      expect(err.detail).not.toContain('secret-garbage');
    });

    it('lets a store failure surface as itself, not as a 401', async () => {
      jest.spyOn(store, 'signingKey').mockRejectedValue(new Error('connection refused'));
      await expect(auth.authenticate(await bearer(token()), 'jwt')).rejects.toThrow('connection refused');
    });
  });

  describe('membership', () => {
    const member = (role: 'OWNER' | 'ADMIN' | 'DEVELOPER' | 'VIEWER' | null, updatedAt: Date) =>
      store.putMember({ organizationId: ORG, userId: USER, role, updatedAt });

    it('refuses with MEMBERSHIP_REVOKED a token of a member removed after it was issued', async () => {
      const t = await token();
      member(null, at(1_000));
      await expect(auth.authenticate(await bearer(t), 'jwt')).rejects.toMatchObject({
        status: 401,
        code: 'MEMBERSHIP_REVOKED',
      });
    });

    it('uses the new role of a member whose role changed after the token was issued', async () => {
      const t = await token({ role: 'OWNER' });
      member('VIEWER', at(1_000));
      await expect(auth.authenticate(await bearer(t), 'jwt')).resolves.toMatchObject({ role: 'VIEWER' });
    });

    it("keeps the token's role when the record is older than the token (or there is none yet)", async () => {
      await expect(auth.authenticate(await bearer(token({ role: 'ADMIN' })), 'jwt')).resolves.toMatchObject({
        role: 'ADMIN',
      });
      // removed long ago, since re-invited; the projection has not seen the new join yet
      member(null, at(-3_600_000));
      auth.invalidate();
      await expect(auth.authenticate(await bearer(token({ role: 'ADMIN' })), 'jwt')).resolves.toMatchObject({
        role: 'ADMIN',
      });
    });

    it('sees a removal through the store within cacheTtlMs, and at once after invalidate()', async () => {
      const t = await token();
      member('DEVELOPER', at(-60_000));
      await auth.authenticate(await bearer(t), 'jwt');
      member(null, at(1_000));
      now = at(4_000); // still cached
      await expect(auth.authenticate(await bearer(t), 'jwt')).resolves.toMatchObject({ kind: 'user' });
      now = at(5_000);
      await expect(auth.authenticate(await bearer(t), 'jwt')).rejects.toMatchObject({ code: 'MEMBERSHIP_REVOKED' });

      member('DEVELOPER', at(2_000)); // re-joined
      auth.invalidate();
      await auth.authenticate(await bearer(t), 'jwt');
      member(null, at(3_000));
      auth.invalidate();
      await expect(auth.authenticate(await bearer(t), 'jwt')).rejects.toMatchObject({ code: 'MEMBERSHIP_REVOKED' });
    });
  });

  describe('API keys', () => {
    it('accepts a known key and returns the key principal', async () => {
      putApiKey(LIVE_KEY, { apiKeyId: 'id-1', scopes: ['events:write', 'usage:read'] });
      await expect(auth.authenticate(withKey(LIVE_KEY), 'apiKey')).resolves.toEqual({
        kind: 'apiKey',
        organizationId: ORG,
        apiKeyId: 'id-1',
        scopes: ['events:write', 'usage:read'],
        mode: 'live',
      });
    });

    it('refuses an unknown key with API_KEY_INVALID, without echoing it', async () => {
      const err = await rejection(auth.authenticate(withKey(LIVE_KEY), 'apiKey'));
      expect(err).toMatchObject({ status: 401, code: 'API_KEY_INVALID' });
      expect(err.detail).not.toContain(LIVE_KEY);
    });

    it.each(['uf_live_short', 'sk_live_' + 'a'.repeat(40), `uf_prod_${'a'.repeat(40)}`, `uf_live_${'a'.repeat(39)}!`])(
      'refuses the malformed key %s without asking the store',
      async (key) => {
        const lookups = jest.spyOn(store, 'apiKeyByDigest');
        const err = await rejection(auth.authenticate(withKey(key), 'apiKey'));
        expect(err).toMatchObject({ code: 'API_KEY_INVALID', detail: 'the API key is malformed' });
        expect(lookups).not.toHaveBeenCalled();
      },
    );

    it('refuses a revoked key with API_KEY_REVOKED; a revocation dated later has not happened yet', async () => {
      putApiKey(LIVE_KEY, { revokedAt: at(60_000) });
      await expect(auth.authenticate(withKey(LIVE_KEY), 'apiKey')).resolves.toMatchObject({ kind: 'apiKey' });
      now = at(60_000);
      await expect(auth.authenticate(withKey(LIVE_KEY), 'apiKey')).rejects.toMatchObject({
        status: 401,
        code: 'API_KEY_REVOKED',
      });
    });

    it("refuses a key whose prefix mode differs from the record's mode", async () => {
      const testKey = `uf_test_${'a'.repeat(40)}`;
      putApiKey(testKey, { mode: 'live' });
      await expect(auth.authenticate(withKey(testKey), 'apiKey')).rejects.toMatchObject({ code: 'API_KEY_INVALID' });
    });

    it('sees a revocation through the store within cacheTtlMs, and at once after invalidate()', async () => {
      putApiKey(LIVE_KEY);
      await auth.authenticate(withKey(LIVE_KEY), 'apiKey');
      const record = store.apiKeys.get(apiKeyDigest(LIVE_KEY))!;
      store.apiKeys.set(apiKeyDigest(LIVE_KEY), { ...record, revokedAt: at(1_000) });
      now = at(4_999); // the cached record (not revoked) is still trusted
      await expect(auth.authenticate(withKey(LIVE_KEY), 'apiKey')).resolves.toMatchObject({ kind: 'apiKey' });
      now = at(5_000);
      await expect(auth.authenticate(withKey(LIVE_KEY), 'apiKey')).rejects.toMatchObject({ code: 'API_KEY_REVOKED' });

      const other = `uf_live_${'b'.repeat(40)}`;
      putApiKey(other);
      await auth.authenticate(withKey(other), 'apiKey');
      const otherRecord = store.apiKeys.get(apiKeyDigest(other))!;
      store.apiKeys.set(apiKeyDigest(other), { ...otherRecord, revokedAt: now });
      auth.invalidate();
      await expect(auth.authenticate(withKey(other), 'apiKey')).rejects.toMatchObject({ code: 'API_KEY_REVOKED' });
    });

    it('caches an unknown key for negativeCacheTtlMs only', async () => {
      const lookups = jest.spyOn(store, 'apiKeyByDigest');
      for (let i = 0; i < 10; i++)
        await expect(auth.authenticate(withKey(LIVE_KEY), 'apiKey')).rejects.toMatchObject({
          code: 'API_KEY_INVALID',
        });
      expect(lookups).toHaveBeenCalledTimes(1);
      putApiKey(LIVE_KEY); // created meanwhile
      now = at(1_000);
      await expect(auth.authenticate(withKey(LIVE_KEY), 'apiKey')).resolves.toMatchObject({ kind: 'apiKey' });
      expect(lookups).toHaveBeenCalledTimes(2);
    });

    it('keeps at most maxCacheEntries keys, evicting the oldest', async () => {
      const small = new Authenticator({ store, clock: () => now, maxCacheEntries: 2 });
      const keys = ['a', 'b', 'c'].map((c) => `uf_live_${c.repeat(40)}`);
      keys.forEach((k) => putApiKey(k));
      const lookups = jest.spyOn(store, 'apiKeyByDigest');
      for (const k of keys) await small.authenticate(withKey(k), 'apiKey');
      await small.authenticate(withKey(keys[2]!), 'apiKey'); // cached
      await small.authenticate(withKey(keys[1]!), 'apiKey'); // cached
      expect(lookups).toHaveBeenCalledTimes(3);
      await small.authenticate(withKey(keys[0]!), 'apiKey'); // evicted: read again
      expect(lookups).toHaveBeenCalledTimes(4);
    });
  });

  describe('signing key cache', () => {
    it('asks the store once per negativeCacheTtlMs about an unknown kid, however many tokens name it', async () => {
      const lookups = jest.spyOn(store, 'signingKey');
      const bad = await bearer(token({ kid: 'unknown-kid' }));
      const results = await Promise.allSettled(Array.from({ length: 50 }, () => auth.authenticate(bad, 'jwt')));
      for (let i = 0; i < 50; i++) await auth.authenticate(bad, 'jwt').catch(() => undefined);
      expect(results.every((r) => r.status === 'rejected')).toBe(true);
      expect(lookups).toHaveBeenCalledTimes(1);
      now = at(1_000);
      await auth.authenticate(bad, 'jwt').catch(() => undefined);
      expect(lookups).toHaveBeenCalledTimes(2);
    });

    it('re-reads a known key after cacheTtlMs, so a key retired early stops working everywhere', async () => {
      const t = await token();
      await auth.authenticate(await bearer(t), 'jwt');
      store.signingKeys.set(KID, { ...store.signingKeys.get(KID)!, expiresAt: at(1_000) });
      now = at(2_000);
      await expect(auth.authenticate(await bearer(t), 'jwt')).resolves.toMatchObject({ kind: 'user' });
      now = at(5_000);
      await expect(auth.authenticate(await bearer(t), 'jwt')).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    });
  });

  describe('credential kinds', () => {
    it.each([
      ['no credential', {}, 'jwt', /requires a bearer token/],
      ['an API key on a jwt-only route', { apiKey: LIVE_KEY }, 'jwt', /takes a bearer token .* not an API key/],
      ['a bearer token on an API-key-only route', { authorization: 'Bearer x.y.z' }, 'apiKey', /takes an API key/],
      ['another auth scheme', { authorization: 'Basic dXNlcjpwYXNz' }, 'jwtOrApiKey', /takes a bearer token/],
      ['both credentials', { authorization: 'Bearer x.y.z', apiKey: LIVE_KEY }, 'jwtOrApiKey', /not both/],
    ] as const)(
      'refuses %s with UNAUTHENTICATED naming what the route takes',
      async (_, credentials, allowed, detail) => {
        const err = await rejection(auth.authenticate(credentials, allowed));
        expect(err).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
        expect(err.detail).toMatch(detail);
        expect(err.detail).not.toContain('dXNlcjpwYXNz');
      },
    );

    it('takes either kind on a jwtOrApiKey route', async () => {
      putApiKey(LIVE_KEY);
      await expect(auth.authenticate(await bearer(token()), 'jwtOrApiKey')).resolves.toMatchObject({ kind: 'user' });
      await expect(auth.authenticate(withKey(LIVE_KEY), 'jwtOrApiKey')).resolves.toMatchObject({ kind: 'apiKey' });
    });
  });
});

async function publicJwkOf(privateKey: KeyLike) {
  // a private JWK minus `d` is its public JWK
  const { d: _d, ...jwk } = await exportJWK(privateKey);
  return jwk;
}
