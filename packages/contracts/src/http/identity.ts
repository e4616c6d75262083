// The identity service's HTTP surface: bodies and the route declarations the router, the
// validators and the OpenAPI document share. Secrets (passwords, tokens, raw API keys) appear
// only in requests and in the one response that creates them.
import { Type, type Static } from '@sinclair/typebox';
import {
  ApiKeyScopeSchema,
  Closed,
  Described,
  Email,
  IsoDateTime,
  Label,
  Nullable,
  OrganizationId,
  RoleSchema,
  StringEnum,
  UserId,
  Uuid,
} from '../common';
import { ApiKeyMode, OrganizationSettings, PublicJwk } from '../events/identity';
import { PERMISSIONS } from '../roles';
import type { RouteSpec } from './openapi';
import { LIST_QUERY, Page } from './pagination';

/** The shortest password sign-up accepts (NIST 800-63B: length over composition rules). */
export const MIN_PASSWORD_LENGTH = 10;
/** bcrypt reads at most 72 bytes; longer passwords are refused rather than silently cut. */
export const MAX_PASSWORD_BYTES = 72;

const NewPassword = Described(
  Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: MAX_PASSWORD_BYTES }),
  `At least ${MIN_PASSWORD_LENGTH} characters and at most ${MAX_PASSWORD_BYTES} bytes.`,
);
const GivenPassword = Type.String({ minLength: 1, maxLength: 1024 });
const OpaqueToken = Type.String({ minLength: 16, maxLength: 512, pattern: '^[A-Za-z0-9_.-]+$' });

/** `POST /v1/auth/signup`: a person and their organization, of which they become OWNER. */
export const SignupBody = Closed({
  email: Email,
  password: NewPassword,
  organizationName: Label,
  name: Type.Optional(Label),
});
export type SignupBody = Static<typeof SignupBody>;

/** `POST /v1/auth/login`; `organizationId` picks one of the person's organizations. */
export const LoginBody = Closed({
  email: Email,
  password: GivenPassword,
  organizationId: Type.Optional(
    Described(OrganizationId, 'Which organization the token is for (default: the first one joined).'),
  ),
});
export type LoginBody = Static<typeof LoginBody>;

/** `POST /v1/auth/refresh`: trades a refresh token for new tokens (it is rotated: use the new one). */
export const RefreshBody = Closed({
  refreshToken: OpaqueToken,
  organizationId: Type.Optional(Described(OrganizationId, 'Switch to another organization the person belongs to.')),
});
export type RefreshBody = Static<typeof RefreshBody>;

/** `POST /v1/auth/logout`: revokes a refresh token (its access tokens expire on their own). */
export const LogoutBody = Closed({ refreshToken: OpaqueToken });
export type LogoutBody = Static<typeof LogoutBody>;

/** One organization a person belongs to, with their role there. */
export const OrganizationMembership = Closed({ id: OrganizationId, name: Label, role: RoleSchema });
export type OrganizationMembership = Static<typeof OrganizationMembership>;

/** What sign-up, login, refresh and invitation acceptance answer. */
export const TokenResponse = Closed({
  accessToken: Described(Type.String(), 'A JWT: send it as `Authorization: Bearer <accessToken>`.'),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Described(Type.Integer({ minimum: 1 }), 'Seconds until the access token expires.'),
  refreshToken: Described(OpaqueToken, 'Single use: refreshing returns a new one.'),
  refreshTokenExpiresAt: IsoDateTime,
  userId: UserId,
  organizationId: OrganizationId,
  role: RoleSchema,
  organizations: Type.Array(OrganizationMembership),
});
export type TokenResponse = Static<typeof TokenResponse>;

/** `GET /v1/me`: the caller, their current organization and what they may do there. */
export const MeResponse = Closed({
  user: Closed({ id: UserId, email: Email, name: Nullable(Label), createdAt: IsoDateTime }),
  organization: Closed({ id: OrganizationId, name: Label }),
  role: RoleSchema,
  permissions: Type.Array(StringEnum(PERMISSIONS)),
  organizations: Type.Array(OrganizationMembership),
});
export type MeResponse = Static<typeof MeResponse>;

/** `GET /v1/organization` and `PATCH /v1/organization`: the organization with its settings. */
export const OrganizationResponse = Closed({
  id: OrganizationId,
  name: Label,
  settings: OrganizationSettings,
  createdAt: IsoDateTime,
});
export type OrganizationResponse = Static<typeof OrganizationResponse>;

/**
 * `PATCH /v1/organization`: an owner renames the organization or changes settings; what is
 * absent stays as it is.
 */
export const UpdateOrganizationBody = Closed(
  {
    name: Type.Optional(Label),
    settings: Type.Optional(
      Closed({ unknownMetrics: Type.Optional(OrganizationSettings.properties.unknownMetrics) }, { minProperties: 1 }),
    ),
  },
  { minProperties: 1 },
);
export type UpdateOrganizationBody = Static<typeof UpdateOrganizationBody>;

