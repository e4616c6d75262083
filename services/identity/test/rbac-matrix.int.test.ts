// The role x endpoint matrix of the identity service, tried for real: every role against every
// protected route, each request one that would succeed for an allowed role (fresh fixtures, so a
// 2xx never spoils a later case). The EXPECTED table below is written out by hand from
// ARCHITECTURE.md (Roles) on purpose: it is an independent statement of the matrix, not a copy of
// ROLE_PERMISSIONS, so a wrong grant in contracts or a wrong `permission` on a route fails here.
import { API_KEY_SCOPES, IDENTITY_ROUTES } from '@usageflow/contracts';
import { uniqueName } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import type { HttpCallResult as CallResult } from '@usageflow/testkit';
import { startIdentity, type Identity } from './harness';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Role = 'OWNER' | 'ADMIN' | 'DEVELOPER' | 'VIEWER';
const ROLES: readonly Role[] = ['OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER'];
const EVERY_ROLE: readonly Role[] = ROLES;

/** Who may call each protected identity route ("METHOD path" as declared in IDENTITY_ROUTES). */
const EXPECTED = {
  // reads: every role
  'GET /v1/me': EVERY_ROLE,
  'GET /v1/organization': EVERY_ROLE,
  'GET /v1/members': EVERY_ROLE,
  'GET /v1/invitations': EVERY_ROLE,
  'GET /v1/api-keys': EVERY_ROLE,
  // organization:manage: the name and settings (unknownMetrics) are the owner's alone
  'PATCH /v1/organization': ['OWNER'],
  // members:manage: "Owners change roles and remove members"
  'PATCH /v1/members/{userId}': ['OWNER'],
  'DELETE /v1/members/{userId}': ['OWNER'],
  // invitations: owners and admins
  'POST /v1/invitations': ['OWNER', 'ADMIN'],
  'DELETE /v1/invitations/{id}': ['OWNER', 'ADMIN'],
  // API keys: developers (and owners, who hold everything)
  'POST /v1/api-keys': ['OWNER', 'DEVELOPER'],
  'DELETE /v1/api-keys/{id}': ['OWNER', 'DEVELOPER'],
} as const satisfies Record<string, readonly Role[]>;

type RouteKey = keyof typeof EXPECTED;
const ROUTE_KEYS = Object.keys(EXPECTED) as RouteKey[];

const keyOf = (r: { method: string; path: string }) => `${r.method.toUpperCase()} ${r.path}`;
const PROTECTED = IDENTITY_ROUTES.filter((r) => r.auth !== 'none');

/** The route's declared success status (its one 2xx response). */
function successStatus(route: RouteKey): number {
  const spec = PROTECTED.find((r) => keyOf(r) === route);
  if (!spec) throw new Error(`${route} is not a protected route of IDENTITY_ROUTES`);
  const codes = Object.keys(spec.responses)
    .map(Number)
    .filter((s) => s >= 200 && s < 300);
  if (codes.length !== 1) throw new Error(`${route} declares ${codes.length} success statuses`);
  return codes[0]!;
}

const methodOf = (route: RouteKey) => route.split(' ')[0]!;

/** A placeholder path (any syntactically valid id) for requests refused before the handler runs. */
const anyPath = (route: RouteKey) => route.split(' ')[1]!.replace(/\{[A-Za-z]+\}/g, () => randomUUID());

let id: Identity;
let owner: { token: string; userId: string; organizationId: string };
const sessions = {} as Record<Role, { token: string; userId: string }>;

beforeAll(async () => {
  id = await startIdentity();
  owner = await id.signup('rbac');
  sessions.OWNER = owner;
  sessions.ADMIN = await id.addMember(owner.token, 'ADMIN');
  sessions.DEVELOPER = await id.addMember(owner.token, 'DEVELOPER');
  sessions.VIEWER = await id.addMember(owner.token, 'VIEWER');
});
afterAll(() => id?.stop());

// ---- reading state as the OWNER ---------------------------------------------------------------

/** Every item of a paginated list, as the OWNER sees it. */
async function listAll(path: string): Promise<Json[]> {
  const items: Json[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await id.api('GET', path + q, { token: owner.token });
    if (res.status !== 200) throw new Error(`GET ${path} as OWNER: ${res.status} ${JSON.stringify(res.body)}`);
    items.push(...res.body.data);
    cursor = res.body.nextCursor;
  } while (cursor);
  return items;
}

