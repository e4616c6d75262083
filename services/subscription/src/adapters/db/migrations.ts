import type { Migration } from '@usageflow/db';

/** The subscription service's tables, in its own schema. Forward only. */
export const subscriptionMigrations: readonly Migration[] = [
  {
    name: '100_subscription_catalog',
    async up(db) {
      await db.raw(`
        create table metrics (
          organization_id uuid not null,
          key             text not null,             -- immutable: usage events name it
          name            text not null,
          unit            text not null,
          aggregation     text not null check (aggregation in ('SUM', 'COUNT', 'MAX', 'LATEST', 'UNIQUE_COUNT')),
          unique_property text,
          description     text,
          created_at      timestamptz not null,
          updated_at      timestamptz not null,
          primary key (organization_id, key),
          check ((aggregation = 'UNIQUE_COUNT') = (unique_property is not null))
        );

        create table plans (
          organization_id uuid not null,
          code            text not null,
          currency        text not null,             -- fixed for the plan family
          interval        text not null check (interval in ('MONTHLY', 'YEARLY')),
          latest_version  integer not null,
          archived_at     timestamptz,
          created_at      timestamptz not null,
          primary key (organization_id, code)
        );

        -- One row per version, never updated: a subscription names (code, version).
        create table plan_versions (
          organization_id uuid not null,
          code            text not null,
          version         integer not null check (version >= 1),
          name            text not null,
          description     text,
          base_price      numeric not null check (base_price >= 0),
          plan_metrics    jsonb not null,            -- [{metricKey, includedUnits, overageUnitPrice}]
          created_at      timestamptz not null,
          primary key (organization_id, code, version),
          foreign key (organization_id, code) references plans (organization_id, code)
        );

        create table test_clocks (
          id              uuid primary key,
          organization_id uuid not null,
          name            text,
          frozen_time     timestamptz not null,      -- only moves forward
          created_at      timestamptz not null
        );
        create index test_clocks_org on test_clocks (organization_id, created_at, id);

        create table customers (
          organization_id uuid not null,
          customer_id     text not null,             -- the organization's own id (usage events carry it)
          name            text not null,
          email           text,
          test_clock_id   uuid references test_clocks (id),
          created_at      timestamptz not null,
          updated_at      timestamptz not null,
          primary key (organization_id, customer_id)
        );
        create index customers_page on customers (organization_id, created_at, customer_id);
      `);
    },
  },
  {
    name: '101_subscription_subscriptions',
    async up(db) {
      await db.raw(`
        create table subscriptions (
          id                   uuid primary key,
          organization_id      uuid not null,
          customer_id          text not null,
          plan_code            text not null,
          plan_version         integer not null,
          status               text not null check (status in ('ACTIVE', 'SUSPENDED', 'CANCELLED')),
          start_at             timestamptz not null,
          anchor_kind          text not null check (anchor_kind in ('CALENDAR', 'ANNIVERSARY')),
          billing_anchor       timestamptz not null,
          period_start         timestamptz,          -- the open period [start, end); null once ended
          period_end           timestamptz,
          period_index         integer,
          cancel_at            timestamptz,          -- cancellation scheduled at a period end
          ended_at             timestamptz,
          test_clock_id        uuid references test_clocks (id),
          created_at           timestamptz not null,
          updated_at           timestamptz not null,
          foreign key (organization_id, customer_id) references customers (organization_id, customer_id),
          foreign key (organization_id, plan_code, plan_version)
            references plan_versions (organization_id, code, version)
        );
        -- NOTE: at most one live subscription per customer per plan family.
        create unique index subscriptions_one_live_per_plan
          on subscriptions (organization_id, customer_id, plan_code) where status <> 'CANCELLED';
        create index subscriptions_page on subscriptions (organization_id, created_at, id);
        -- the closer's question: whose open period is due (real time), by due time
        create index subscriptions_due on subscriptions (period_end) where period_end is not null and test_clock_id is null;
        create index subscriptions_clock on subscriptions (test_clock_id) where test_clock_id is not null;

        -- Each period is closed once: the key makes a second closing of the same period a no-op.
        create table period_closings (
          subscription_id uuid not null references subscriptions (id),
          period_start    timestamptz not null,
          period_end      timestamptz not null,
          closed_at       timestamptz not null,
          event_id        uuid not null,
          primary key (subscription_id, period_start)
        );
      `);
    },
  },
  {
    // ONE_LIVE_SUBSCRIPTION_PER_PLAN=false lets an organization run several live subscriptions of
    // one customer to one plan: such rows are created non-exclusive and stay out of the index.
    name: '102_subscription_exclusive',
    async up(db) {
      await db.raw(`
        alter table subscriptions add column exclusive boolean not null default true;
        drop index subscriptions_one_live_per_plan;
        create unique index subscriptions_one_live_per_plan
          on subscriptions (organization_id, customer_id, plan_code) where status <> 'CANCELLED' and exclusive;
      `);
    },
  },
  {
    // The invoice whose failure suspended the subscription: paying that invoice reactivates it.
    name: '103_subscription_suspended_invoice',
    async up(db) {
      await db.raw(`alter table subscriptions add column suspended_invoice_id uuid`);
    },
  },
];