/** A member of the organization. */
export const Member = Closed({
  userId: UserId,
  email: Email,
  name: Nullable(Label),
  role: RoleSchema,
  joinedAt: IsoDateTime,
});
export type Member = Static<typeof Member>;

/** `PATCH /v1/members/{userId}`: an owner changes a member's role. */
export const UpdateMemberBody = Closed({ role: RoleSchema });
export type UpdateMemberBody = Static<typeof UpdateMemberBody>;

/** `POST /v1/invitations`. */
export const CreateInvitationBody = Closed({
  email: Email,
  role: Described(RoleSchema, 'OWNER cannot be invited; an ADMIN invites ADMIN, DEVELOPER or VIEWER.'),
});
export type CreateInvitationBody = Static<typeof CreateInvitationBody>;

/** Where an invitation stands; EXPIRED is derived from `expiresAt`. */
export const InvitationStatus = StringEnum(['PENDING', 'ACCEPTED', 'REVOKED', 'EXPIRED'] as const);

/** An invitation (its token is only in the e-mail). */
export const Invitation = Closed({
  id: Uuid,
  email: Email,
  role: RoleSchema,
  status: InvitationStatus,
  invitedBy: UserId,
  expiresAt: IsoDateTime,
  createdAt: IsoDateTime,
  acceptedAt: Nullable(IsoDateTime),
});
export type Invitation = Static<typeof Invitation>;

/**
 * `POST /v1/invitations/accept`: the token from the e-mail. A new person chooses a password; a
 * person who already has an account proves it with theirs, and joins with the same account.
 */
export const AcceptInvitationBody = Closed({
  token: OpaqueToken,
  password: GivenPassword,
  name: Type.Optional(Label),
});
export type AcceptInvitationBody = Static<typeof AcceptInvitationBody>;

/** `POST /v1/api-keys`. */
export const CreateApiKeyBody = Closed({
  name: Label,
  mode: Type.Optional(Described(ApiKeyMode, 'live (default) bills real usage; test is for integration work.')),
  scopes: Type.Optional(
    Described(
      Type.Array(ApiKeyScopeSchema, { minItems: 1, uniqueItems: true }),
      'What the key may do (default: events:write, sending usage events).',
    ),
  ),
});
export type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;

/** An API key as listed: never the secret. */
export const ApiKey = Closed({
  id: Uuid,
  name: Label,
  prefix: Described(Type.String(), 'The first characters of the key, to recognize it.'),
  mode: ApiKeyMode,
  scopes: Type.Array(ApiKeyScopeSchema),
  createdBy: UserId,
  createdAt: IsoDateTime,
  lastUsedAt: Described(Nullable(IsoDateTime), 'When it last sent usage (updated about once a minute).'),
  revokedAt: Nullable(IsoDateTime),
});
export type ApiKey = Static<typeof ApiKey>;

/** The answer to `POST /v1/api-keys`: the key itself, shown this once. */
export const CreatedApiKey = Closed({
  ...ApiKey.properties,
  key: Type.Optional(
    Described(
      Type.String(),
      'The secret key. Shown once: store it now; only its digest is kept (so an Idempotency-Key replay omits it).',
    ),
  ),
});
export type CreatedApiKey = Static<typeof CreatedApiKey>;

/** `GET /.well-known/jwks.json`: the keys JWTs are verified with (RFC 7517). */
export const JwksResponse = Closed({ keys: Type.Array(PublicJwk) });
export type JwksResponse = Static<typeof JwksResponse>;

const listQuery = LIST_QUERY;
const tag = 'Identity';

