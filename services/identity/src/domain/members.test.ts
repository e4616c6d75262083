import { decideRemoval, decideRoleChange } from './members';

describe('role changes', () => {
  it('given the only OWNER, when they are demoted, then LAST_OWNER', () => {
    expect(() => decideRoleChange({ role: 'OWNER', ownerCount: 1 }, 'ADMIN')).toThrow(
      expect.objectContaining({ code: 'LAST_OWNER', status: 409 }),
    );
  });

  it('given two OWNERs, when one is demoted, then the change goes through', () => {
    expect(decideRoleChange({ role: 'OWNER', ownerCount: 2 }, 'VIEWER')).toBe(true);
  });

  it('given a member already in the role, then nothing changes', () => {
    expect(decideRoleChange({ role: 'ADMIN', ownerCount: 1 }, 'ADMIN')).toBe(false);
    expect(decideRoleChange({ role: 'OWNER', ownerCount: 1 }, 'OWNER')).toBe(false);
  });

  it('given a non-owner, when promoted to OWNER, then the change goes through', () => {
    expect(decideRoleChange({ role: 'VIEWER', ownerCount: 1 }, 'OWNER')).toBe(true);
  });
});

describe('removals', () => {
  it('never remove the last OWNER, even by themselves', () => {
    expect(() => decideRemoval({ role: 'OWNER', ownerCount: 1 })).toThrow(
      expect.objectContaining({ code: 'LAST_OWNER' }),
    );
  });

  it('remove an OWNER when another remains, and any other role', () => {
    expect(() => decideRemoval({ role: 'OWNER', ownerCount: 2 })).not.toThrow();
    expect(() => decideRemoval({ role: 'DEVELOPER', ownerCount: 1 })).not.toThrow();
  });
});
