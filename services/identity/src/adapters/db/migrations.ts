import type { Migration } from '@usageflow/db';

/** The identity service's tables, in its own schema. Forward only. */
export const identityMigrations: readonly Migration[] = [
  {
    name: '100_identity_core',
    async up(db) {
      await db.raw(`
        create table users (
          id            uuid primary key,
          email         text not null,
          email_key     text not null unique,        -- lower(email): one account per address
          name          text,
          password_hash text not null,               -- bcrypt; never leaves this table
          created_at    timestamptz not null
        );

        create table organizations (
          id         uuid primary key,
          name       text not null,
          created_by uuid not null references users (id),
          created_at timestamptz not null
        );

        create table memberships (
          organization_id uuid not null references organizations (id),
          user_id         uuid not null references users (id),
          role            text not null check (role in ('OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER')),
          joined_at       timestamptz not null,
          updated_at      timestamptz not null,
          primary key (organization_id, user_id)
        );
        create index memberships_user on memberships (user_id);

        -- A removed member's row is deleted; this keeps when it happened, so the auth store can
        -- refuse tokens issued before the removal (what every service's projection also knows).
        create table removed_memberships (
          organization_id uuid not null,
          user_id         uuid not null,
          removed_at      timestamptz not null,
          primary key (organization_id, user_id)
        );

        create table invitations (
          id              uuid primary key,
          organization_id uuid not null references organizations (id),
          email           text not null,
          email_key       text not null,
          role            text not null check (role in ('ADMIN', 'DEVELOPER', 'VIEWER')),
          token_digest    text not null unique,      -- SHA-256 of the token; the token is only mailed
          invited_by      uuid not null references users (id),
          created_at      timestamptz not null,
          expires_at      timestamptz not null,
          accepted_at     timestamptz,
          accepted_by     uuid references users (id),
          revoked_at      timestamptz
        );
        create index invitations_org on invitations (organization_id, created_at, id);

        create table refresh_tokens (
          id              uuid primary key,
          family_id       uuid not null,             -- one login; reuse of a rotated token revokes it all
          user_id         uuid not null references users (id),
          organization_id uuid not null references organizations (id),
          token_digest    text not null unique,
          created_at      timestamptz not null,
          expires_at      timestamptz not null,
          used_at         timestamptz,               -- rotated: exchanged for a successor
          revoked_at      timestamptz
        );
        create index refresh_tokens_family on refresh_tokens (family_id);
        create index refresh_tokens_member on refresh_tokens (organization_id, user_id);

        create table api_keys (
          id              uuid primary key,
          organization_id uuid not null references organizations (id),
          name            text not null,
          prefix          text not null,
          digest          text not null unique,      -- SHA-256 hex of the key: O(1) lookup, no bcrypt
          mode            text not null check (mode in ('live', 'test')),
          scopes          text[] not null,
          created_by      uuid not null references users (id),
          created_at      timestamptz not null,
          revoked_at      timestamptz,
          revoked_by      uuid references users (id),
          last_used_at    timestamptz
        );
        create index api_keys_org on api_keys (organization_id, created_at, id);

        create table signing_keys (
          kid         text primary key,
          alg         text not null,
          public_jwk  jsonb not null,
          private_jwk jsonb not null,                -- never published; see the closing note on KMS
          not_before  timestamptz not null,          -- signs from here ...
          signs_until timestamptz not null,          -- ... until here (then the next key signs)
          expires_at  timestamptz not null,          -- verifiable until here (> last token's exp)
          created_at  timestamptz not null
        );

        -- Failed logins per subject (an e-mail or a client address) in fixed windows.
        create table login_failures (
          subject      text not null,
          window_start timestamptz not null,
          failures     integer not null,
          primary key (subject, window_start)
        );
      `);
    },
  },
  {
    name: '101_identity_organization_settings',
    async up(db) {
      // NOTE: existing organizations keep what they had so far: unknown metric keys refused.
      await db.raw(`
        alter table organizations
          add column unknown_metrics text not null default 'REFUSE'
            check (unknown_metrics in ('REFUSE', 'ACCEPT'));
      `);
    },
  },
];
