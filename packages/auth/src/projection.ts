// The identity projection every service but identity keeps in its own schema: the signing keys,
// memberships and API keys it needs to verify requests without calling identity. Built by
// consuming `usageflow.identity.v1`, rebuildable by replaying it from offset 0.
import { TOPICS, type DomainEvent, type EventOf, type Role } from '@usageflow/contracts';
import { claimInbox, type Knex, type Migration } from '@usageflow/db';
import {
  ConsumerRunner,
  PROJECTION_FETCH,
  type ConsumedEvent,
  type ConsumerRunnerOptions,
  type EventProducer,
  type Kafka,
} from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import type { JWK } from 'jose';
import type { JwtAlgorithm } from './tokens';
import type { ApiKeyRecord, AuthStore, MemberRecord, SigningKeyRecord } from './types';

/** The projection's tables; add it to the service's migrations (it sorts with the shared `000_` ones). */
export const identityProjectionMigration: Migration = {
  name: '000_auth_identity_projection',
  async up(db) {
    await db.raw(`
      create table auth_signing_keys (
        kid         text primary key,
        alg         text not null,
        public_jwk  jsonb not null,
        not_before  timestamptz not null,
        expires_at  timestamptz not null
      );

      -- role null: removed. updated_at is the occurredAt of the change applied last, so an older
      -- event arriving late never undoes a newer one.
      create table auth_members (
        organization_id uuid not null,
        user_id         uuid not null,
        role            text,
        updated_at      timestamptz not null,
        primary key (organization_id, user_id)
      );

      create table auth_api_keys (
        api_key_id      uuid primary key,
        digest          text not null unique, -- the lookup of every API-key request
        organization_id uuid not null,
        scopes          text[] not null,
        mode            text not null,
        revoked_at      timestamptz,
        created_at      timestamptz not null
      );
    `);
  },
};

type MemberEvent = EventOf<'member.joined'> | EventOf<'member.role_changed'> | EventOf<'member.removed'>;

/**
 * Applies identity events to the projection inside the caller's transaction, one statement per
 * kind of change. Idempotent and order-tolerant for members (newer occurredAt wins); the events
 * credentials do not depend on (organization.created, organization.updated, member.invited) change
 * nothing here, and are still recorded in the inbox like the others, never dead-lettered.
 */
export async function applyIdentityEvents(trx: Knex.Transaction, events: readonly DomainEvent[]): Promise<void> {
  const signingKeys = new Map<string, EventOf<'signing_key.published'>>();
  const created: EventOf<'api_key.created'>[] = [];
  const revoked: EventOf<'api_key.revoked'>[] = [];
  const members = new Map<string, MemberEvent>();
  for (const event of events) {
    switch (event.type) {
      case 'signing_key.published':
        signingKeys.set(event.data.kid, event); // a republished kid (retired early): the last one wins
        break;
      case 'api_key.created':
        created.push(event);
        break;
      case 'api_key.revoked':
        revoked.push(event);
        break;
      case 'member.joined':
      case 'member.role_changed':
      case 'member.removed': {
        // one row per member per statement (an upsert cannot touch a row twice): keep the newest
        const key = `${event.organizationId}:${event.data.userId}`;
        const seen = members.get(key);
        if (!seen || Date.parse(event.occurredAt) >= Date.parse(seen.occurredAt)) members.set(key, event);
        break;
      }
      // NOTE: an organization's name and settings (unknownMetrics) play no part in checking a
      // credential; a service that needs them keeps its own projection of organization.updated.
      case 'organization.created':
      case 'organization.updated':
      case 'member.invited':
        break;
    }
  }

  if (signingKeys.size > 0) {
    const rows = [...signingKeys.values()].map(({ data }) => ({
      kid: data.kid,
      alg: data.alg,
      public_jwk: data.publicJwk,
      not_before: data.notBefore,
      expires_at: data.expiresAt,
    }));
    await trx.raw(
      `insert into auth_signing_keys (kid, alg, public_jwk, not_before, expires_at)
       select kid, alg, public_jwk, not_before, expires_at
         from jsonb_to_recordset(?::jsonb)
              as k(kid text, alg text, public_jwk jsonb, not_before timestamptz, expires_at timestamptz)
       on conflict (kid) do update
         set alg = excluded.alg, public_jwk = excluded.public_jwk,
             not_before = excluded.not_before, expires_at = excluded.expires_at`,
      [JSON.stringify(rows)],
    );
  }

  if (created.length > 0) {
    const rows = created.map((e) => ({
      api_key_id: e.data.apiKeyId,
      digest: e.data.digest,
      organization_id: e.organizationId,
      scopes: e.data.scopes,
      mode: e.data.mode,
      created_at: e.data.createdAt,
    }));
    // a key is immutable once created; only its revocation changes it
    await trx.raw(
      `insert into auth_api_keys (api_key_id, digest, organization_id, scopes, mode, created_at)
       select api_key_id, digest, organization_id, scopes, mode, created_at
         from jsonb_to_recordset(?::jsonb)
              as k(api_key_id uuid, digest text, organization_id uuid, scopes text[], mode text, created_at timestamptz)
       on conflict (api_key_id) do nothing`,
      [JSON.stringify(rows)],
    );
  }

  if (revoked.length > 0) {
    const rows = revoked.map((e) => ({ api_key_id: e.data.apiKeyId, revoked_at: e.data.revokedAt }));
    // least() skips nulls: the first revocation time stands
    await trx.raw(
      `update auth_api_keys k set revoked_at = least(k.revoked_at, r.revoked_at)
         from jsonb_to_recordset(?::jsonb) as r(api_key_id uuid, revoked_at timestamptz)
        where k.api_key_id = r.api_key_id`,
      [JSON.stringify(rows)],
    );
  }

  if (members.size > 0) {
    const rows = [...members.values()].map((e) => ({
      organization_id: e.organizationId,
      user_id: e.data.userId,
      role: e.type === 'member.removed' ? null : e.data.role,
      updated_at: e.occurredAt,
    }));
    await trx.raw(
      `insert into auth_members (organization_id, user_id, role, updated_at)
       select organization_id, user_id, role, updated_at
         from jsonb_to_recordset(?::jsonb) as m(organization_id uuid, user_id uuid, role text, updated_at timestamptz)
       on conflict (organization_id, user_id) do update
         set role = excluded.role, updated_at = excluded.updated_at
         where auth_members.updated_at <= excluded.updated_at`,
      [JSON.stringify(rows)],
    );
  }
}

