import { openApi31Errors } from '../../test/oas31';
import { compileValidator } from '../validate';
import {
  AcceptInvitationBody,
  CreateApiKeyBody,
  IDENTITY_ROUTES,
  SignupBody,
  UpdateOrganizationBody,
} from './identity';
import { buildOpenApiDocument } from './openapi';

// The architecture's path table for identity, verbatim: the declarations must cover it exactly.
// Additions to the table are listed after it, so the table itself stays recognizable.
const ARCHITECTURE_PATHS = [
  'POST /v1/auth/signup',
  'POST /v1/auth/login',
  'POST /v1/auth/refresh',
  'POST /v1/auth/logout',
  'GET /v1/me',
  'GET /v1/organization',
  'GET /v1/members',
  'PATCH /v1/members/{userId}',
  'DELETE /v1/members/{userId}',
  'POST /v1/invitations',
  'GET /v1/invitations',
  'DELETE /v1/invitations/{id}',
  'POST /v1/invitations/accept',
  'POST /v1/api-keys',
  'GET /v1/api-keys',
  'DELETE /v1/api-keys/{id}',
  'GET /.well-known/jwks.json',
  // added: the organization's owner renames it and changes its settings (ingestion's unknownMetrics)
  'PATCH /v1/organization',
];

describe('identity routes', () => {
  it('declare exactly the paths of the architecture', () => {
    const declared = IDENTITY_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`);
    expect([...declared].sort()).toEqual([...ARCHITECTURE_PATHS].sort());
  });

  it('build a valid OpenAPI 3.1 document', () => {
    const doc = buildOpenApiDocument({ title: 'identity', version: '1', routes: IDENTITY_ROUTES });
    expect(openApi31Errors(doc)).toEqual([]);
  });

  it('guard every route but the public auth ones with a JWT and, where data is touched, a permission', () => {
    const open = IDENTITY_ROUTES.filter((r) => r.auth === 'none').map((r) => r.operationId);
    expect(open.sort()).toEqual(['acceptInvitation', 'getJwks', 'login', 'logout', 'refreshToken', 'signup']);
    for (const r of IDENTITY_ROUTES) {
      if (r.auth === 'none' || r.operationId === 'getMe') continue;
      expect([r.operationId, r.auth, 'permission' in r]).toEqual([r.operationId, 'jwt', true]);
    }
  });
});

describe('identity bodies', () => {
  const signup = compileValidator(SignupBody);

  it('refuse short passwords and passwords bcrypt would truncate', () => {
    const base = { email: 'grace@cloudai.example', organizationName: 'CloudAI' };
    expect(signup({ ...base, password: 'correct horse' }).ok).toBe(true);
    expect(signup({ ...base, password: 'short' }).ok).toBe(false);
    expect(signup({ ...base, password: 'x'.repeat(73) }).ok).toBe(false);
  });

  it('refuse unknown fields and unknown scopes', () => {
    const create = compileValidator(CreateApiKeyBody);
    expect(create({ name: 'backend' }).ok).toBe(true);
    expect(create({ name: 'backend', scopes: ['members:manage'] }).ok).toBe(false);
    expect(create({ name: 'backend', organizationId: 'x' }).ok).toBe(false);
    expect(compileValidator(AcceptInvitationBody)({ token: 'short', password: 'p' }).ok).toBe(false);
  });

  it('take an organization update of the name, the settings or both, never an empty one', () => {
    const update = compileValidator(UpdateOrganizationBody);
    expect(update({ name: 'CloudAI Labs' }).ok).toBe(true);
    expect(update({ settings: { unknownMetrics: 'ACCEPT' } }).ok).toBe(true);
    expect(update({ name: 'CloudAI', settings: { unknownMetrics: 'REFUSE' } }).ok).toBe(true);
    expect(update({})).toMatchObject({ ok: false });
    expect(update({ settings: {} })).toMatchObject({ ok: false, issues: [{ field: 'settings' }] });
    expect(update({ settings: { unknownMetrics: 'LENIENT' } })).toMatchObject({
      ok: false,
      issues: [{ field: 'settings.unknownMetrics', message: 'must be one of: REFUSE, ACCEPT' }],
    });
    expect(update({ settings: { unknownMetrics: 'ACCEPT', other: true } }).ok).toBe(false);
    expect(update({ id: '2a53f096-5115-4b80-8205-6621e87546c3' }).ok).toBe(false);
  });
});
