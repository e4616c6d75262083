// Events of `usageflow.identity.v1`, produced by identity, keyed by organizationId.
// Consumers: every service (members and roles for authorization, API keys for ingestion's
// key cache, signing keys to verify JWTs without calling identity, organization settings for how
// ingestion treats unknown metric keys).
import { Type, type Static } from '@sinclair/typebox';
import {
  ApiKeyScopeSchema,
  Closed,
  Email,
  IsoDateTime,
  Label,
  RoleSchema,
  Sha256Hex,
  StringEnum,
  SYSTEM_ORGANIZATION_ID,
  UserId,
  Uuid,
  Described,
} from '../common';
import { defineEvent, keyByOrganization } from '../event-definition';
import { TOPICS } from '../topics';
import { EXAMPLE_IDS, exampleEventId } from './examples';

const topic = TOPICS.identity;
const key = keyByOrganization;

/** organization.created: a tenant exists (the envelope's organizationId is its id). */
export const OrganizationCreatedData = Closed({
  name: Label,
  createdBy: Described(UserId, 'The user who signed up; a member.joined with role OWNER follows.'),
});

/** How ingestion treats a usage event whose `metric` key the organization has not defined. */
export const UNKNOWN_METRICS_MODES = ['REFUSE', 'ACCEPT'] as const;
export type UnknownMetricsMode = (typeof UNKNOWN_METRICS_MODES)[number];

/**
 * An organization's settings, always published whole. An organization that never changed them
 * has `DEFAULT_ORGANIZATION_SETTINGS` (organization.created carries none).
 */
export const OrganizationSettings = Closed({
  unknownMetrics: Described(
    StringEnum(UNKNOWN_METRICS_MODES),
    'What ingestion does with a usage event whose metric key the organization has not defined: ' +
      'REFUSE it (the default), or ACCEPT it (lenient mode).',
  ),
});
export type OrganizationSettings = Static<typeof OrganizationSettings>;

/** The settings of an organization no organization.updated has changed yet. */
export const DEFAULT_ORGANIZATION_SETTINGS: Readonly<OrganizationSettings> = Object.freeze({
  unknownMetrics: 'REFUSE',
});

/**
 * organization.updated: the organization's complete current state after its name or settings
 * changed, so a consumer keeps only the latest one (event-carried state transfer).
 */
export const OrganizationUpdatedData = Closed({ name: Label, settings: OrganizationSettings });

/** member.invited: an invitation was sent. The invitation token is never published. */
export const MemberInvitedData = Closed({
  invitationId: Uuid,
  email: Email,
  role: RoleSchema,
  invitedBy: UserId,
  expiresAt: IsoDateTime,
});

/** member.joined: a user became a member (the founding owner at signup, or by invitation). */
export const MemberJoinedData = Closed({
  userId: UserId,
  email: Email,
  role: RoleSchema,
  invitationId: Type.Optional(
    Described(Uuid, "The accepted invitation; absent for the organization's founding owner."),
  ),
});

/** member.role_changed: an owner changed a member's role. */
export const MemberRoleChangedData = Closed({
  userId: UserId,
  previousRole: RoleSchema,
  role: RoleSchema,
  changedBy: UserId,
});

/** member.removed: a member lost access to the organization. */
export const MemberRemovedData = Closed({
  userId: UserId,
  role: Described(RoleSchema, 'The role they held when removed.'),
  removedBy: UserId,
});

/** Live keys bill real usage; test keys are for integration work. */
export const ApiKeyMode = StringEnum(['live', 'test'] as const);

/**
 * api_key.created: a key was issued. Never the secret: only what lets ingestion recognize it.
 * The digest is the SHA-256 (hex) of the full key; a key carries >= 128 bits of entropy, so a
 * plain digest is safe to publish and gives an O(1) lookup without bcrypt on the hot path.
 */