/** An `AuthStore` over the projection's tables (one indexed lookup per question). */
export class ProjectionAuthStore implements AuthStore {
  constructor(private readonly db: Knex) {}

  async signingKey(kid: string): Promise<SigningKeyRecord | undefined> {
    const row = await this.db('auth_signing_keys')
      .where({ kid })
      .first<{ kid: string; alg: JwtAlgorithm; public_jwk: JWK; not_before: Date; expires_at: Date } | undefined>();
    return (
      row && {
        kid: row.kid,
        alg: row.alg,
        publicJwk: row.public_jwk,
        notBefore: row.not_before,
        expiresAt: row.expires_at,
      }
    );
  }

  async apiKeyByDigest(digest: string): Promise<ApiKeyRecord | undefined> {
    const row = await this.db('auth_api_keys').where({ digest }).first<
      | {
          api_key_id: string;
          organization_id: string;
          scopes: ApiKeyRecord['scopes'];
          mode: ApiKeyRecord['mode'];
          revoked_at: Date | null;
        }
      | undefined
    >();
    return (
      row && {
        apiKeyId: row.api_key_id,
        organizationId: row.organization_id,
        scopes: row.scopes,
        mode: row.mode,
        revokedAt: row.revoked_at,
      }
    );
  }

  async member(organizationId: string, userId: string): Promise<MemberRecord | undefined> {
    const row = await this.db('auth_members')
      .where({ organization_id: organizationId, user_id: userId })
      .first<{ role: Role | null; updated_at: Date } | undefined>();
    return row && { organizationId, userId, role: row.role, updatedAt: row.updated_at };
  }
}

/** What the projection consumer needs. */
export interface IdentityProjectionConsumerOptions {
  kafka: Kafka;
  /** Produces dead letters. */
  producer: EventProducer;
  /** The service's database (its own schema, migrated with `identityProjectionMigration`). */
  db: Knex;
  logger: Logger;
  /** The consumer group, also the inbox's consumer name. */
  groupId: string;
  /** Default `usageflow.identity.v1`. */
  topic?: string;
  /** Called after each committed batch that changed something: pass `() => authenticator.invalidate()`. */
  onApplied?: () => void;
  retry?: ConsumerRunnerOptions<ConsumedEvent>['retry'];
}

/** A consumer that keeps the identity projection, each batch applied once (inbox) in one transaction. */
export function createIdentityProjectionConsumer(
  options: IdentityProjectionConsumerOptions,
): ConsumerRunner<ConsumedEvent> {
  const { db, groupId } = options;
  return new ConsumerRunner<ConsumedEvent>({
    kafka: options.kafka,
    producer: options.producer,
    groupId,
    topics: [options.topic ?? TOPICS.identity],
    logger: options.logger,
    retry: options.retry,
    ...PROJECTION_FETCH,
    handle: async (messages) => {
      // at-least-once delivery; the inbox in the same transaction makes a redelivered batch a no-op
      const applied = await db.transaction(async (trx) => {
        const fresh = await claimInbox(
          trx,
          groupId,
          messages.map((m) => ({ eventId: m.event.id, topic: m.topic, partition: m.partition, offset: m.offset, m })),
        );
        await applyIdentityEvents(
          trx,
          fresh.map(({ m }) => m.event),
        );
        return fresh.length;
      });
      if (applied > 0) options.onApplied?.();
    },
  });
}
