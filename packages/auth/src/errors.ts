import { commonErrors, defineErrors } from '@usageflow/http';

/**
 * The auth error registry: every 401 a service answers. Details say what was wrong and what the
 * endpoint takes, never the credential itself.
 */
export const authErrors = {
  UNAUTHENTICATED: commonErrors.UNAUTHENTICATED,
  ...defineErrors({
    TOKEN_INVALID: { status: 401, title: 'The access token is invalid' },
    TOKEN_EXPIRED: { status: 401, title: 'The access token has expired' },
    API_KEY_INVALID: { status: 401, title: 'The API key is invalid' },
    API_KEY_REVOKED: { status: 401, title: 'The API key has been revoked' },
    MEMBERSHIP_REVOKED: { status: 401, title: 'No longer a member of the organization' },
  }),
};