export const ApiKeyCreatedData = Closed({
  apiKeyId: Uuid,
  name: Label,
  prefix: Described(
    Type.String({ pattern: '^uf_(live|test)_[A-Za-z0-9_-]{0,16}$' }),
    'The first characters of the key, shown in lists to recognize it ("uf_live_3kT9").',
  ),
  digest: Described(Sha256Hex, 'SHA-256 of the full key, lowercase hex: how ingestion looks a key up.'),
  mode: ApiKeyMode,
  scopes: Type.Array(ApiKeyScopeSchema, { minItems: 1, uniqueItems: true }),
  createdBy: UserId,
  createdAt: IsoDateTime,
});

/** api_key.revoked: a key stops working everywhere (ingestion evicts it from its cache). */
export const ApiKeyRevokedData = Closed({
  apiKeyId: Uuid,
  revokedBy: UserId,
  revokedAt: IsoDateTime,
});

const Base64Url = Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 1024 });

/**
 * A public JWK. Closed on purpose: private members (`d`, `p`, `q`, ...) are rejected, so a
 * private key can never be published by mistake.
 */
export const PublicJwk = Closed({
  kty: StringEnum(['OKP', 'EC', 'RSA'] as const),
  kid: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  use: Type.Optional(Type.Literal('sig')),
  alg: Type.Optional(Type.String({ minLength: 1, maxLength: 16 })),
  crv: Type.Optional(StringEnum(['Ed25519', 'P-256'] as const)),
  x: Type.Optional(Base64Url),
  y: Type.Optional(Base64Url),
  n: Type.Optional(Base64Url),
  e: Type.Optional(Base64Url),
});

/** The algorithms identity may sign JWTs with. */
export const JWT_ALGORITHMS = ['EdDSA', 'ES256', 'RS256'] as const;

/**
 * signing_key.published: a JWT verification key, so services verify tokens from their own
 * projection (services never call identity over HTTP). Platform-wide: its envelope carries
 * `SYSTEM_ORGANIZATION_ID`. Publish before signing with it (`notBefore`); keep verifying until
 * `expiresAt`, which must outlive the last token it signed.
 */
export const SigningKeyPublishedData = Closed({
  kid: Type.String({ minLength: 1, maxLength: 128 }),
  alg: StringEnum(JWT_ALGORITHMS),
  publicJwk: PublicJwk,
  notBefore: IsoDateTime,
  expiresAt: IsoDateTime,
});

const march1 = '2025-03-01T09:00:00.000Z';

