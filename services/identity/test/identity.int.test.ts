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
