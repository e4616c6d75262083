// The identity service over HTTP on real Postgres and Kafka: sessions, members, invitations,
// API keys, signing keys, and what reaches the identity topic.
import { TOPICS } from '@usageflow/contracts';
import { readTopic, uniqueName } from '@usageflow/testkit';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startIdentity, type Identity } from './harness';

const MINUTE = 60_000;
const DAY = 86_400_000;

let id: Identity;
beforeAll(async () => {
  id = await startIdentity({ env: { LOGIN_MAX_FAILURES_PER_EMAIL: '3', INVITATION_TTL_HOURS: '1' } });
});
afterAll(() => id?.stop());

describe('sign-up and login', () => {
  it('signs up an OWNER whose token carries user, organization and role, then logs in', async () => {
    const owner = await id.signup('cloudai');
    const claims = decodeJwt(owner.accessToken);
    expect(decodeProtectedHeader(owner.accessToken)).toMatchObject({ alg: 'EdDSA', typ: 'JWT' });
    expect(decodeProtectedHeader(owner.accessToken).kid).toEqual(expect.any(String));
    expect(claims).toMatchObject({ sub: owner.userId, org: owner.organizationId, role: 'OWNER', iss: 'usageflow' });
    expect(owner.expiresIn).toBe(900);

    const login = await id.api('POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } });
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ userId: owner.userId, organizationId: owner.organizationId, role: 'OWNER' });
    const me = await id.api('GET', '/v1/me', { token: login.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user: { id: owner.userId, email: owner.email }, role: 'OWNER' });
    expect(me.body.permissions).toContain('members:manage');
  });

  it('refuses a second account for the same e-mail, whatever its case', async () => {
    const owner = await id.signup('dup');
    const again = await id.api('POST', '/v1/auth/signup', {
      body: { email: owner.email.toUpperCase(), password: 'another long password', organizationName: 'Dup 2' },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('EMAIL_TAKEN');
  });

  it('answers a wrong password and an unknown e-mail alike: 401 INVALID_CREDENTIALS', async () => {
    const owner = await id.signup('creds');
    const wrong = await id.api('POST', '/v1/auth/login', {
      body: { email: owner.email, password: 'not the password' },
    });
    const unknown = await id.api('POST', '/v1/auth/login', {
      body: { email: `${uniqueName('nobody')}@example.com`, password: 'whatever it is' },
    });
    expect([wrong.status, wrong.body.code]).toEqual([401, 'INVALID_CREDENTIALS']);
    expect([unknown.status, unknown.body.code]).toEqual([401, 'INVALID_CREDENTIALS']);
  });

  it('rate limits brute force per e-mail: 429 with Retry-After, even for the right password, until the window passes', async () => {
    const owner = await id.signup('brute');
    for (let i = 0; i < 3; i++) {
      const r = await id.api('POST', '/v1/auth/login', { body: { email: owner.email, password: `guess number ${i}` } });
      expect(r.status).toBe(401);
    }
    const blocked = await id.api('POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } });
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('LOGIN_RATE_LIMITED');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // another person's login is not affected
    const other = await id.signup('bystander');
    const ok = await id.api('POST', '/v1/auth/login', { body: { email: other.email, password: other.password } });
    expect(ok.status).toBe(200);
    id.clock.advance(16 * MINUTE);
    const after = await id.api('POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } });
    expect(after.status).toBe(200);
  });

  it('answers malformed bodies with problem+json 400s naming the field, writing nothing', async () => {
    const before = Number((await id.db('users').count<{ c: string }[]>('* as c'))[0]!.c);
    const missing = await id.api('POST', '/v1/auth/signup', {
      body: { password: 'long enough password', organizationName: 'X' },
    });
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(missing.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ field: 'email', message: 'is required' }],
    });

    const extra = await id.api('POST', '/v1/auth/signup', {
      body: { email: 'a@example.com', password: 'long enough password', organizationName: 'X', role: 'OWNER' },
    });
    expect(extra.body.errors).toEqual([{ field: 'role', message: 'is not allowed' }]);

    const short = await id.api('POST', '/v1/auth/signup', {
      body: { email: 'b@example.com', password: 'short', organizationName: 'X' },
    });
    expect(short.body.errors).toEqual([expect.objectContaining({ field: 'password' })]);

    // 30 three-byte characters: under 72 characters but over bcrypt's 72 bytes
    const long = await id.api('POST', '/v1/auth/signup', {
      body: { email: 'c@example.com', password: '€'.repeat(30), organizationName: 'X' },
    });
    expect([long.status, long.body.errors[0].field]).toEqual([400, 'password']);

    const badJson = await id.api('POST', '/v1/auth/login', { rawBody: '{"email": ' });
    expect([badJson.status, badJson.body.code]).toEqual([400, 'MALFORMED_JSON']);

    const badEmail = await id.api('POST', '/v1/auth/login', { body: { email: 'not-an-email', password: 'x' } });
    expect(badEmail.body.errors[0].field).toBe('email');

    const after = Number((await id.db('users').count<{ c: string }[]>('* as c'))[0]!.c);
    expect(after).toBe(before);
  });
});

