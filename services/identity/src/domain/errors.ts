import { defineErrors } from '@usageflow/http';

/** The identity service's error codes: stable API, never renamed or reused. */
export const identityErrors = defineErrors({
  EMAIL_TAKEN: { status: 409, title: 'An account with this e-mail already exists' },
  INVALID_CREDENTIALS: { status: 401, title: 'E-mail or password is wrong' },
  LOGIN_RATE_LIMITED: { status: 429, title: 'Too many failed logins; try again later' },
  NOT_A_MEMBER: { status: 403, title: 'You are not a member of that organization' },
  REFRESH_TOKEN_INVALID: { status: 401, title: 'The refresh token is invalid, expired or revoked' },
  MEMBER_NOT_FOUND: { status: 404, title: 'No such member in your organization' },
  LAST_OWNER: { status: 409, title: 'An organization must keep at least one OWNER' },
  ROLE_NOT_GRANTABLE: { status: 403, title: 'Your role cannot grant that role' },
  ALREADY_A_MEMBER: { status: 409, title: 'That person is already a member' },
  INVITATION_NOT_FOUND: { status: 404, title: 'No such invitation' },
  INVITATION_EXPIRED: { status: 410, title: 'The invitation has expired' },
  INVITATION_REVOKED: { status: 410, title: 'The invitation was revoked' },
  INVITATION_ALREADY_ACCEPTED: { status: 409, title: 'The invitation was already accepted' },
  API_KEY_NOT_FOUND: { status: 404, title: 'No such API key in your organization' },
  PASSWORD_TOO_WEAK: { status: 400, title: 'The password does not meet the policy' },
});
