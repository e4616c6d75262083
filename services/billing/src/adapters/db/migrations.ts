import type { Migration } from '@usageflow/db';

/**
 * The billing service's tables, in its own schema. Forward only. Projections (plans, metrics,
 * customers, subscriptions, test clocks) are rebuilt from the topics; invoices and payments are
 * billing's own records and immutable where the guarantees say so (enforced here by triggers).
 */
export const billingMigrations: readonly Migration[] = [
  {
    name: '100_billing_projections',
    async up(db) {
      await db.raw(`
        -- Each plan version's complete pricing terms as the catalog published them (versions are
        -- immutable upstream; an update of the same version replaces its terms).
        create table plan_versions (
          organization_id uuid    not null,
          code            text    not null,
          version         integer not null,
          terms           jsonb   not null,
          primary key (organization_id, code, version)
        );

        -- Metric names and units, for invoice lines ("API calls").
        create table metrics (
          organization_id uuid not null,
          key             text not null,
          name            text not null,
          unit            text not null,
          primary key (organization_id, key)
        );

        create table customers (
          organization_id uuid not null,
          customer_id     text not null,
          name            text,
          email           text,
          primary key (organization_id, customer_id)
        );

        create table subscriptions (
          id              uuid primary key,
          organization_id uuid not null,
          customer_id     text not null,
          test_clock_id   uuid,
          status          text not null
        );

        -- A test clock's current time: what "now" is for its subscriptions' invoices and dunning.
        create table test_clocks (
          id              uuid primary key,
          organization_id uuid        not null,
          frozen_time     timestamptz not null
        );

        -- Usage summaries as received; an invoice is issued from each once its plan version and
        -- subscription are known here (Kafka orders nothing across topics). One per
        -- subscription and period: a second summary of the same period is ignored.
        create table usage_summaries (
          event_id        uuid primary key,
          organization_id uuid        not null,
          subscription_id uuid        not null,
          period_start    timestamptz not null,
          period_end      timestamptz not null,
          plan_code       text        not null,
          plan_version    integer     not null,
          data            jsonb       not null,
          received_seq    bigserial,
          invoice_id      uuid,
          unique (subscription_id, period_start, period_end)
        );
        create index usage_summaries_pending on usage_summaries (received_seq) where invoice_id is null;

        -- Late usage records (usage.late_recorded), billed on the first invoice of the subscription
        -- for a later period; invoice_id links each to the invoice that billed it.
        create table late_usage (
          event_id        uuid primary key,
          organization_id uuid        not null,
          subscription_id uuid        not null,
          period_start    timestamptz not null,
          period_end      timestamptz not null,
          plan_code       text        not null,
          plan_version    integer     not null,
          metric_key      text        not null,
          aggregation     text        not null,
          quantity        numeric     not null,
          event_count     integer     not null,
          detected_at     timestamptz not null,
          received_seq    bigserial,
          invoice_id      uuid
        );
        create index late_usage_unbilled on late_usage (subscription_id) where invoice_id is null;
      `);
    },
  },
  {
    name: '101_billing_invoices',
    async up(db) {
      await db.raw(`
        -- The last invoice number issued per organization. Incremented inside the transaction
        -- that inserts the invoices: a rolled-back issuance gives its numbers back, so the
        -- sequence has no gaps (a Postgres sequence would lose them).
        create table invoice_sequences (
          organization_id uuid primary key,
          last_number     bigint not null
        );

        create table invoices (
          id               uuid primary key,
          organization_id  uuid        not null,
          seq              bigint      not null,
          number           text        not null,
          subscription_id  uuid        not null,
          customer_id      text        not null,
          plan_code        text        not null,
          plan_version     integer     not null,
          period_start     timestamptz not null,
          period_end       timestamptz not null,
          currency         text        not null,
          amount_cents     bigint      not null check (amount_cents >= 0),
          issued_at        timestamptz not null,
          due_at           timestamptz not null,
          summary_event_id uuid        not null,
          fingerprint      text        not null,
          test_clock_id    uuid,
          status           text        not null check (status in ('PENDING', 'PAID', 'FAILED')),
          paid_at          timestamptz,
          failed_at        timestamptz,
          payment_attempts integer     not null default 0,
          dunning_step     integer     not null default 0,
          next_attempt_at  timestamptz,
          created_at       timestamptz not null default now(),
          unique (organization_id, seq),
          unique (organization_id, number),
          unique (subscription_id, period_start, period_end)
        );
        create index invoices_list on invoices (organization_id, issued_at desc, id desc);
        create index invoices_customer on invoices (organization_id, customer_id);
        create index invoices_due on invoices (next_attempt_at) where status = 'PENDING' and next_attempt_at is not null;

        create table invoice_lines (
          invoice_id     uuid    not null references invoices (id),
          position       integer not null,
          kind           text    not null check (kind in ('base', 'usage', 'late_usage')),
          description    text    not null,
          metric_key     text,
          quantity       numeric,
          included_units numeric,
          billable_units numeric,
          unit_price     numeric,
          period_start   timestamptz,
          period_end     timestamptz,
          precise_amount numeric not null,
          amount_cents   bigint  not null check (amount_cents >= 0),
          source         jsonb   not null,
          primary key (invoice_id, position)
        );

        create table payments (
          id              uuid primary key,
          organization_id uuid        not null,
          invoice_id      uuid        not null references invoices (id),
          attempt         integer     not null,
          provider        text        not null,
          outcome         text        not null check (outcome in ('succeeded', 'declined', 'error')),
          failure_reason  text,
          reference       text,
          currency        text        not null,
          amount_cents    bigint      not null,
          attempted_at    timestamptz not null,
          next_attempt_at timestamptz,
          unique (invoice_id, attempt)
        );
        create unique index payments_reference on payments (invoice_id, reference) where reference is not null;

        -- The sandbox payment provider's answer per customer. A customer without a row has no
        -- payment provider: its invoices wait for an external payment.
        create table sandbox_customers (
          organization_id uuid        not null,
          customer_id     text        not null,
          outcome         text        not null check (outcome in ('succeed', 'decline', 'error')),
          failure_reason  text,
          updated_at      timestamptz not null,
          primary key (organization_id, customer_id)
        );

        -- Guarantee 4 in the database: an invoice's lines and amounts never change, whatever
        -- writes to the table; only its collection state moves, and only PENDING -> PAID,
        -- PENDING -> FAILED, FAILED -> PAID.
        create function invoices_immutable() returns trigger language plpgsql as $fn$
        begin
          if tg_op = 'DELETE' then
            raise exception 'INVOICE_IMMUTABLE: invoice % cannot be deleted', old.id using errcode = 'UF001';
          end if;
          if (new.id, new.organization_id, new.seq, new.number, new.subscription_id, new.customer_id,
              new.plan_code, new.plan_version, new.period_start, new.period_end, new.currency,
              new.amount_cents, new.issued_at, new.due_at, new.summary_event_id, new.fingerprint,
              new.test_clock_id, new.created_at)
             is distinct from
             (old.id, old.organization_id, old.seq, old.number, old.subscription_id, old.customer_id,
              old.plan_code, old.plan_version, old.period_start, old.period_end, old.currency,
              old.amount_cents, old.issued_at, old.due_at, old.summary_event_id, old.fingerprint,
              old.test_clock_id, old.created_at) then
            raise exception 'INVOICE_IMMUTABLE: invoice % cannot change its amounts or lines', old.id
              using errcode = 'UF001';
          end if;
          if new.status is distinct from old.status
             and (old.status, new.status) not in (('PENDING', 'PAID'), ('PENDING', 'FAILED'), ('FAILED', 'PAID')) then
            raise exception 'INVOICE_STATUS_TRANSITION: invoice % cannot move from % to %', old.id, old.status, new.status
              using errcode = 'UF002';
          end if;
          return new;
        end
        $fn$;
        create trigger invoices_immutable before update or delete on invoices
          for each row execute function invoices_immutable();

        -- Lines and payment attempts are a log: once written, never rewritten or removed.
        create function reject_change() returns trigger language plpgsql as $fn$
        begin
          raise exception 'INVOICE_IMMUTABLE: % rows cannot be changed or removed', tg_table_name using errcode = 'UF001';
        end
        $fn$;
        create trigger invoice_lines_immutable before update or delete on invoice_lines
          for each row execute function reject_change();
        create trigger payments_immutable before update or delete on payments
          for each row execute function reject_change();
        create trigger invoice_lines_no_truncate before truncate on invoice_lines
          for each statement execute function reject_change();
        create trigger invoices_no_truncate before truncate on invoices
          for each statement execute function reject_change();
        create trigger payments_no_truncate before truncate on payments
          for each statement execute function reject_change();
      `);
    },
  },
  {
    name: '102_billing_unbillable_summaries',
    async up(db) {
      // A summary that cannot become an invoice (its invoice would break the contract, e.g. more
      // lines than invoice.created allows) is set aside with the reason instead of blocking the
      // invoices behind it; it stays visible for an operator.
      await db.raw(`
        alter table usage_summaries add column unbillable_reason text;
        drop index usage_summaries_pending;
        create index usage_summaries_pending on usage_summaries (received_seq)
          where invoice_id is null and unbillable_reason is null;
      `);
    },
  },
  {
    name: '103_billing_organizations',
    async up(db) {
      // The issuer's name on the invoice a customer receives (identity's organization events).
      await db.raw(`
        create table organizations (
          id   uuid primary key,
          name text not null
        );
      `);
    },
  },
  {
    // When an invoice was paid or failed is part of its record once set: only a FAILED invoice
    // later paid gains a paid_at; neither time is ever rewritten or cleared.
    name: '104_billing_settled_times',
    async up(db) {
      await db.raw(`
        create function invoices_settled_times() returns trigger language plpgsql as $fn$
        begin
          if (old.paid_at is not null and new.paid_at is distinct from old.paid_at)
             or (old.failed_at is not null and new.failed_at is distinct from old.failed_at) then
            raise exception 'INVOICE_IMMUTABLE: invoice % cannot change when it was paid or failed', old.id
              using errcode = 'UF001';
          end if;
          return new;
        end
        $fn$;
        create trigger invoices_settled_times before update on invoices
          for each row execute function invoices_settled_times();
      `);
    },
  },
  {
    // Billing never read a subscription's status: a closed period is invoiced whatever happened
    // to the subscription since. The projection stops keeping it.
    name: '105_billing_subscriptions_without_status',
    async up(db) {
      await db.raw(`alter table subscriptions drop column status`);
    },
  },
  {
    // Which invoice bills a late record follows from the events alone, not from when billing
    // reads them: a late record carries its place among its subscription's late records
    // (sequence), a summary how many of them aggregation had recorded when it took it
    // (late_records_through). Its invoice bills those of them not billed yet, and waits until
    // billing holds them all. Rows received before stay null: they are billed as before.
    name: '106_billing_late_record_sequence',
    async up(db) {
      await db.raw(`
        alter table usage_summaries add column late_records_through bigint check (late_records_through >= 0);
        alter table late_usage add column sequence bigint check (sequence >= 1);
        -- One record per place: a second record of the same place (under another id) is ignored,
        -- the first in topic order stays. It also serves the invoicer's wait, a count of the
        -- subscription's records up to a summary's late_records_through.
        create unique index late_usage_sequence on late_usage (subscription_id, sequence) where sequence is not null;
        -- The same wait counts the records made before sequences existed (aggregation numbered
        -- them first, 1..n, when it began numbering).
        create index late_usage_unsequenced on late_usage (subscription_id) where sequence is null;
      `);
    },
  },
];
