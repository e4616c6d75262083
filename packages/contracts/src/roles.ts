// The one role/permission matrix of UsageFlow. Every service enforces it through `can()`;
// nobody keeps a copy. The roles come from the architecture:
//   OWNER     everything, including billing and members
//   ADMIN     billing, metrics, plans, invites
//   DEVELOPER API keys and integrations (webhook endpoints)
//   VIEWER    read-only
//
// Decisions where the architecture is silent (each one tested in roles.test.ts):
// - Every role reads everything (a "read" never exposes a secret: API keys and webhook secrets
//   are shown once at creation, only to the caller who holds the manage permission).
// - Only OWNER holds `members:manage` (change a role, remove a member) and
//   `organization:manage` (rename, settings): "Owners change roles and remove members". An ADMIN
//   could otherwise promote themselves or remove the owner.
// - OWNER and ADMIN hold `members:invite` (send and revoke invitations): "Owners and admins
//   invite". Which role an ADMIN may invite with is checked by identity with `canInviteAs`.
// - The matrix is not a ladder: ADMIN does not manage API keys or webhook endpoints and
//   DEVELOPER does not touch billing or the catalog. This is the separation of duties the
//   architecture describes (finance vs. engineering); OWNER holds both halves.

/** The member roles, most privileged first. */
export const ROLES = ['OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER'] as const;

/** A member's role in an organization. */
export type Role = (typeof ROLES)[number];

/** Every permission a service checks, as `<area>:<read|manage|...>`. */
export const PERMISSIONS = [
  'organization:read',
  'organization:manage',
  'members:read',
  'members:invite',
  'members:manage',
  'billing:read', // invoices, payments
  'billing:manage', // pay, retry, payment sandbox
  'catalog:read', // metrics, plans, customers, subscriptions, test clocks
  'catalog:manage',
  'usage:read', // usage queries, event traces, reconciliation
  'api_keys:read',
  'api_keys:manage',
  'webhooks:read',
  'webhooks:manage',
] as const;

/** One permission a service checks. */
export type Permission = (typeof PERMISSIONS)[number];

const READ_ALL: readonly Permission[] = PERMISSIONS.filter((p) => p.endsWith(':read'));

// Listed in PERMISSIONS order whatever the order of the grant, so the matrix reads predictably.
function grant(...permissions: Permission[]): readonly Permission[] {
  return Object.freeze(PERMISSIONS.filter((p) => permissions.includes(p)));
}

/** The single role -> permissions matrix (read it with `can`). */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = Object.freeze({
  OWNER: grant(...PERMISSIONS),
  ADMIN: grant(...READ_ALL, 'members:invite', 'billing:manage', 'catalog:manage'),
  DEVELOPER: grant(...READ_ALL, 'api_keys:manage', 'webhooks:manage'),
  VIEWER: grant(...READ_ALL),
});

const MATRIX: ReadonlyMap<Role, ReadonlySet<Permission>> = new Map(
  ROLES.map((role) => [role, new Set(ROLE_PERMISSIONS[role])]),
);

/** Whether `x` is one of the member roles. */
export function isRole(x: unknown): x is Role {
  return typeof x === 'string' && (ROLES as readonly string[]).includes(x);
}

/** Whether `x` is one of the permissions. */
export function isPermission(x: unknown): x is Permission {
  return typeof x === 'string' && (PERMISSIONS as readonly string[]).includes(x);
}

/** Whether a member with `role` may do what `permission` guards. Unknown roles may do nothing. */
export function can(role: Role, permission: Permission): boolean {
  return MATRIX.get(role)?.has(permission) ?? false;
}

/** The permissions a role holds, in `PERMISSIONS` order. */
export function permissionsOf(role: Role): readonly Permission[] {
  return ROLE_PERMISSIONS[role];
}

/**
 * Whether a member with `inviter` role may invite someone as `invitee`.
 * NOTE: nobody invites an OWNER (ownership moves by an owner's role change), and an ADMIN
 * invites at most ADMIN, so an invitation never grants more than the inviter holds.
 */
export function canInviteAs(inviter: Role, invitee: Role): boolean {
  if (!can(inviter, 'members:invite') || invitee === 'OWNER') return false;
  return ROLES.indexOf(invitee) >= ROLES.indexOf(inviter);
}

/**
 * What an API key may be granted. Keys are for machines: they send usage and may read usage,
 * the catalog and billing, manage the catalog (create customers and subscriptions from a signup
 * flow) and settle invoices (report payments from the organization's own payment system), but
 * never members, API keys or webhooks, so a leaked key cannot escalate.
 */
export const API_KEY_SCOPES = [
  'events:write',
  'usage:read',
  'catalog:read',
  'catalog:manage',
  'billing:read',
  'billing:manage',
] as const;

/** One API key scope. */
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** The scopes a key gets when its creator names none: send usage events, nothing else. */
export const DEFAULT_API_KEY_SCOPES: readonly ApiKeyScope[] = Object.freeze(['events:write']);

/** Whether `x` is one of the API key scopes. */
export function isApiKeyScope(x: unknown): x is ApiKeyScope {
  return typeof x === 'string' && (API_KEY_SCOPES as readonly string[]).includes(x);
}

/** Whether a key holding `scopes` may do what `scope` guards. */
export function hasScope(scopes: readonly string[], scope: ApiKeyScope): boolean {
  return scopes.includes(scope);
}
