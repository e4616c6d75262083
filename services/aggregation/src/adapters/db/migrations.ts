import type { Migration } from '@usageflow/db';

/**
 * The aggregation service's tables, in its own schema. Forward only. Everything here is a
 * projection of the topics: `rebuild` empties it and the consumers replay from offset 0.
 */
export const aggregationMigrations: readonly Migration[] = [
  {
    name: '100_aggregation_core',
    async up(db) {
      await db.raw(`
        -- The home of an event's identity (organizationId, eventId) across time partitions: a
        -- primary key on the usage table would have to include its partition column (the time).
        -- The key is the first 128 bits of SHA-256(organizationId ':' eventId), computed by the
        -- consumer: a 16-byte btree is the cheapest uniqueness check per event.
        create table usage_event_keys (
          key uuid primary key
        );

        -- The raw events, the source of truth for billing, kept forever and partitioned by month
        -- of the event timestamp (partitions are created as events for a month first arrive).
        -- Only first arrivals are stored; where each came from on the topic is kept, because a
        -- period summary counts exactly the events before the closing's high-water marks.
        create table usage_events (
          organization_id uuid        not null,
          customer_id     text        not null,
          metric          text        not null,
          amount          numeric     not null,
          ts              timestamptz not null,
          event_id        text        not null collate "C",
          key             uuid        not null,
          properties      jsonb       not null,
          received_at     timestamptz not null,
          kafka_partition integer     not null,
          kafka_offset    bigint      not null,
          stored_at       timestamptz not null default now()
        ) partition by range (ts);
        create index usage_events_customer on usage_events (organization_id, customer_id, ts);

        -- Hourly rollups of every metric key seen, whether or not the metric is defined yet: COUNT,
        -- SUM, MAX and LATEST are read from the same columns, so an event is folded in once, when
        -- stored, and a metric defined later finds its usage already rolled up. LATEST is the
        -- amount of the greatest (ts, event_id); event ids compare bytewise (collate "C").
        create table usage_rollups (
          organization_id uuid        not null,
          customer_id     text        not null,
          metric          text        not null,
          hour            timestamptz not null,
          event_count     bigint      not null,
          amount_sum      numeric     not null,
          amount_max      numeric     not null,
          latest_ts       timestamptz not null,
          latest_event_id text        not null collate "C",
          latest_amount   numeric     not null,
          primary key (organization_id, customer_id, metric, hour)
        ) with (fillfactor = 70);

        -- The distinct values of a UNIQUE_COUNT metric's property per hour, exactly (not a sketch):
        -- a period's count is the number of distinct values over its hours. A value is its JSON
        -- text as Postgres prints jsonb, so "1" and 1 differ and 1.0 and 1.00 do not.
        create table usage_unique_values (
          organization_id uuid        not null,
          customer_id     text        not null,
          metric          text        not null,
          hour            timestamptz not null,
          value           text        not null,
          primary key (organization_id, customer_id, metric, hour, value)
        );

        -- How far the usage consumer got, per partition, written in the same transaction as the
        -- batch: a summary waits until these reach the closing's high-water marks.
        create table usage_progress (
          topic       text    not null,
          partition   integer not null,
          next_offset bigint  not null,
          updated_at  timestamptz not null default now(),
          primary key (topic, partition)
        );

        -- Projections of the catalog: how a metric rolls up, and which metrics a plan version bills.
        create table metrics (
          organization_id uuid not null,
          key             text not null,
          aggregation     text not null check (aggregation in ('SUM', 'COUNT', 'MAX', 'LATEST', 'UNIQUE_COUNT')),
          unique_property text,
          updated_at      timestamptz not null,
          primary key (organization_id, key),
          check ((aggregation = 'UNIQUE_COUNT') = (unique_property is not null))
        );

        create table plan_versions (
          organization_id uuid    not null,
          code            text    not null,
          version         integer not null,
          metric_keys     text[]  not null,
          primary key (organization_id, code, version)
        );

        -- Projection of the subscriptions: the current period, for live usage.
        create table subscriptions (
          id                   uuid primary key,
          organization_id      uuid not null,
          customer_id          text not null,
          plan_code            text not null,
          plan_version         integer not null,
          status               text not null,
          current_period_start timestamptz,
          current_period_end   timestamptz,
          updated_at           timestamptz not null
        );
        create index subscriptions_customer on subscriptions (organization_id, customer_id);

        -- A closed period, from subscription.period_closed, waiting to be summarized and then
        -- summarized: the summary is taken once the usage consumer passed every high-water mark.
        create table period_closings (
          subscription_id  uuid        not null,
          period_start     timestamptz not null,
          period_end       timestamptz not null,
          organization_id  uuid        not null,
          customer_id      text        not null,
          plan_code        text        not null,
          plan_version     integer     not null,
          high_water_marks jsonb       not null,
          closed_at        timestamptz not null,
          closing_event_id uuid        not null,
          summarized_at    timestamptz,
          summary_event_id uuid,
          fingerprint      text,
          primary key (subscription_id, period_start)
        );
        create index period_closings_pending on period_closings (closed_at) where summarized_at is null;
        create index period_closings_customer on period_closings (organization_id, customer_id, period_start);

        -- Each plan metric's quantity in a summary, and what has been billed for it since: the
        -- summary quantity plus every late record. A late event bills only the increase it makes.
        create table period_metric_totals (
          subscription_id   uuid        not null,
          period_start      timestamptz not null,
          metric            text        not null,
          aggregation       text        not null,
          summary_quantity  numeric     not null,
          summary_events    bigint      not null,
          billed_quantity   numeric     not null,
          late_events       bigint      not null default 0,
          primary key (subscription_id, period_start, metric),
          foreign key (subscription_id, period_start) references period_closings (subscription_id, period_start)
        );

        -- Events that arrived for an already summarized period, and the late record that billed them.
        create table late_events (
          key              uuid        not null,
          subscription_id  uuid        not null,
          period_start     timestamptz not null,
          metric           text        not null,
          late_event_id    uuid        not null,
          detected_at      timestamptz not null,
          primary key (key, subscription_id)
        );
      `);
    },
  },
  {
    name: '101_aggregation_trace',
    async up(db) {
      await db.raw(`
        -- Where an event's first arrival is stored: its customer and time lead the trace to its
        -- row through usage_events_customer (an index on the event id would cost every insert).
        alter table usage_event_keys add column customer_id text, add column ts timestamptz;
        update usage_event_keys k set customer_id = e.customer_id, ts = e.ts from usage_events e where e.key = k.key;
        alter table usage_event_keys alter column customer_id set not null, alter column ts set not null;

        -- Arrivals dropped as duplicates of an event already stored (same organization and id),
        -- one row per arrival on the topic; a batch read again after a crash adds none (see
        -- ingest). What the sender sent is kept as sent: a reused id may carry other fields.
        create table usage_duplicates (
          kafka_partition integer     not null,
          kafka_offset    bigint      not null,
          key             uuid        not null,
          organization_id uuid        not null,
          customer_id     text        not null,
          metric          text        not null,
          ts              timestamptz not null,
          event_id        text        not null collate "C",
          received_at     timestamptz not null,
          dropped_at      timestamptz not null,
          primary key (kafka_partition, kafka_offset)
        );
        create index usage_duplicates_key on usage_duplicates (key);
        create index usage_duplicates_customer on usage_duplicates (organization_id, customer_id, ts);

        -- A late record's place among its subscription's (billing bills it on the first invoice
        -- whose summary's late_records_through reaches it) and the quantity it bills.
        alter table late_events add column sequence bigint, add column quantity numeric;
        update late_events l set sequence = n.sequence
          from (select key, subscription_id,
                       row_number() over (partition by subscription_id order by detected_at, late_event_id) as sequence
                  from late_events) n
         where n.key = l.key and n.subscription_id = l.subscription_id;
        create unique index late_events_sequence on late_events (subscription_id, sequence);
        alter table period_closings add column late_records_through bigint;

        -- Projection of billing's invoices: where each period's usage and each late record was
        -- billed. One invoice per subscription and period, as billing guarantees.
        create table invoices (
          id              uuid primary key,
          organization_id uuid        not null,
          subscription_id uuid        not null,
          number          text        not null,
          period_start    timestamptz not null,
          period_end      timestamptz not null,
          status          text        not null,
          currency        text        not null,
          amount_cents    bigint      not null,
          lines           jsonb       not null,
          issued_at       timestamptz not null,
          unique (subscription_id, period_start)
        );
      `);
    },
  },
];