/** The identity topic's event types. */
export const IDENTITY_EVENTS = [
  defineEvent({
    type: 'organization.created',
    version: 1,
    topic,
    key,
    description:
      'An organization (tenant) was created at signup, with the default settings (unknownMetrics REFUSE) ' +
      'until an organization.updated says otherwise.',
    data: OrganizationCreatedData,
    examples: [
      { id: exampleEventId(101), occurredAt: march1, data: { name: 'CloudAI', createdBy: EXAMPLE_IDS.ownerUser } },
    ],
  }),
  defineEvent({
    type: 'organization.updated',
    version: 1,
    topic,
    key,
    description:
      "The organization's name or settings changed; carries its complete current state, so only the latest " +
      'one matters. Until the first one, an organization has the default settings (unknownMetrics REFUSE): ' +
      'organization.created carries no settings.',
    data: OrganizationUpdatedData,
    examples: [
      {
        id: exampleEventId(110),
        occurredAt: '2025-03-01T09:10:00.000Z',
        data: { name: 'CloudAI', settings: { unknownMetrics: 'ACCEPT' } },
      },
    ],
  }),
  defineEvent({
    type: 'member.invited',
    version: 1,
    topic,
    key,
    description: 'A person was invited to join the organization with a role.',
    data: MemberInvitedData,
    examples: [
      {
        id: exampleEventId(102),
        occurredAt: '2025-03-01T09:05:00.000Z',
        data: {
          invitationId: EXAMPLE_IDS.invitation,
          email: 'ada@cloudai.example',
          role: 'ADMIN',
          invitedBy: EXAMPLE_IDS.ownerUser,
          expiresAt: '2025-03-08T09:05:00.000Z',
        },
      },
    ],
  }),
  defineEvent({
    type: 'member.joined',
    version: 1,
    topic,
    key,
    description: 'A user became a member: the founding owner at signup, or an invitee on acceptance.',
    data: MemberJoinedData,
    examples: [
      {
        id: exampleEventId(103),
        occurredAt: march1,
        data: { userId: EXAMPLE_IDS.ownerUser, email: 'grace@cloudai.example', role: 'OWNER' },
      },
      {
        id: exampleEventId(104),
        occurredAt: '2025-03-01T10:00:00.000Z',
        data: {
          userId: EXAMPLE_IDS.adminUser,
          email: 'ada@cloudai.example',
          role: 'ADMIN',
          invitationId: EXAMPLE_IDS.invitation,
        },
      },
    ],
  }),
  defineEvent({
    type: 'member.role_changed',
    version: 1,
    topic,
    key,
    description: "An owner changed a member's role.",
    data: MemberRoleChangedData,
    examples: [
      {
        id: exampleEventId(105),
        occurredAt: '2025-03-02T08:00:00.000Z',
        data: {
          userId: EXAMPLE_IDS.adminUser,
          previousRole: 'ADMIN',
          role: 'DEVELOPER',
          changedBy: EXAMPLE_IDS.ownerUser,
        },
      },
    ],
  }),
  defineEvent({
    type: 'member.removed',
    version: 1,
    topic,
    key,
    description: 'A member was removed from the organization; their sessions stop working.',
    data: MemberRemovedData,
    examples: [
      {
        id: exampleEventId(106),
        occurredAt: '2025-03-03T08:00:00.000Z',
        data: { userId: EXAMPLE_IDS.adminUser, role: 'DEVELOPER', removedBy: EXAMPLE_IDS.ownerUser },
      },
    ],
  }),
  defineEvent({
    type: 'api_key.created',
    version: 1,
    topic,
    key,
    description: 'An API key was issued (its secret is never published, only its SHA-256 digest).',
    data: ApiKeyCreatedData,
    examples: [
      {
        id: exampleEventId(107),
        occurredAt: '2025-03-01T09:30:00.000Z',
        data: {
          apiKeyId: EXAMPLE_IDS.apiKey,
          name: 'Production backend',
          prefix: 'uf_live_3kT9',
          digest: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
          mode: 'live',
          scopes: ['events:write', 'usage:read'],
          createdBy: EXAMPLE_IDS.ownerUser,
          createdAt: '2025-03-01T09:30:00.000Z',
        },
      },
    ],
  }),
  defineEvent({
    type: 'api_key.revoked',
    version: 1,
    topic,
    key,
    description: 'An API key was revoked and must be refused from now on.',
    data: ApiKeyRevokedData,
    examples: [
      {
        id: exampleEventId(108),
        occurredAt: '2025-04-15T12:00:00.000Z',
        data: { apiKeyId: EXAMPLE_IDS.apiKey, revokedBy: EXAMPLE_IDS.ownerUser, revokedAt: '2025-04-15T12:00:00.000Z' },
      },
    ],
  }),
  defineEvent({
    type: 'signing_key.published',
    version: 1,
    topic,
    key,
    description: 'A JWT verification key was published (platform-wide, under the system organization id).',
    data: SigningKeyPublishedData,
    examples: [
      {
        id: exampleEventId(109),
        organizationId: SYSTEM_ORGANIZATION_ID,
        occurredAt: '2025-02-28T00:00:00.000Z',
        data: {
          kid: '2025-03-k1',
          alg: 'EdDSA',
          publicJwk: {
            kty: 'OKP',
            crv: 'Ed25519',
            x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
            kid: '2025-03-k1',
            use: 'sig',
            alg: 'EdDSA',
          },
          notBefore: '2025-03-01T00:00:00.000Z',
          expiresAt: '2025-06-01T00:00:00.000Z',
        },
      },
    ],
  }),
] as const;
