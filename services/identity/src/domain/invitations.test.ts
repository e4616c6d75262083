import { decideAccept, decideInvite, decideRevokeInvitation, invitationStatus } from './invitations';

const t = (iso: string) => new Date(iso);
const pending = { expiresAt: t('2025-03-08T00:00:00Z'), acceptedAt: null, revokedAt: null };

describe('invitation status', () => {
  it('is PENDING before expiry and EXPIRED from the expiry instant on', () => {
    expect(invitationStatus(pending, t('2025-03-07T23:59:59.999Z'))).toBe('PENDING');
    expect(invitationStatus(pending, t('2025-03-08T00:00:00Z'))).toBe('EXPIRED');
  });

  it('ACCEPTED and REVOKED outlive the expiry', () => {
    const later = t('2025-04-01T00:00:00Z');
    expect(invitationStatus({ ...pending, acceptedAt: t('2025-03-02T00:00:00Z') }, later)).toBe('ACCEPTED');
    expect(invitationStatus({ ...pending, revokedAt: t('2025-03-02T00:00:00Z') }, later)).toBe('REVOKED');
  });
});

describe('accepting', () => {
  it('accepts a pending invitation', () => {
    expect(() => decideAccept(pending, t('2025-03-01T00:00:00Z'))).not.toThrow();
  });

  it('refuses an expired, a used and a revoked one with distinct codes', () => {
    expect(() => decideAccept(pending, t('2025-03-09T00:00:00Z'))).toThrow(
      expect.objectContaining({ code: 'INVITATION_EXPIRED', status: 410 }),
    );
    expect(() =>
      decideAccept({ ...pending, acceptedAt: t('2025-03-02T00:00:00Z') }, t('2025-03-03T00:00:00Z')),
    ).toThrow(expect.objectContaining({ code: 'INVITATION_ALREADY_ACCEPTED', status: 409 }));
    expect(() => decideAccept({ ...pending, revokedAt: t('2025-03-02T00:00:00Z') }, t('2025-03-03T00:00:00Z'))).toThrow(
      expect.objectContaining({ code: 'INVITATION_REVOKED', status: 410 }),
    );
  });
});

describe('inviting', () => {
  it('an OWNER invites ADMIN, DEVELOPER, VIEWER; nobody invites an OWNER', () => {
    for (const role of ['ADMIN', 'DEVELOPER', 'VIEWER'] as const)
      expect(() => decideInvite('OWNER', role)).not.toThrow();
    expect(() => decideInvite('OWNER', 'OWNER')).toThrow(expect.objectContaining({ code: 'ROLE_NOT_GRANTABLE' }));
  });

  it('an ADMIN cannot grant OWNER', () => {
    expect(() => decideInvite('ADMIN', 'OWNER')).toThrow(
      expect.objectContaining({ code: 'ROLE_NOT_GRANTABLE', status: 403 }),
    );
    expect(() => decideInvite('ADMIN', 'ADMIN')).not.toThrow();
  });

  it('DEVELOPER and VIEWER invite nobody', () => {
    expect(() => decideInvite('DEVELOPER', 'VIEWER')).toThrow(expect.objectContaining({ code: 'ROLE_NOT_GRANTABLE' }));
    expect(() => decideInvite('VIEWER', 'VIEWER')).toThrow(expect.objectContaining({ code: 'ROLE_NOT_GRANTABLE' }));
  });
});

describe('revoking', () => {
  it('revokes a pending or expired invitation once, refuses an accepted one', () => {
    expect(decideRevokeInvitation(pending, t('2025-03-01T00:00:00Z'))).toBe(true);
    expect(decideRevokeInvitation(pending, t('2025-03-09T00:00:00Z'))).toBe(true);
    expect(
      decideRevokeInvitation({ ...pending, revokedAt: t('2025-03-02T00:00:00Z') }, t('2025-03-03T00:00:00Z')),
    ).toBe(false);
    expect(() =>
      decideRevokeInvitation({ ...pending, acceptedAt: t('2025-03-02T00:00:00Z') }, t('2025-03-03T00:00:00Z')),
    ).toThrow(expect.objectContaining({ code: 'INVITATION_ALREADY_ACCEPTED' }));
  });
});
