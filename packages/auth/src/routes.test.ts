import { Type } from '@sinclair/typebox';
import { Closed, Label, Uuid, type Role, type RouteSpec } from '@usageflow/contracts';
import { createHttpApp, PROBLEM_CONTENT_TYPE, startHttpServer, type RunningServer } from '@usageflow/http';
import { createLogger } from '@usageflow/telemetry';
import { exportJWK, generateKeyPair, type KeyLike } from 'jose';
import { randomUUID } from 'node:crypto';
import { Authenticator } from './authenticator';
import { InMemoryAuthStore } from './memory-store';
import { defineRoute, mountRoutes, requireUser, type RouteHandler } from './routes';
import { apiKeyDigest, signAccessToken } from './tokens';

const ORG = randomUUID();
const base = { summary: 's', tag: 't', responses: { 200: { description: 'ok' } } } as const;

const routes = [
  defineRoute(
    {
      ...base,
      method: 'get',
      path: '/v1/things/{id}',
      operationId: 'getThing',
      auth: 'jwtOrApiKey',
      permission: 'catalog:read',
      pathParams: { id: Uuid },
      query: { limit: Type.Integer({ minimum: 1, maximum: 200 }), archived: Type.Boolean() },
    },
    (req, res) => {
      res.json({ organizationId: req.auth.organizationId, id: req.params.id, query: req.query });
    },
  ),
  defineRoute(
    {
      ...base,
      method: 'post',
      path: '/v1/things',
      operationId: 'createThing',
      auth: 'jwt',
      permission: 'catalog:manage',
      body: Closed({ name: Label }),
    },
    async (req, res) => {
      res.status(201).json({ name: req.body.name, by: req.auth.userId });
    },
  ),
  defineRoute(
    { ...base, method: 'post', path: '/v1/events', operationId: 'sendEvent', auth: 'apiKey', scope: 'events:write' },
    (req, res) => {
      res.status(202).json({ apiKeyId: req.auth.apiKeyId });
    },
  ),
  defineRoute(
    { ...base, method: 'get', path: '/v1/whoami', operationId: 'whoami', auth: 'jwtOrApiKey' },
    (req, res) => {
      res.json({ kind: req.auth.kind });
    },
  ),
  defineRoute({ ...base, method: 'get', path: '/v1/me', operationId: 'me', auth: 'jwtOrApiKey' }, (req, res) => {
    res.json({ userId: requireUser(req).userId });
  }),
  defineRoute({ ...base, method: 'get', path: '/v1/public', operationId: 'open', auth: 'none' }, (req, res) => {
    res.json({ auth: req.auth ?? null });
  }),
  defineRoute({ ...base, method: 'get', path: '/v1/boom', operationId: 'boom', auth: 'none' }, async () => {
    await Promise.resolve();
    throw new Error('internal detail');
  }),
] as const satisfies readonly RouteHandler[];