const memberById = async (userId: string) => (await listAll('/v1/members')).find((m) => m.userId === userId);
const invitationById = async (invId: string) => (await listAll('/v1/invitations')).find((i) => i.id === invId);
const apiKeyById = async (keyId: string) => (await listAll('/v1/api-keys')).find((k) => k.id === keyId);

async function ownerCreatesInvitation(): Promise<{ id: string; email: string }> {
  const email = `${uniqueName('pending')}@example.com`;
  const res = await id.api('POST', '/v1/invitations', { token: owner.token, body: { email, role: 'VIEWER' } });
  if (res.status !== 201) throw new Error(`invitation fixture: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, email };
}

async function ownerCreatesApiKey(name = 'fixture'): Promise<{ id: string; key: string }> {
  const res = await id.api('POST', '/v1/api-keys', { token: owner.token, body: { name } });
  if (res.status !== 201) throw new Error(`API key fixture: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, key: res.body.key };
}

// ---- one request per route that succeeds for an allowed role ----------------------------------

interface Prepared {
  path: string;
  body?: unknown;
  /** After a 2xx: the effect happened. */
  changed(res: CallResult): Promise<void>;
  /** After a 403: nothing changed. */
  unchanged(): Promise<void>;
}

const FIXTURES: Record<RouteKey, (role: Role) => Promise<Prepared>> = {
  'GET /v1/me': async (role) => ({
    path: '/v1/me',
    changed: async (res) => {
      expect(res.body).toMatchObject({ user: { id: sessions[role].userId }, role });
    },
    unchanged: async () => {},
  }),
  'GET /v1/organization': async () => ({
    path: '/v1/organization',
    changed: async (res) => {
      expect(res.body.id).toBe(owner.organizationId);
    },
    unchanged: async () => {},
  }),
  'GET /v1/members': async () => ({
    path: '/v1/members',
    changed: async (res) => {
      expect(res.body.data.map((m: { userId: string }) => m.userId)).toContain(owner.userId);
    },
    unchanged: async () => {},
  }),
  'GET /v1/invitations': async () => ({
    path: '/v1/invitations',
    changed: async (res) => {
      expect(res.body.data.length).toBeGreaterThan(0);
    },
    unchanged: async () => {},
  }),
  'GET /v1/api-keys': async () => ({
    path: '/v1/api-keys',
    changed: async (res) => {
      expect(Array.isArray(res.body.data)).toBe(true);
      for (const k of res.body.data) expect(k).not.toHaveProperty('key');
    },
    unchanged: async () => {},
  }),
  'PATCH /v1/organization': async () => {
    // one organization for every role: flip whatever it has now, so each case tries a real change
    const before = (await id.api('GET', '/v1/organization', { token: owner.token })).body;
    const name = uniqueName('renamed');
    const unknownMetrics = before.settings.unknownMetrics === 'REFUSE' ? 'ACCEPT' : 'REFUSE';
    return {
      path: '/v1/organization',
      body: { name, settings: { unknownMetrics } },
      changed: async (res) => {
        expect(res.body).toMatchObject({ id: owner.organizationId, name, settings: { unknownMetrics } });
        expect((await id.api('GET', '/v1/organization', { token: owner.token })).body).toEqual(res.body);
      },
      unchanged: async () => {
        expect((await id.api('GET', '/v1/organization', { token: owner.token })).body).toEqual(before);
      },
    };
  },
  'PATCH /v1/members/{userId}': async () => {
    const target = await id.addMember(owner.token, 'VIEWER');
    return {
      path: `/v1/members/${target.userId}`,
      body: { role: 'DEVELOPER' },
      changed: async (res) => {
        expect(res.body).toMatchObject({ userId: target.userId, role: 'DEVELOPER' });
        expect(await memberById(target.userId)).toMatchObject({ role: 'DEVELOPER' });
      },
      unchanged: async () => {
        expect(await memberById(target.userId)).toMatchObject({ role: 'VIEWER' });
      },
    };
  },
  'DELETE /v1/members/{userId}': async () => {
    const target = await id.addMember(owner.token, 'VIEWER');
    return {
      path: `/v1/members/${target.userId}`,
      changed: async () => {
        expect(await memberById(target.userId)).toBeUndefined();
      },
      unchanged: async () => {
        expect(await memberById(target.userId)).toMatchObject({ role: 'VIEWER' });
        // and they can still act in the organization
        expect((await id.api('GET', '/v1/me', { token: target.token })).status).toBe(200);
      },
    };
  },
  'POST /v1/invitations': async () => {
    const email = `${uniqueName('invitee')}@example.com`;
    return {
      path: '/v1/invitations',
      body: { email, role: 'VIEWER' },
      changed: async (res) => {
        expect(res.body).toMatchObject({ email, role: 'VIEWER', status: 'PENDING' });
        expect(await invitationById(res.body.id)).toMatchObject({ email, status: 'PENDING' });
        expect(id.mailer.sent.filter((m) => m.to === email)).toHaveLength(1);
      },
      unchanged: async () => {
        expect((await listAll('/v1/invitations')).filter((i) => i.email === email)).toEqual([]);
        expect(id.mailer.sent.filter((m) => m.to === email)).toEqual([]);
      },
    };
  },
  'DELETE /v1/invitations/{id}': async () => {
    const inv = await ownerCreatesInvitation();
    return {
      path: `/v1/invitations/${inv.id}`,
      changed: async () => {
        expect(await invitationById(inv.id)).toMatchObject({ status: 'REVOKED' });
      },
      unchanged: async () => {
        expect(await invitationById(inv.id)).toMatchObject({ status: 'PENDING' });
      },
    };
  },
  'POST /v1/api-keys': async () => {
    const before = (await listAll('/v1/api-keys')).map((k) => k.id);
    return {
      path: '/v1/api-keys',
      body: { name: 'k' },
      changed: async (res) => {
        expect(res.body).toMatchObject({ name: 'k', revokedAt: null, key: expect.any(String) });
        expect(await apiKeyById(res.body.id)).toMatchObject({ name: 'k', revokedAt: null });
      },
      unchanged: async () => {
        expect((await listAll('/v1/api-keys')).map((k) => k.id).sort()).toEqual([...before].sort());
      },
    };
  },
  'DELETE /v1/api-keys/{id}': async () => {
    const key = await ownerCreatesApiKey();
    return {
      path: `/v1/api-keys/${key.id}`,
      changed: async () => {
        expect(await apiKeyById(key.id)).toMatchObject({ revokedAt: expect.any(String) });
      },
      unchanged: async () => {
        expect(await apiKeyById(key.id)).toMatchObject({ revokedAt: null });
      },
    };
  },
};

