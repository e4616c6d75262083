import {
  API_KEY_SCOPES,
  DEFAULT_API_KEY_SCOPES,
  PERMISSIONS,
  ROLES,
  ROLE_PERMISSIONS,
  can,
  canInviteAs,
  hasScope,
  isApiKeyScope,
  isPermission,
  isRole,
  permissionsOf,
  type Permission,
} from './roles';

const writes = PERMISSIONS.filter((p) => !p.endsWith(':read'));
const reads = PERMISSIONS.filter((p) => p.endsWith(':read'));

describe('role permission matrix', () => {
  it('lets every role read everything', () => {
    for (const role of ROLES) for (const permission of reads) expect(can(role, permission)).toBe(true);
  });

  it('OWNER can do everything, including billing and members', () => {
    for (const permission of PERMISSIONS) expect(can('OWNER', permission)).toBe(true);
  });

  it('VIEWER can write nothing', () => {
    for (const permission of writes) expect(can('VIEWER', permission)).toBe(false);
  });

  it('ADMIN manages billing, the catalog (metrics, plans, ...) and invites', () => {
    expect(can('ADMIN', 'billing:manage')).toBe(true);
    expect(can('ADMIN', 'catalog:manage')).toBe(true);
    expect(can('ADMIN', 'members:invite')).toBe(true);
  });

  it('ADMIN cannot change member roles or remove members, nor manage the organization', () => {
    expect(can('ADMIN', 'members:manage')).toBe(false);
    expect(can('ADMIN', 'organization:manage')).toBe(false);
  });

  it("ADMIN does not manage API keys or webhook endpoints (that is the developers' side)", () => {
    expect(can('ADMIN', 'api_keys:manage')).toBe(false);
    expect(can('ADMIN', 'webhooks:manage')).toBe(false);
  });

  it('DEVELOPER manages API keys and webhook endpoints but not billing, the catalog or members', () => {
    expect(can('DEVELOPER', 'api_keys:manage')).toBe(true);
    expect(can('DEVELOPER', 'webhooks:manage')).toBe(true);
    for (const permission of [
      'billing:manage',
      'catalog:manage',
      'members:invite',
      'members:manage',
      'organization:manage',
    ] as const) {
      expect(can('DEVELOPER', permission)).toBe(false);
    }
  });

  it('is exactly this matrix (a change here is a deliberate contract change)', () => {
    const writesOf = (role: (typeof ROLES)[number]) => permissionsOf(role).filter((p) => !p.endsWith(':read'));
    expect(writesOf('OWNER')).toEqual(writes);
    expect(writesOf('ADMIN')).toEqual(['members:invite', 'billing:manage', 'catalog:manage']);
    expect(writesOf('DEVELOPER')).toEqual(['api_keys:manage', 'webhooks:manage']);
    expect(writesOf('VIEWER')).toEqual([]);
  });

  it('grants only known permissions, without duplicates', () => {
    for (const role of ROLES) {
      const granted = ROLE_PERMISSIONS[role];
      expect(new Set(granted).size).toBe(granted.length);
      for (const permission of granted) expect(isPermission(permission)).toBe(true);
    }
  });

  it('refuses an unknown role or permission', () => {
    expect(can('ROOT' as never, 'billing:read')).toBe(false);
    expect(can('OWNER', 'billing:delete' as Permission)).toBe(false);
  });

  it('cannot be altered at runtime', () => {
    expect(() => (ROLE_PERMISSIONS.VIEWER as Permission[]).push('billing:manage')).toThrow(TypeError);
    expect(can('VIEWER', 'billing:manage')).toBe(false);
  });
});

describe('invitations', () => {
  it('owners and admins invite; nobody invites an owner', () => {
    expect(canInviteAs('OWNER', 'ADMIN')).toBe(true);
    expect(canInviteAs('OWNER', 'VIEWER')).toBe(true);
    expect(canInviteAs('OWNER', 'OWNER')).toBe(false);
    expect(canInviteAs('ADMIN', 'ADMIN')).toBe(true);
    expect(canInviteAs('ADMIN', 'DEVELOPER')).toBe(true);
    expect(canInviteAs('ADMIN', 'OWNER')).toBe(false);
  });

  it('developers and viewers invite nobody', () => {
    for (const invitee of ROLES) {
      expect(canInviteAs('DEVELOPER', invitee)).toBe(false);
      expect(canInviteAs('VIEWER', invitee)).toBe(false);
    }
  });
});

describe('guards', () => {
  it('isRole', () => {
    expect(ROLES.every(isRole)).toBe(true);
    expect(isRole('owner')).toBe(false);
    expect(isRole(undefined)).toBe(false);
  });

  it('API key scopes never reach members, keys or webhooks', () => {
    expect(API_KEY_SCOPES.every(isApiKeyScope)).toBe(true);
    expect(DEFAULT_API_KEY_SCOPES.every(isApiKeyScope)).toBe(true);
    for (const forbidden of [
      'members:manage',
      'members:invite',
      'api_keys:manage',
      'webhooks:manage',
      'organization:manage',
    ]) {
      expect(isApiKeyScope(forbidden)).toBe(false);
    }
    expect(hasScope(['events:write'], 'events:write')).toBe(true);
    expect(hasScope(['usage:read'], 'events:write')).toBe(false);
  });
});
