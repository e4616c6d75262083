// Invitation rules. Pure: time comes in as an argument.
import { canInviteAs, type Role } from '@usageflow/contracts';
import { identityErrors } from './errors';

/** The stored facts of an invitation. */
export interface InvitationFacts {
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
}

export type InvitationStatus = 'PENDING' | 'ACCEPTED' | 'REVOKED' | 'EXPIRED';

/** Where an invitation stands at `now` (EXPIRED is derived, never stored). */
export function invitationStatus(inv: InvitationFacts, now: Date): InvitationStatus {
  if (inv.acceptedAt) return 'ACCEPTED';
  if (inv.revokedAt) return 'REVOKED';
  return now.getTime() >= inv.expiresAt.getTime() ? 'EXPIRED' : 'PENDING';
}

/** Throws unless `inviter` may invite someone as `role` (ADMIN never grants OWNER). */
export function decideInvite(inviter: Role, role: Role): void {
  if (!canInviteAs(inviter, role)) {
    throw identityErrors.ROLE_NOT_GRANTABLE(
      role === 'OWNER'
        ? 'nobody is invited as OWNER: invite them with another role, then an OWNER changes it'
        : `a ${inviter} cannot invite a ${role}`,
    );
  }
}

/** Throws unless the invitation can be accepted at `now`: once, before it expires, unrevoked. */
export function decideAccept(inv: InvitationFacts, now: Date): void {
  const status = invitationStatus(inv, now);
  if (status === 'ACCEPTED') throw identityErrors.INVITATION_ALREADY_ACCEPTED('an invitation can be used once');
  if (status === 'REVOKED') throw identityErrors.INVITATION_REVOKED('ask for a new invitation');
  if (status === 'EXPIRED')
    throw identityErrors.INVITATION_EXPIRED(`it expired at ${inv.expiresAt.toISOString()}; ask for a new one`);
}

/** Throws unless a pending invitation is revoked (revoking twice is a no-op: returns false). */
export function decideRevokeInvitation(inv: InvitationFacts, now: Date): boolean {
  const status = invitationStatus(inv, now);
  if (status === 'ACCEPTED')
    throw identityErrors.INVITATION_ALREADY_ACCEPTED('an accepted invitation cannot be revoked');
  return status !== 'REVOKED';
}