describe('refresh tokens', () => {
  it('rotate on use; a reused token revokes its whole family; logout revokes', async () => {
    const owner = await id.signup('refresh');
    const first = await id.api('POST', '/v1/auth/refresh', { body: { refreshToken: owner.refreshToken } });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(owner.refreshToken);

    // the old one again: someone copied it. Both it and its successor stop working.
    const reuse = await id.api('POST', '/v1/auth/refresh', { body: { refreshToken: owner.refreshToken } });
    expect([reuse.status, reuse.body.code]).toEqual([401, 'REFRESH_TOKEN_INVALID']);
    const successor = await id.api('POST', '/v1/auth/refresh', { body: { refreshToken: first.body.refreshToken } });
    expect(successor.status).toBe(401);

    const login = await id.api('POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } });
    expect((await id.api('POST', '/v1/auth/logout', { body: { refreshToken: login.body.refreshToken } })).status).toBe(
      204,
    );
    const afterLogout = await id.api('POST', '/v1/auth/refresh', { body: { refreshToken: login.body.refreshToken } });
    expect(afterLogout.status).toBe(401);
  });

  it('expire', async () => {
    const owner = await id.signup('refresh-exp');
    id.clock.advance(31 * DAY);
    const r = await id.api('POST', '/v1/auth/refresh', { body: { refreshToken: owner.refreshToken } });
    expect(r.status).toBe(401);
  });
});

describe('members and roles', () => {
  it('never lose the last OWNER: demoting or removing them is 409 LAST_OWNER until another OWNER exists', async () => {
    const owner = await id.signup('lastowner');
    const demote = await id.api('PATCH', `/v1/members/${owner.userId}`, {
      token: owner.token,
      body: { role: 'ADMIN' },
    });
    expect([demote.status, demote.body.code]).toEqual([409, 'LAST_OWNER']);
    const remove = await id.api('DELETE', `/v1/members/${owner.userId}`, { token: owner.token });
    expect([remove.status, remove.body.code]).toEqual([409, 'LAST_OWNER']);

    const admin = await id.addMember(owner.token, 'ADMIN');
    const promote = await id.api('PATCH', `/v1/members/${admin.userId}`, {
      token: owner.token,
      body: { role: 'OWNER' },
    });
    expect([promote.status, promote.body.role]).toEqual([200, 'OWNER']);
    const nowDemote = await id.api('PATCH', `/v1/members/${owner.userId}`, {
      token: owner.token,
      body: { role: 'VIEWER' },
    });
    expect([nowDemote.status, nowDemote.body.role]).toEqual([200, 'VIEWER']);
    // the demoted founder's existing token now carries VIEWER rights: the change wins over the claim
    const tryManage = await id.api('PATCH', `/v1/members/${admin.userId}`, {
      token: owner.token,
      body: { role: 'ADMIN' },
    });
    expect(tryManage.status).toBe(403);
  });

  it('a removed member is refused at once, also with the token they already hold', async () => {
    const owner = await id.signup('removal');
    const dev = await id.addMember(owner.token, 'DEVELOPER');
    expect((await id.api('GET', '/v1/me', { token: dev.token })).status).toBe(200);
    expect((await id.api('DELETE', `/v1/members/${dev.userId}`, { token: owner.token })).status).toBe(204);
    const after = await id.api('GET', '/v1/me', { token: dev.token });
    expect([after.status, after.body.code]).toEqual([401, 'MEMBERSHIP_REVOKED']);
    const refresh = await id.api('POST', '/v1/auth/refresh', { body: { refreshToken: dev.refreshToken } });
    expect(refresh.status).toBe(401);
    const members = await id.api('GET', '/v1/members', { token: owner.token });
    expect(members.body.data.map((m: { userId: string }) => m.userId)).toEqual([owner.userId]);
  });

  it('pages the member list with a cursor', async () => {
    const owner = await id.signup('paging');
    await id.addMember(owner.token, 'VIEWER');
    await id.addMember(owner.token, 'VIEWER');
    const first = await id.api('GET', '/v1/members?limit=2', { token: owner.token });
    expect(first.body.data).toHaveLength(2);
    const second = await id.api('GET', `/v1/members?limit=2&cursor=${first.body.nextCursor}`, { token: owner.token });
    expect([second.body.data.length, second.body.nextCursor]).toEqual([1, null]);
    const bad = await id.api('GET', '/v1/members?cursor=bm90LWEtY3Vyc29y', { token: owner.token });
    expect([bad.status, bad.body.code]).toEqual([400, 'INVALID_CURSOR']);
  });
});

describe('invitations', () => {
  it('accept once: a second use is 409 INVITATION_ALREADY_ACCEPTED', async () => {
    const owner = await id.signup('inv-reuse');
    const email = `${uniqueName('invitee')}@example.com`;
    const created = await id.api('POST', '/v1/invitations', { token: owner.token, body: { email, role: 'DEVELOPER' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ email, role: 'DEVELOPER', status: 'PENDING' });
    expect(JSON.stringify(created.body)).not.toContain(id.mailer.tokenFor(email));
    const token = id.mailer.tokenFor(email);
    const accepted = await id.api('POST', '/v1/invitations/accept', { body: { token, password: 'a fine password' } });
    expect([accepted.status, accepted.body.role, accepted.body.organizationId]).toEqual([
      200,
      'DEVELOPER',
      owner.organizationId,
    ]);
    const again = await id.api('POST', '/v1/invitations/accept', { body: { token, password: 'a fine password' } });
    expect([again.status, again.body.code]).toEqual([409, 'INVITATION_ALREADY_ACCEPTED']);
  });

  it('expire: 410 INVITATION_EXPIRED after the configured time, and nobody joins', async () => {
    const owner = await id.signup('inv-exp');
    const email = `${uniqueName('late')}@example.com`;
    await id.api('POST', '/v1/invitations', { token: owner.token, body: { email, role: 'VIEWER' } });
    id.clock.advance(61 * MINUTE);
    const late = await id.api('POST', '/v1/invitations/accept', {
      body: { token: id.mailer.tokenFor(email), password: 'a fine password' },
    });
    expect([late.status, late.body.code]).toEqual([410, 'INVITATION_EXPIRED']);
    expect(await id.db('users').where({ email_key: email }).first()).toBeUndefined();
    const relogin = await id.api('POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } });
    const list = await id.api('GET', '/v1/invitations', { token: relogin.body.accessToken });
    expect(list.body.data[0].status).toBe('EXPIRED');
  });

  it('revoked: 410 INVITATION_REVOKED', async () => {
    const owner = await id.signup('inv-rev');
    const email = `${uniqueName('revoked')}@example.com`;
    const created = await id.api('POST', '/v1/invitations', { token: owner.token, body: { email, role: 'VIEWER' } });
    expect((await id.api('DELETE', `/v1/invitations/${created.body.id}`, { token: owner.token })).status).toBe(204);
    const r = await id.api('POST', '/v1/invitations/accept', {
      body: { token: id.mailer.tokenFor(email), password: 'a fine password' },
    });
    expect([r.status, r.body.code]).toEqual([410, 'INVITATION_REVOKED']);
  });

  it('an existing person joins a second organization with their own password and picks one per token', async () => {
    const a = await id.signup('multi-a');
    const b = await id.signup('multi-b');
    await id.api('POST', '/v1/invitations', { token: b.token, body: { email: a.email, role: 'ADMIN' } });
    const wrong = await id.api('POST', '/v1/invitations/accept', {
      body: { token: id.mailer.tokenFor(a.email), password: 'not their password' },
    });
    expect(wrong.status).toBe(401);
    const joined = await id.api('POST', '/v1/invitations/accept', {
      body: { token: id.mailer.tokenFor(a.email), password: a.password },
    });
    expect([joined.status, joined.body.userId, joined.body.organizationId]).toEqual([200, a.userId, b.organizationId]);
    expect(joined.body.organizations.map((o: { id: string }) => o.id).sort()).toEqual(
      [a.organizationId, b.organizationId].sort(),
    );
    const inB = await id.api('POST', '/v1/auth/login', {
      body: { email: a.email, password: a.password, organizationId: b.organizationId },
    });
    expect([inB.body.organizationId, inB.body.role]).toEqual([b.organizationId, 'ADMIN']);
    const switched = await id.api('POST', '/v1/auth/refresh', {
      body: { refreshToken: inB.body.refreshToken, organizationId: a.organizationId },
    });
    expect([switched.body.organizationId, switched.body.role]).toEqual([a.organizationId, 'OWNER']);
    const stranger = await id.signup('multi-c');
    const notMine = await id.api('POST', '/v1/auth/login', {
      body: { email: a.email, password: a.password, organizationId: stranger.organizationId },
    });
    expect([notMine.status, notMine.body.code]).toEqual([403, 'NOT_A_MEMBER']);
  });
});

describe('tenancy', () => {
  it("a token for organization A never reads or changes organization B: B's ids are 404", async () => {
    const a = await id.signup('tenant-a');
    const b = await id.signup('tenant-b');
    const bViewer = await id.addMember(b.token, 'VIEWER');
    const bKey = await id.api('POST', '/v1/api-keys', { token: b.token, body: { name: 'b key' } });
    const bInvite = await id.api('POST', '/v1/invitations', {
      token: b.token,
      body: { email: `${uniqueName('x')}@example.com`, role: 'VIEWER' },
    });
    const attempts = [
      await id.api('PATCH', `/v1/members/${bViewer.userId}`, { token: a.token, body: { role: 'ADMIN' } }),
      await id.api('DELETE', `/v1/members/${bViewer.userId}`, { token: a.token }),
      await id.api('DELETE', `/v1/api-keys/${bKey.body.id}`, { token: a.token }),
      await id.api('DELETE', `/v1/invitations/${bInvite.body.id}`, { token: a.token }),
    ];
    expect(attempts.map((r) => r.status)).toEqual([404, 404, 404, 404]);
    for (const r of attempts) expect(r.headers.get('content-type')).toMatch(/problem\+json/);
    // nothing of B changed, and A's lists hold only A's data
    const bMembers = await id.api('GET', '/v1/members', { token: b.token });
    expect(bMembers.body.data.find((m: { userId: string }) => m.userId === bViewer.userId).role).toBe('VIEWER');
    const bKeys = await id.api('GET', '/v1/api-keys', { token: b.token });
    expect(bKeys.body.data[0].revokedAt).toBeNull();
    const aLists = await Promise.all(
      ['/v1/members', '/v1/api-keys', '/v1/invitations'].map((p) => id.api('GET', p, { token: a.token })),
    );
    expect(aLists.map((l) => JSON.stringify(l.body))).not.toContain(b.organizationId);
    expect(JSON.stringify(aLists.map((l) => l.body))).not.toContain(bViewer.userId);
    const org = await id.api('GET', '/v1/organization', { token: a.token });
    expect(org.body.id).toBe(a.organizationId);
  });
});

describe('API keys', () => {
  it('are shown once, listed by prefix without the secret, and revocable', async () => {
    const owner = await id.signup('keys');
    const created = await id.api('POST', '/v1/api-keys', { token: owner.token, body: { name: 'Production backend' } });
    expect(created.status).toBe(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^uf_live_[A-Za-z0-9_-]{43}$/);
    expect(created.body).toMatchObject({ prefix: key.slice(0, 12), mode: 'live', scopes: ['events:write'] });
    const stored = await id.db('api_keys').where({ id: created.body.id }).first();
    expect(JSON.stringify(stored)).not.toContain(key);
    const list = await id.api('GET', '/v1/api-keys', { token: owner.token });
    expect(JSON.stringify(list.body)).not.toContain(key);
    expect(list.body.data[0]).toMatchObject({ id: created.body.id, prefix: created.body.prefix, lastUsedAt: null });

    const test = await id.api('POST', '/v1/api-keys', {
      token: owner.token,
      body: { name: 'CI', mode: 'test', scopes: ['events:write', 'usage:read'] },
    });
    expect(test.body.key).toMatch(/^uf_test_/);
    expect((await id.api('DELETE', `/v1/api-keys/${created.body.id}`, { token: owner.token })).status).toBe(204);
    expect((await id.api('DELETE', `/v1/api-keys/${created.body.id}`, { token: owner.token })).status).toBe(204);
    const after = await id.api('GET', '/v1/api-keys', { token: owner.token });
    expect(after.body.data.find((k: { id: string }) => k.id === created.body.id).revokedAt).not.toBeNull();
  });

  it('an Idempotency-Key retry creates one key and never stores or repeats the secret', async () => {
    const owner = await id.signup('keys-idem');
    const headers = { 'idempotency-key': uniqueName('idem') };
    const first = await id.api('POST', '/v1/api-keys', { token: owner.token, body: { name: 'k' }, headers });
    const retry = await id.api('POST', '/v1/api-keys', { token: owner.token, body: { name: 'k' }, headers });
    expect([first.status, retry.status]).toEqual([201, 201]);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.body.key).toBeUndefined();
    const stored = await id.db('idempotency_keys').where({ key: headers['idempotency-key'] }).first();
    expect(JSON.stringify(stored.response_body)).not.toContain(first.body.key);
    expect((await id.db('api_keys').where({ organization_id: owner.organizationId })).length).toBe(1);
  });
});

describe('signing keys', () => {
  it('rotate on schedule, publish the next key before it signs, and keep old tokens valid until they expire', async () => {
    const owner = await id.signup('rotation');
    const oldKid = decodeProtectedHeader(owner.accessToken).kid;
    const signsUntil = new Date((await id.db('signing_keys').where({ kid: oldKid }).first()).signs_until).getTime();

    // one hour before the key stops signing: a successor is created (and published) but does not sign yet
    id.clock.advance(signsUntil - id.clock.now().getTime() - 60 * MINUTE);
    const nextKid = await id.identity.keys.rotate();
    expect(nextKid).toEqual(expect.any(String));
    const jwks = await id.api('GET', '/.well-known/jwks.json');
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual(expect.arrayContaining([oldKid, nextKid]));
    for (const k of jwks.body.keys) expect(k).not.toHaveProperty('d');

    // five minutes before the boundary the old key still signs
    id.clock.advance(55 * MINUTE);
    const late = await id.api('POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } });
    expect(decodeProtectedHeader(late.body.accessToken).kid).toBe(oldKid);

    // past the boundary: new tokens carry the new kid, the token signed just before still works
    id.clock.advance(6 * MINUTE);
    const fresh = await id.api('POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } });
    expect(decodeProtectedHeader(fresh.body.accessToken).kid).toBe(nextKid);
    expect((await id.api('GET', '/v1/me', { token: late.body.accessToken })).status).toBe(200);
    expect((await id.api('GET', '/v1/me', { token: fresh.body.accessToken })).status).toBe(200);

    // once it has expired (15 minutes after issue), the old token is refused
    id.clock.advance(10 * MINUTE);
    const expired = await id.api('GET', '/v1/me', { token: late.body.accessToken });
    expect([expired.status, expired.body.code]).toEqual([401, 'TOKEN_EXPIRED']);
  });
});

describe('the identity topic', () => {
  it('carries the organization events through the outbox and never a secret', async () => {
    const owner = await id.signup('topic');
    const dev = await id.addMember(owner.token, 'DEVELOPER');
    const key = await id.api('POST', '/v1/api-keys', { token: dev.token, body: { name: 'k' } });
    await id.api('DELETE', `/v1/api-keys/${key.body.id}`, { token: dev.token });
    await id.api('PATCH', `/v1/members/${dev.userId}`, { token: owner.token, body: { role: 'VIEWER' } });
    await id.api('DELETE', `/v1/members/${dev.userId}`, { token: owner.token });

    // drained when the outbox has no unpublished row left
    const { waitFor } = await import('@usageflow/testkit');
    await waitFor('outbox drained', async () => {
      const rows = await id.db('outbox').count<{ c: string }[]>('* as c');
      const published = await id.db('outbox_relay_position').select();
      return Number(rows[0]!.c) > 0 && published.length > 0;
    });
    const all = await readTopic(id.kafka, TOPICS.identity, { count: 1, settleMs: 3_000, timeoutMs: 60_000 });
    const mine = all
      .map((r) => JSON.parse(r.value!))
      .filter((e) => e.organizationId === owner.organizationId)
      .map((e) => e.type);
    expect(mine).toEqual([
      'organization.created',
      'member.joined',
      'member.invited',
      'member.joined',
      'api_key.created',
      'api_key.revoked',
      'member.role_changed',
      'member.removed',
    ]);
    const raw = all.map((r) => r.value).join('\n');
    expect(raw).not.toContain(key.body.key);
    expect(raw).not.toContain(owner.password);
    expect(raw).not.toContain(owner.refreshToken);
    expect(raw).not.toContain('$2b$'); // no bcrypt hash
    expect(raw).not.toContain(id.mailer.tokenFor(dev.email));
    expect(raw).not.toContain('"d":'); // no private JWK member
  });
});

describe('the API description', () => {
  it('serves the OpenAPI document of every identity route', async () => {
    const doc = await id.api('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/v1/auth/signup', '/v1/api-keys/{id}']));
    expect(doc.body.paths['/v1/members/{userId}'].patch['x-usageflow-permission']).toBe('members:manage');
  });
});