function expectProblem(res: CallResult, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
}

// ---- the tests -------------------------------------------------------------------------------

describe('the EXPECTED table', () => {
  it('has exactly one row per protected route of IDENTITY_ROUTES', () => {
    expect([...ROUTE_KEYS].sort()).toEqual(PROTECTED.map(keyOf).sort());
  });

  it('names only known roles, and every route is allowed to OWNER', () => {
    for (const route of ROUTE_KEYS) {
      for (const role of EXPECTED[route]) expect(ROLES).toContain(role);
      expect(EXPECTED[route]).toContain('OWNER');
    }
  });
});

const CASES = ROUTE_KEYS.flatMap((route) =>
  ROLES.map((role) => {
    const allowed = (EXPECTED[route] as readonly Role[]).includes(role);
    return { role, route, allowed, expected: allowed ? successStatus(route) : 403 };
  }),
);

describe('role × endpoint matrix', () => {
  it.each(CASES)('$role → $route → $expected', async ({ role, route, allowed, expected }) => {
    const req = await FIXTURES[route](role);
    const res = await id.api(methodOf(route), req.path, { token: sessions[role].token, body: req.body });
    if (allowed) {
      // the body rides along so a wrong status shows why
      expect({ status: res.status, body: res.body }).toMatchObject({ status: expected });
      await req.changed(res);
    } else {
      expectProblem(res, 403, 'FORBIDDEN');
      await req.unchanged();
    }
  });
});