/** Every route of the identity service. */
export const IDENTITY_ROUTES = [
  {
    method: 'post',
    path: '/v1/auth/signup',
    operationId: 'signup',
    summary: 'Sign up: create an account and an organization you own',
    tag,
    auth: 'none',
    body: SignupBody,
    responses: { 201: { description: 'Signed up and logged in', schema: TokenResponse } },
  },
  {
    method: 'post',
    path: '/v1/auth/login',
    operationId: 'login',
    summary: 'Log in with e-mail and password (rate limited per e-mail and per address)',
    tag,
    auth: 'none',
    body: LoginBody,
    responses: { 200: { description: 'Logged in', schema: TokenResponse } },
  },
  {
    method: 'post',
    path: '/v1/auth/refresh',
    operationId: 'refreshToken',
    summary: 'Exchange a refresh token for new tokens, optionally for another organization',
    tag,
    auth: 'none',
    body: RefreshBody,
    responses: { 200: { description: 'New tokens', schema: TokenResponse } },
  },
  {
    method: 'post',
    path: '/v1/auth/logout',
    operationId: 'logout',
    summary: 'Revoke a refresh token',
    tag,
    auth: 'none',
    body: LogoutBody,
    responses: { 204: { description: 'Revoked (also when it already was)' } },
  },
  {
    method: 'get',
    path: '/v1/me',
    operationId: 'getMe',
    summary: 'The signed-in person, their organization, role and permissions',
    tag,
    auth: 'jwt',
    responses: { 200: { description: 'You', schema: MeResponse } },
  },
  {
    method: 'get',
    path: '/v1/organization',
    operationId: 'getOrganization',
    summary: "The token's organization",
    tag,
    auth: 'jwt',
    permission: 'organization:read',
    responses: { 200: { description: 'The organization', schema: OrganizationResponse } },
  },
  {
    method: 'patch',
    path: '/v1/organization',
    operationId: 'updateOrganization',
    summary: 'Rename the organization or change its settings (OWNER only)',
    tag,
    auth: 'jwt',
    permission: 'organization:manage',
    body: UpdateOrganizationBody,
    responses: { 200: { description: 'The organization', schema: OrganizationResponse } },
  },
  {
    method: 'get',
    path: '/v1/members',
    operationId: 'listMembers',
    summary: 'List members',
    tag,
    auth: 'jwt',
    permission: 'members:read',
    query: listQuery,
    responses: { 200: { description: 'A page of members', schema: Page(Member) } },
  },
  {
    method: 'patch',
    path: '/v1/members/{userId}',
    operationId: 'updateMember',
    summary: "Change a member's role (the last OWNER cannot be demoted)",
    tag,
    auth: 'jwt',
    permission: 'members:manage',
    pathParams: { userId: UserId },
    body: UpdateMemberBody,
    responses: { 200: { description: 'The member', schema: Member } },
  },
  {
    method: 'delete',
    path: '/v1/members/{userId}',
    operationId: 'removeMember',
    summary: 'Remove a member (never the last OWNER)',
    tag,
    auth: 'jwt',
    permission: 'members:manage',
    pathParams: { userId: UserId },
    responses: { 204: { description: 'Removed' } },
  },
  {
    method: 'post',
    path: '/v1/invitations',
    operationId: 'createInvitation',
    summary: 'Invite a person by e-mail with a role',
    tag,
    auth: 'jwt',
    permission: 'members:invite',
    idempotent: true,
    body: CreateInvitationBody,
    responses: { 201: { description: 'Invited; the e-mail carries the accept link', schema: Invitation } },
  },
  {
    method: 'get',
    path: '/v1/invitations',
    operationId: 'listInvitations',
    summary: 'List invitations',
    tag,
    auth: 'jwt',
    permission: 'members:read',
    query: listQuery,
    responses: { 200: { description: 'A page of invitations', schema: Page(Invitation) } },
  },
  {
    method: 'delete',
    path: '/v1/invitations/{id}',
    operationId: 'revokeInvitation',
    summary: 'Revoke a pending invitation',
    tag,
    auth: 'jwt',
    permission: 'members:invite',
    pathParams: { id: Uuid },
    responses: { 204: { description: 'Revoked' } },
  },
  {
    method: 'post',
    path: '/v1/invitations/accept',
    operationId: 'acceptInvitation',
    summary: 'Accept an invitation: join with a new or an existing account',
    tag,
    auth: 'none',
    body: AcceptInvitationBody,
    responses: { 200: { description: 'Joined and logged in to that organization', schema: TokenResponse } },
  },
  {
    method: 'post',
    path: '/v1/api-keys',
    operationId: 'createApiKey',
    summary: 'Create an API key (the key is shown once)',
    tag,
    auth: 'jwt',
    permission: 'api_keys:manage',
    idempotent: true,
    body: CreateApiKeyBody,
    responses: { 201: { description: 'Created', schema: CreatedApiKey } },
  },
  {
    method: 'get',
    path: '/v1/api-keys',
    operationId: 'listApiKeys',
    summary: 'List API keys (never their secrets)',
    tag,
    auth: 'jwt',
    permission: 'api_keys:read',
    query: listQuery,
    responses: { 200: { description: 'A page of API keys', schema: Page(ApiKey) } },
  },
  {
    method: 'delete',
    path: '/v1/api-keys/{id}',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key (refused everywhere within seconds)',
    tag,
    auth: 'jwt',
    permission: 'api_keys:manage',
    pathParams: { id: Uuid },
    responses: { 204: { description: 'Revoked' } },
  },
  {
    method: 'get',
    path: '/.well-known/jwks.json',
    operationId: 'getJwks',
    summary: 'The public keys that verify UsageFlow access tokens',
    tag,
    auth: 'none',
    responses: { 200: { description: 'JSON Web Key Set', schema: JwksResponse } },
  },
] as const satisfies readonly RouteSpec[];

/** An identity route by its operation id (for the service's router). */
export type IdentityOperation = (typeof IDENTITY_ROUTES)[number]['operationId'];
