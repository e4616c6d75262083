// Another service accepts identity's credentials knowing only what reached it through the
// identity topic: no HTTP between services. The "other service" here is the shared auth package
// wired as any service wires it (its own schema, its own projection consumer).
import { TOPICS } from '@usageflow/contracts';
import { serviceAuth, serviceAuthMigrations, defineRoute, mountRoutes } from '@usageflow/auth';
import { messagingMigrations, migrate } from '@usageflow/db';
import { createHttpApp, startHttpServer } from '@usageflow/http';
import { httpCall, testDatabase, testLogger, uniqueName, waitFor, type HttpCallOptions } from '@usageflow/testkit';
import { startIdentity, type Identity } from './harness';

let id: Identity;
let other: { baseUrl: string; stop: () => Promise<void> };

/** A service with two routes: a catalog read (people or keys) and a usage write (keys only). */
async function startOtherService(identity: Identity) {
  const logger = testLogger('other');
  const t = await testDatabase('other_service');
  await migrate(t.db, t.schema, [...messagingMigrations, ...serviceAuthMigrations]);
  const auth = serviceAuth({
    service: uniqueName('other'),
    db: t.db,
    kafka: identity.kafka,
    producer: identity.producer,
    logger,
    cacheTtlMs: 1000,
    topic: TOPICS.identity,
  });
  for (const worker of auth.workers) await worker.start();
  const routes = [
    defineRoute(
      {
        method: 'get',
        path: '/v1/things',
        operationId: 'listThings',
        summary: 'a catalog read',
        tag: 'test',
        auth: 'jwtOrApiKey',
        permission: 'catalog:read',
        responses: { 200: { description: 'ok' } },
      },
      (req, res) => {
        res.json({ organizationId: req.auth.organizationId, principal: req.auth });
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/things',
        operationId: 'createThing',
        summary: 'a catalog write',
        tag: 'test',
        auth: 'jwt',
        permission: 'catalog:manage',
        responses: { 201: { description: 'ok' } },
      },
      (_req, res) => {
        res.status(201).json({});
      },
    ),
    defineRoute(
      {
        method: 'post',
        path: '/v1/usage',
        operationId: 'sendUsage',
        summary: 'a usage write',
        tag: 'test',
        auth: 'apiKey',
        scope: 'events:write',
        responses: { 202: { description: 'ok' } },
      },
      (req, res) => {
        res.status(202).json({ organizationId: req.auth.organizationId });
      },
    ),
  ];
  const app = createHttpApp({ logger, readiness: {}, routes: (a) => mountRoutes(a, auth.authenticator, routes) });
  const server = await startHttpServer(app, 0, '127.0.0.1');
  return {
    baseUrl: `http://127.0.0.1:${server.port}`,
    async stop() {
      await server.close(1000);
      for (const worker of auth.workers) await worker.stop();
      await t.drop();
    },
  };
}

beforeAll(async () => {
  id = await startIdentity();
  other = await startOtherService(id);
});
afterAll(async () => {
  await other?.stop();
  await id?.stop();
});

const at = (path: string, method = 'GET', o: HttpCallOptions = {}) => httpCall(other.baseUrl, method, path, o);

describe('another service, through the identity topic only', () => {
  it('accepts the token of a person who just signed up and logged in, with their organization and role', async () => {
    const owner = await id.signup('xsvc');
    const login = await id.api('POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } });
    const res = await waitFor('the signing key to reach the other service', async () => {
      const r = await at('/v1/things', 'GET', { token: login.body.accessToken });
      return r.status === 200 ? r : undefined;
    });
    expect(res.body.principal).toMatchObject({
      kind: 'user',
      organizationId: owner.organizationId,
      userId: owner.userId,
      role: 'OWNER',
    });
  });

  it('applies the role matrix with the role it learned, and refuses a removed member', async () => {
    const owner = await id.signup('xsvc-roles');
    const viewer = await id.addMember(owner.token, 'VIEWER');
    await waitFor(
      'viewer accepted',
      async () => (await at('/v1/things', 'GET', { token: viewer.token })).status === 200,
    );
    const write = await at('/v1/things', 'POST', { token: viewer.token });
    expect([write.status, write.body.code]).toEqual([403, 'FORBIDDEN']);
    expect((await at('/v1/things', 'POST', { token: owner.token })).status).toBe(201);

    await id.api('DELETE', `/v1/members/${viewer.userId}`, { token: owner.token });
    const refused = await waitFor('the removal to reach the other service', async () => {
      const r = await at('/v1/things', 'GET', { token: viewer.token });
      return r.status === 401 ? r : undefined;
    });
    expect(refused.body.code).toBe('MEMBERSHIP_REVOKED');
  });

  it('accepts an API key with the right scope, and refuses it within seconds of its revocation', async () => {
    const owner = await id.signup('xsvc-keys');
    const created = await id.api('POST', '/v1/api-keys', { token: owner.token, body: { name: 'backend' } });
    const key = created.body.key as string;
    const accepted = await waitFor('the key to reach the other service', async () => {
      const r = await at('/v1/usage', 'POST', { apiKey: key });
      return r.status === 202 ? r : undefined;
    });
    expect(accepted.body.organizationId).toBe(owner.organizationId);
    // default scope is events:write only: a catalog read is refused
    const read = await at('/v1/things', 'GET', { apiKey: key });
    expect([read.status, read.body.code]).toEqual([403, 'FORBIDDEN']);

    const revokedAt = Date.now();
    expect((await id.api('DELETE', `/v1/api-keys/${created.body.id}`, { token: owner.token })).status).toBe(204);
    const refused = await waitFor(
      'the revocation to reach the other service',
      async () => {
        const r = await at('/v1/usage', 'POST', { apiKey: key });
        return r.status === 401 ? r : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(refused.body.code).toBe('API_KEY_REVOKED');
    expect(Date.now() - revokedAt).toBeLessThan(10_000);
  });

  it('refuses what identity never issued', async () => {
    const bogusKey = `uf_live_${'A'.repeat(43)}`;
    const r = await at('/v1/usage', 'POST', { apiKey: bogusKey });
    expect([r.status, r.body.code]).toEqual([401, 'API_KEY_INVALID']);
    const t = await at('/v1/things', 'GET', { token: 'eyJhbGciOiJFZERTQSJ9.e30.c2ln' });
    expect([t.status, t.body.code]).toEqual([401, 'TOKEN_INVALID']);
  });
});
