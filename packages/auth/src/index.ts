// @usageflow/auth: the auth middleware every service uses. Verifies bearer JWTs and API keys
// against the service's own data (never an HTTP call to identity), puts the principal on the
// request, and enforces the contracts' permission matrix per declared route.
export * from './types';
export * from './tokens';
export * from './errors';
export * from './authenticator';
export * from './memory-store';
export * from './routes';
export * from './projection';
export * from './service-auth';
export * from './testing';
