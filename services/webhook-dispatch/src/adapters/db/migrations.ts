import type { Migration } from '@usageflow/db';

/** The webhook-dispatch service's tables, in its own schema. Forward only. */
export const webhookMigrations: readonly Migration[] = [
  {
    name: '100_webhook_core',
    async up(db) {
      await db.raw(`
        create table webhook_endpoints (
          id                         uuid primary key,
          organization_id            uuid not null,
          url                        text not null,
          event_types                text[] not null,
          description                text,
          enabled                    boolean not null,
          disabled_reason            text check (disabled_reason in ('MANUAL', 'FAILING')),
          -- The signing secrets: the current one, and the previous one while a rotation overlaps.
          -- Never returned by a read and never logged.
          secret                     text not null,
          previous_secret            text,
          previous_secret_expires_at timestamptz,
          -- Health: when the current streak of failed attempts began (null after a success).
          failing_since              timestamptz,
          created_at                 timestamptz not null,
          updated_at                 timestamptz not null,
          check (enabled = (disabled_reason is null))
        );
        create index webhook_endpoints_page on webhook_endpoints (organization_id, created_at, id);

        -- One event's delivery to one endpoint. Its id is the webhook-id header, the same on every
        -- attempt and resend; the payload is kept as the exact bytes sent and signed.
        create table webhook_deliveries (
          id              text primary key,
          organization_id uuid not null,
          endpoint_id     uuid not null references webhook_endpoints (id) on delete cascade,
          event_id        uuid not null,
          event_type      text not null,
          payload         text not null,
          status          text not null check (status in ('PENDING', 'DELIVERED', 'FAILED')),
          attempt_count   integer not null default 0,
          next_attempt_at timestamptz,
          created_at      timestamptz not null,
          updated_at      timestamptz not null,
          -- fan-out is idempotent: a redelivered event creates no second delivery
          unique (endpoint_id, event_id),
          check ((status = 'PENDING') = (next_attempt_at is not null))
        );
        -- the dispatcher's work list: due deliveries, by due time
        create index webhook_deliveries_due on webhook_deliveries (next_attempt_at) where status = 'PENDING';
        -- the delivery log of an endpoint, newest first
        create index webhook_deliveries_log on webhook_deliveries (endpoint_id, created_at desc, id desc);

        create table webhook_attempts (
          delivery_id text not null references webhook_deliveries (id) on delete cascade,
          attempt     integer not null,
          at          timestamptz not null,
          status_code integer,
          latency_ms  integer not null,
          error       text,
          primary key (delivery_id, attempt)
        );
      `);
    },
  },
];
