// The rules of membership. Pure: the caller loads the organization's owners (locked) and the
// target member, and applies what these decide.
import type { Role } from '@usageflow/contracts';
import { identityErrors } from './errors';

/** What a role change or a removal needs to know of the organization. */
export interface MemberFacts {
  /** The target's current role. */
  role: Role;
  /** How many OWNERs the organization has now (including the target, if an owner). */
  ownerCount: number;
}

/**
 * Decides a role change. Throws LAST_OWNER when it would leave no OWNER. Returns false when
 * the role is unchanged (nothing to write, no event).
 */
export function decideRoleChange(target: MemberFacts, newRole: Role): boolean {
  if (target.role === newRole) return false;
  // NOTE: an organization can never lose its last OWNER, or nobody could manage members again.
  if (target.role === 'OWNER' && target.ownerCount <= 1) {
    throw identityErrors.LAST_OWNER('promote another member to OWNER first');
  }
  return true;
}

/** Decides a removal: the last OWNER can never be removed (not even by themselves). */
export function decideRemoval(target: MemberFacts): void {
  if (target.role === 'OWNER' && target.ownerCount <= 1) {
    throw identityErrors.LAST_OWNER('the last OWNER cannot be removed; promote another member first');
  }
}