describe('mountRoutes', () => {
  let server: RunningServer;
  let url: string;
  let privateKey: KeyLike;
  const store = new InMemoryAuthStore();

  beforeAll(async () => {
    ({ privateKey } = await generateKeyPair('EdDSA'));
    const { d: _d, ...publicJwk } = await exportJWK(privateKey);
    store.signingKeys.set('k1', {
      kid: 'k1',
      alg: 'EdDSA',
      publicJwk,
      notBefore: new Date(Date.now() - 60_000),
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const authenticator = new Authenticator({ store });
    const app = createHttpApp({
      logger: createLogger({ service: 'test', level: 'silent' }),
      readiness: {},
      routes: (a) => mountRoutes(a, authenticator, routes),
    });
    server = await startHttpServer(app, 0, '127.0.0.1');
    url = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server.close());

  const userToken = (role: Role, userId = randomUUID()) =>
    signAccessToken({
      key: privateKey,
      kid: 'k1',
      alg: 'EdDSA',
      organizationId: ORG,
      userId,
      role,
      tokenId: randomUUID(),
      issuedAt: new Date(),
      expiresAt: new Date(Date.now() + 600_000),
    });
  const as = async (role: Role) => ({ authorization: `Bearer ${await userToken(role)}` });
  const apiKey = (scopes: ('events:write' | 'catalog:read' | 'usage:read')[]) => {
    const key = `uf_test_${randomUUID().replace(/-/g, '')}`;
    store.apiKeys.set(apiKeyDigest(key), {
      apiKeyId: randomUUID(),
      organizationId: ORG,
      scopes,
      mode: 'test',
      revokedAt: null,
    });
    return { 'x-usageflow-api-key': key };
  };
  const get = (path: string, headers: Record<string, string> = {}) => fetch(url + path, { headers });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const problem = async (res: Response) => {
    expect(res.headers.get('content-type')).toContain(PROBLEM_CONTENT_TYPE);
    return (await res.json()) as { code: string; detail?: string; errors?: { field: string; message: string }[] };
  };
  const thing = `/v1/things/${randomUUID()}`;

  it('answers 401 problem+json without a credential', async () => {
    const res = await get(thing);
    expect(res.status).toBe(401);
    expect(await problem(res)).toMatchObject({
      code: 'UNAUTHENTICATED',
      detail: expect.stringMatching(/bearer token/),
    });
  });

  it('answers 401 TOKEN_INVALID for a bad token', async () => {
    const res = await get(thing, { authorization: 'Bearer not.a.token' });
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe('TOKEN_INVALID');
  });

  it('answers 403 naming the permission and role for a role lacking the permission, 2xx for one holding it', async () => {
    const denied = await post('/v1/things', { name: 'x' }, await as('VIEWER'));
    expect(denied.status).toBe(403);
    expect(await problem(denied)).toMatchObject({
      code: 'FORBIDDEN',
      detail: 'requires the catalog:manage permission, which the VIEWER role does not hold',
    });
    const userId = randomUUID();
    const allowed = await post(
      '/v1/things',
      { name: 'x' },
      { authorization: `Bearer ${await userToken('ADMIN', userId)}` },
    );
    expect(allowed.status).toBe(201);
    expect(await allowed.json()).toEqual({ name: 'x', by: userId });
  });

  it('lets an API key in when it holds the scope (or the permission named like one), 403 naming the scope otherwise', async () => {
    expect((await post('/v1/events', {}, apiKey(['events:write']))).status).toBe(202);
    const denied = await post('/v1/events', {}, apiKey(['usage:read']));
    expect(denied.status).toBe(403);
    expect(await problem(denied)).toMatchObject({
      code: 'FORBIDDEN',
      detail: 'requires an API key with the events:write scope',
    });

    expect((await get(thing, apiKey(['catalog:read']))).status).toBe(200);
    const noRead = await get(thing, apiKey(['events:write']));
    expect(noRead.status).toBe(403);
    expect((await problem(noRead)).detail).toBe('requires an API key with the catalog:read scope');
  });

  it('refuses an API key on a jwt-only route with 401 UNAUTHENTICATED', async () => {
    const res = await post('/v1/things', { name: 'x' }, apiKey(['events:write']));
    expect(res.status).toBe(401);
    expect((await problem(res)).detail).toMatch(/not an API key/);
  });

  it('lets any valid key or user through a route with neither permission nor scope', async () => {
    expect(await (await get('/v1/whoami', apiKey(['usage:read']))).json()).toEqual({ kind: 'apiKey' });
    expect(await (await get('/v1/whoami', await as('VIEWER'))).json()).toEqual({ kind: 'user' });
  });

  it('requireUser refuses an API key with 401', async () => {
    const res = await get('/v1/me', apiKey(['usage:read']));
    expect(res.status).toBe(401);
    expect((await problem(res)).code).toBe('UNAUTHENTICATED');
  });

  it('answers 400 VALIDATION_FAILED naming path.id for a malformed uuid', async () => {
    const res = await get('/v1/things/not-a-uuid', await as('VIEWER'));
    expect(res.status).toBe(400);
    const body = await problem(res);
    expect(body.code).toBe('VALIDATION_FAILED');
    expect(body.errors).toEqual([{ field: 'path.id', message: expect.stringMatching(/uuid/) }]);
  });

  it('parses declared query params by their schema, names bad ones, ignores undeclared ones', async () => {
    const ok = await get(`${thing}?limit=20&archived=true&other=x`, await as('VIEWER'));
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { query: unknown }).query).toEqual({ limit: 20, archived: true, other: 'x' });

    const bad = await get(`${thing}?limit=abc&archived=maybe`, await as('VIEWER'));
    expect(bad.status).toBe(400);
    expect((await problem(bad)).errors?.map((e) => e.field)).toEqual(['query.limit', 'query.archived']);
  });

  it('answers 400 naming the body field, without calling the handler', async () => {
    const missing = await post('/v1/things', {}, await as('OWNER'));
    expect(missing.status).toBe(400);
    expect((await problem(missing)).errors).toEqual([{ field: 'name', message: 'is required' }]);
    const extra = await post('/v1/things', { name: 'x', organizationId: ORG }, await as('OWNER'));
    expect((await problem(extra)).errors).toEqual([{ field: 'organizationId', message: 'is not allowed' }]);
  });

  it('authenticates before validating: a bad body from a stranger is a 401, not a 400', async () => {
    expect((await post('/v1/things', {})).status).toBe(401);
  });

  it('runs auth none routes without a principal and sends async errors to the problem handler', async () => {
    expect(await (await get('/v1/public')).json()).toEqual({ auth: null });
    const res = await get('/v1/boom');
    expect(res.status).toBe(500);
    expect(JSON.stringify(await problem(res))).not.toContain('internal detail');
  });

  it('refuses at mount a spec whose auth contradicts its permission or scope', () => {
    const spec = { ...base, method: 'get', path: '/x', operationId: 'x' } as const;
    const bad: RouteSpec[] = [
      { ...spec, auth: 'none', permission: 'catalog:read' },
      { ...spec, auth: 'jwt', scope: 'events:write' },
      { ...spec, auth: 'jwtOrApiKey', permission: 'members:read' },
    ];
    for (const s of bad) {
      expect(() =>
        mountRoutes(createRouterStub(), new Authenticator({ store }), [{ spec: s, handle: () => {} }]),
      ).toThrow(/route x/);
    }
  });
});

function createRouterStub() {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('express') as typeof import('express')).Router();
}
