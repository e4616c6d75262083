import type { Migration } from './migrations';

/**
 * The outbox and inbox tables every service carries in its own schema. Include these in the
 * service's migration list (their names sort before the service's own `001_...`).
 */
export const messagingMigrations: readonly Migration[] = [
  {
    name: '000_outbox_inbox',
    async up(db) {
      await db.raw(`
        create table outbox (
          seq          bigserial primary key,
          id           uuid not null unique,
          topic        text not null,
          key          text,
          payload      json not null, -- json, not jsonb: the record is published byte for byte as appended
          headers      jsonb not null default '{}',
          created_at   timestamptz not null default now(),
          published_at timestamptz
        );
        -- the relay's work list: unpublished rows in append order
        create index outbox_unpublished on outbox (seq) where published_at is null;

        -- per topic-partition, the next offset the relay knows it has accounted for; after a crash
        -- the relay reads the log from here to find rows it sent but could not mark.
        create table outbox_relay_position (
          topic       text not null,
          partition   integer not null,
          next_offset bigint not null,
          primary key (topic, partition)
        );

        create table inbox (
          consumer     text not null,
          event_id     uuid not null,
          topic        text not null,
          partition    integer not null,
          "offset"     bigint not null,
          processed_at timestamptz not null default now(),
          primary key (consumer, event_id)
        );
      `);
    },
  },
];