describe('which role an invitation may grant', () => {
  it('ADMIN inviting an OWNER → 403 ROLE_NOT_GRANTABLE, and no invitation is made', async () => {
    const email = `${uniqueName('would_be_owner')}@example.com`;
    const res = await id.api('POST', '/v1/invitations', {
      token: sessions.ADMIN.token,
      body: { email, role: 'OWNER' },
    });
    expectProblem(res, 403, 'ROLE_NOT_GRANTABLE');
    expect((await listAll('/v1/invitations')).filter((i) => i.email === email)).toEqual([]);
    expect(id.mailer.sent.filter((m) => m.to === email)).toEqual([]);
  });

  it('ADMIN inviting an ADMIN → 201', async () => {
    const email = `${uniqueName('new_admin')}@example.com`;
    const res = await id.api('POST', '/v1/invitations', {
      token: sessions.ADMIN.token,
      body: { email, role: 'ADMIN' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email, role: 'ADMIN', status: 'PENDING', invitedBy: sessions.ADMIN.userId });
  });
});

const BODIES: Partial<Record<RouteKey, unknown>> = {
  'PATCH /v1/organization': { settings: { unknownMetrics: 'ACCEPT' } },
  'PATCH /v1/members/{userId}': { role: 'DEVELOPER' },
  'POST /v1/invitations': { email: 'nobody@example.com', role: 'VIEWER' },
  'POST /v1/api-keys': { name: 'k' },
};

describe('no credential', () => {
  it.each(ROUTE_KEYS)('no token → %s → 401 UNAUTHENTICATED', async (route) => {
    const res = await id.api(methodOf(route), anyPath(route), { body: BODIES[route] });
    expectProblem(res, 401, 'UNAUTHENTICATED');
  });
});

describe('API keys do not open identity routes (bearer tokens only)', () => {
  let apiKey: string;
  beforeAll(async () => {
    // a live key with every scope, made by a DEVELOPER: still no way into identity
    const res = await id.api('POST', '/v1/api-keys', {
      token: sessions.DEVELOPER.token,
      body: {
        name: 'machine',
        scopes: [...API_KEY_SCOPES],
      },
    });
    expect(res.status).toBe(201);
    apiKey = res.body.key;
    expect(apiKey).toEqual(expect.any(String));
  });

  it.each(ROUTE_KEYS)('API key → %s → 401 UNAUTHENTICATED', async (route) => {
    const res = await id.api(methodOf(route), anyPath(route), { apiKey, body: BODIES[route] });
    expectProblem(res, 401, 'UNAUTHENTICATED');
  });

  it('an API key cannot revoke a real key or remove a real member', async () => {
    const key = await ownerCreatesApiKey('target');
    const member = await id.addMember(owner.token, 'VIEWER');
    expectProblem(await id.api('DELETE', `/v1/api-keys/${key.id}`, { apiKey }), 401, 'UNAUTHENTICATED');
    expectProblem(await id.api('DELETE', `/v1/members/${member.userId}`, { apiKey }), 401, 'UNAUTHENTICATED');
    expect(await apiKeyById(key.id)).toMatchObject({ revokedAt: null });
    expect(await memberById(member.userId)).toMatchObject({ role: 'VIEWER' });
  });
});

describe('the matrix follows the current role, not the one in the token', () => {
  it('a demoted ADMIN and a promoted VIEWER are judged by their new role on their next request', async () => {
    const admin = await id.addMember(owner.token, 'ADMIN');
    const viewer = await id.addMember(owner.token, 'VIEWER');
    const demote = await id.api('PATCH', `/v1/members/${admin.userId}`, {
      token: owner.token,
      body: { role: 'VIEWER' },
    });
    const promote = await id.api('PATCH', `/v1/members/${viewer.userId}`, {
      token: owner.token,
      body: { role: 'DEVELOPER' },
    });
    expect([demote.status, promote.status]).toEqual([200, 200]);

    const email = `${uniqueName('late')}@example.com`;
    const invite = await id.api('POST', '/v1/invitations', { token: admin.token, body: { email, role: 'VIEWER' } });
    expectProblem(invite, 403, 'FORBIDDEN');
    expect((await listAll('/v1/invitations')).filter((i) => i.email === email)).toEqual([]);
    const key = await id.api('POST', '/v1/api-keys', { token: viewer.token, body: { name: 'k' } });
    expect(key.status).toBe(201);
  });

  it("a removed member's token stops working: 401 MEMBERSHIP_REVOKED", async () => {
    const member = await id.addMember(owner.token, 'DEVELOPER');
    expect((await id.api('DELETE', `/v1/members/${member.userId}`, { token: owner.token })).status).toBe(204);
    expectProblem(await id.api('GET', '/v1/me', { token: member.token }), 401, 'MEMBERSHIP_REVOKED');
  });
});
