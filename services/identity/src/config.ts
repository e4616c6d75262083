// The identity service's own settings (the common ones are parsed by the runtime).
import { bool, ConfigError, loadConfig, num, str, url } from '@usageflow/config';

const spec = {
  BCRYPT_COST: num({ default: 12, desc: 'bcrypt work factor for passwords (10-14; tests use 4)' }),
  ACCESS_TOKEN_TTL_SECONDS: num({ default: 900, desc: 'lifetime of an access token (JWT)' }),
  REFRESH_TOKEN_TTL_DAYS: num({ default: 30, desc: 'lifetime of a refresh token' }),
  INVITATION_TTL_HOURS: num({ default: 168, desc: 'how long an invitation can be accepted' }),
  SIGNING_KEY_ROTATION_DAYS: num({ default: 30, desc: 'how long one JWT signing key signs' }),
  SIGNING_KEY_PREPUBLISH_HOURS: num({ default: 24, desc: 'how long before it signs a new key is published' }),
  SIGNING_KEY_ALG: str({ default: 'EdDSA', choices: ['EdDSA', 'ES256', 'RS256'] }),
  LOGIN_WINDOW_SECONDS: num({ default: 900, desc: 'the window failed logins are counted in' }),
  LOGIN_MAX_FAILURES_PER_EMAIL: num({ default: 5 }),
  LOGIN_MAX_FAILURES_PER_ADDRESS: num({ default: 50 }),
  PUBLIC_BASE_URL: url({ default: 'http://localhost:4001', desc: 'where people reach UsageFlow (accept links)' }),
  SMTP_URL: str({ default: '', desc: 'smtp(s)://user:pass@host:port; empty writes invitation e-mails to the log' }),
  MAIL_FROM: str({ default: 'UsageFlow <no-reply@usageflow.local>' }),
  API_KEY_LAST_USED: bool({ default: true, desc: 'consume the usage topic to record when each key last sent usage' }),
  ENDPOINT_NOTICES: bool({
    default: true,
    desc: 'consume the webhooks topic to mail owners and developers when an endpoint is disabled',
  }),
};

/** Parses and checks the identity settings. */
export function identityConfig(env: Record<string, string | undefined>) {
  const c = loadConfig(spec, env);
  const problems: Record<string, string> = {};
  if (!Number.isInteger(c.BCRYPT_COST) || c.BCRYPT_COST < 4 || c.BCRYPT_COST > 15)
    problems.BCRYPT_COST = 'must be an integer from 4 to 15';
  for (const name of [
    'ACCESS_TOKEN_TTL_SECONDS',
    'REFRESH_TOKEN_TTL_DAYS',
    'INVITATION_TTL_HOURS',
    'SIGNING_KEY_ROTATION_DAYS',
    'SIGNING_KEY_PREPUBLISH_HOURS',
    'LOGIN_WINDOW_SECONDS',
    'LOGIN_MAX_FAILURES_PER_EMAIL',
    'LOGIN_MAX_FAILURES_PER_ADDRESS',
  ] as const) {
    if (!(c[name] > 0)) problems[name] = 'must be positive';
  }
  if (c.SIGNING_KEY_PREPUBLISH_HOURS >= c.SIGNING_KEY_ROTATION_DAYS * 24)
    problems.SIGNING_KEY_PREPUBLISH_HOURS = 'must be shorter than the rotation period';
  if (Object.keys(problems).length) throw new ConfigError(problems);
  return {
    bcryptCost: c.BCRYPT_COST,
    accessTokenTtlSeconds: c.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlMs: c.REFRESH_TOKEN_TTL_DAYS * 86_400_000,
    invitationTtlMs: c.INVITATION_TTL_HOURS * 3_600_000,
    keyPolicy: {
      rotationMs: c.SIGNING_KEY_ROTATION_DAYS * 86_400_000,
      prepublishMs: c.SIGNING_KEY_PREPUBLISH_HOURS * 3_600_000,
      accessTokenTtlMs: c.ACCESS_TOKEN_TTL_SECONDS * 1000,
    },
    signingAlg: c.SIGNING_KEY_ALG as 'EdDSA' | 'ES256' | 'RS256',
    loginLimits: {
      windowMs: c.LOGIN_WINDOW_SECONDS * 1000,
      maxFailuresPerEmail: c.LOGIN_MAX_FAILURES_PER_EMAIL,
      maxFailuresPerAddress: c.LOGIN_MAX_FAILURES_PER_ADDRESS,
    },
    publicBaseUrl: c.PUBLIC_BASE_URL.replace(/\/+$/, ''),
    smtpUrl: c.SMTP_URL,
    mailFrom: c.MAIL_FROM,
    apiKeyLastUsed: c.API_KEY_LAST_USED,
    endpointNotices: c.ENDPOINT_NOTICES,
  };
}

export type IdentityConfig = ReturnType<typeof identityConfig>;
