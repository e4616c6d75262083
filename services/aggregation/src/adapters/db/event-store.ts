// The event store's write path: one consumer batch becomes a handful of set-based statements in
// the caller's transaction. Only events whose identity key is new are stored and folded, so a
// batch read again after a crash changes nothing. COPY loads the events (the cheapest way into
// Postgres); the keys, rollups and unique values go as arrays through `unnest`.
import type { Knex } from '@usageflow/db';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { canonicalDecimal } from '../../domain/fold';
import { monthOf, rollupDeltas, uniqueValueRows, type UsageRecord } from '../../domain/usage-batch';

/** The connection a knex transaction runs on (knex hands the same one back inside a transaction). */
async function connectionOf(trx: Knex.Transaction): Promise<PoolClient> {
  return (await (trx.client as { acquireConnection(): Promise<PoolClient> }).acquireConnection()) as PoolClient;
}

/** The name of the monthly partition holding `start`'s month: usage_events_2025_03. */
export function partitionName(start: Date): string {
  return `usage_events_${start.getUTCFullYear()}_${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
}

/**
 * Creates the monthly partitions `records` need and `known` lacks (outside the batch's
 * transaction: creating a partition locks the parent table). Idempotent across replicas.
 */
export async function ensurePartitions(db: Knex, records: readonly UsageRecord[], known: Set<string>): Promise<void> {
  const months = new Map<string, { start: Date; end: Date }>();
  for (const r of records) {
    const month = monthOf(r.ts);
    const name = partitionName(month.start);
    if (!known.has(name)) months.set(name, month);
  }
  for (const [name, { start, end }] of months) {
    try {
      // DDL takes no bind parameters; the bounds are our own toISOString() output.
      await db.raw(
        `create table if not exists ?? partition of usage_events
           for values from ('${start.toISOString()}') to ('${end.toISOString()}')`,
        [name],
      );
    } catch (err) {
      // Another replica created it between our check and our statement.
      if ((err as { code?: string }).code !== '23505' && (err as { code?: string }).code !== '42P07') throw err;
    }
    known.add(name);
  }
}

/** The partitions that exist already. */
export async function existingPartitions(db: Knex): Promise<Set<string>> {
  const { rows } = await db.raw<{ rows: Array<{ name: string }> }>(
    `select c.relname as name from pg_inherits i
       join pg_class c on c.oid = i.inhrelid
       join pg_class p on p.oid = i.inhparent
       join pg_namespace n on n.oid = p.relnamespace
      where p.relname = 'usage_events' and n.nspname = current_schema()`,
  );
  return new Set(rows.map((r) => r.name));
}

/** Escapes a value for COPY's text format. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
    : value;
}

/**
 * Claims the identity keys of `records`, with where their first arrival goes (customer and
 * time, what the trace finds its row by); returns the records whose key was new, in order.
 */
export async function claimKeys(trx: Knex.Transaction, records: readonly UsageRecord[]): Promise<UsageRecord[]> {
  if (records.length === 0) return [];
  // NOTE: in key order, so two partitions' batches that share keys (a sender reusing an event
  // id for another customer) wait on each other in one direction and never deadlock.
  const sorted = [...records].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const { rows } = await trx.raw<{ rows: Array<{ key: string }> }>(
    `insert into usage_event_keys (key, customer_id, ts)
     select * from unnest(?::uuid[], ?::text[], ?::timestamptz[]) on conflict do nothing returning key`,
    [sorted.map((r) => r.key), sorted.map((r) => r.customerId), sorted.map((r) => r.timestamp)],
  );
  const fresh = new Set(rows.map((r) => r.key));
  return records.filter((r) => fresh.has(r.key));
}

/**
 * Records the arrivals of `records` that were dropped as duplicates: those not stored, read at
 * or after `fromOffset` (the partition's progress before this batch). A batch read again after
 * a crash lies below it, so its first arrivals are not taken for duplicates of themselves.
 */
export async function recordDuplicates(
  trx: Knex.Transaction,
  records: readonly UsageRecord[],
  fromOffset: bigint,
  now: Date,
): Promise<number> {
  const dropped = records.filter((r) => BigInt(r.offset) >= fromOffset);
  if (dropped.length === 0) return 0;
  const { rowCount } = await trx.raw<{ rowCount: number }>(
    `insert into usage_duplicates (kafka_partition, kafka_offset, key, organization_id, customer_id, metric, ts,
                                   event_id, received_at, dropped_at)
     select p, o, k, org, c, m, t, e, r, ? from unnest(?::int[], ?::bigint[], ?::uuid[], ?::uuid[], ?::text[],
                                                      ?::text[], ?::timestamptz[], ?::text[], ?::timestamptz[])
       as d(p, o, k, org, c, m, t, e, r)
     on conflict do nothing`,
    [
      now,
      dropped.map((r) => r.partition),
      dropped.map((r) => r.offset),
      dropped.map((r) => r.key),
      dropped.map((r) => r.organizationId),
      dropped.map((r) => r.customerId),
      dropped.map((r) => r.metric),
      dropped.map((r) => r.timestamp),
      dropped.map((r) => r.eventId),
      dropped.map((r) => r.receivedAt),
    ],
  );
  return rowCount;
}

/** The partition's progress (next offset to read) as this transaction sees it; 0 when none. */
export async function progressOf(trx: Knex.Transaction, topic: string, partition: number): Promise<bigint> {
  const row = (await trx('usage_progress').where({ topic, partition }).first('next_offset')) as
    { next_offset: string } | undefined;
  return BigInt(row?.next_offset ?? 0);
}

/** Appends first arrivals to the time-partitioned event store with COPY. */
export async function copyEvents(trx: Knex.Transaction, records: readonly UsageRecord[]): Promise<void> {
  if (records.length === 0) return;
  const lines: string[] = [];
  for (const r of records) {
    lines.push(
      [
        r.organizationId,
        copyText(r.customerId),
        r.metric,
        r.amount,
        r.timestamp,
        copyText(r.eventId),
        r.key,
        copyText(JSON.stringify(r.properties)),
        r.receivedAt,
        String(r.partition),
        r.offset,
      ].join('\t'),
    );
  }
  const connection = await connectionOf(trx);
  const stream = connection.query(
    copyFrom(
      `copy usage_events (organization_id, customer_id, metric, amount, ts, event_id, key, properties, received_at,
                          kafka_partition, kafka_offset) from stdin`,
    ),
  );
  await pipeline(Readable.from([`${lines.join('\n')}\n`]), stream);
}

/** Folds `records` into the hourly rollups: one upsert of the batch's pre-aggregated groups. */
export async function foldRollups(trx: Knex.Transaction, records: readonly UsageRecord[]): Promise<number> {
  const deltas = rollupDeltas(records);
  if (deltas.length === 0) return 0;
  // NOTE: the merge mirrors domain/fold's mergeFolds; LATEST compares (ts, event id) as a row,
  // event ids under collate "C" (bytewise), as compareEventIds does.
  await trx.raw(
    `insert into usage_rollups as r
       (organization_id, customer_id, metric, hour, event_count, amount_sum, amount_max, latest_ts, latest_event_id,
        latest_amount)
     select * from unnest(?::uuid[], ?::text[], ?::text[], ?::timestamptz[], ?::bigint[], ?::numeric[], ?::numeric[],
                          ?::timestamptz[], ?::text[], ?::numeric[])
     on conflict (organization_id, customer_id, metric, hour) do update set
       event_count = r.event_count + excluded.event_count,
       amount_sum = r.amount_sum + excluded.amount_sum,
       amount_max = greatest(r.amount_max, excluded.amount_max),
       latest_amount = case when (excluded.latest_ts, excluded.latest_event_id) > (r.latest_ts, r.latest_event_id)
                            then excluded.latest_amount else r.latest_amount end,
       latest_event_id = case when (excluded.latest_ts, excluded.latest_event_id) > (r.latest_ts, r.latest_event_id)
                              then excluded.latest_event_id else r.latest_event_id end,
       latest_ts = greatest(r.latest_ts, excluded.latest_ts)`,
    [
      deltas.map((d) => d.organizationId),
      deltas.map((d) => d.customerId),
      deltas.map((d) => d.metric),
      deltas.map((d) => new Date(d.hour).toISOString()),
      deltas.map((d) => d.fold.count),
      deltas.map((d) => canonicalDecimal(d.fold.sum)),
      deltas.map((d) => canonicalDecimal(d.fold.max!)),
      deltas.map((d) => new Date(d.fold.latest!.ts).toISOString()),
      deltas.map((d) => d.fold.latest!.eventId),
      deltas.map((d) => canonicalDecimal(d.fold.latest!.amount)),
    ],
  );
  return deltas.length;
}

/**
 * The UNIQUE_COUNT metrics of the organizations in `records`: property by `organizationId:metric`.
 * Read after the batch's COPY took its lock on usage_events, so a metric defined concurrently is
 * either seen here or backfills these events itself (see backfillUniqueValues).
 */
export async function uniqueProperties(
  trx: Knex.Transaction,
  records: readonly UsageRecord[],
): Promise<Map<string, string>> {
  const organizations = [...new Set(records.map((r) => r.organizationId))];
  if (organizations.length === 0) return new Map();
  const { rows } = await trx.raw<{ rows: Array<{ organization_id: string; key: string; unique_property: string }> }>(
    `select organization_id, key, unique_property from metrics
      where aggregation = 'UNIQUE_COUNT' and organization_id = any(?::uuid[])`,
    [organizations],
  );
  return new Map(rows.map((r) => [`${r.organization_id}:${r.key}`, r.unique_property]));
}

/** Records the distinct values of UNIQUE_COUNT properties per hour. */
export async function foldUniqueValues(
  trx: Knex.Transaction,
  records: readonly UsageRecord[],
  properties: ReadonlyMap<string, string>,
): Promise<void> {
  const rows = uniqueValueRows(records, properties);
  if (rows.length === 0) return;
  // NOTE: jsonb's text form is the stored value, the same the summary computes from the events'
  // properties, so the JSON number 1.0 and 1 are one value in both places.
  await trx.raw(
    `insert into usage_unique_values (organization_id, customer_id, metric, hour, value)
     select o, c, m, h, v::jsonb::text from unnest(?::uuid[], ?::text[], ?::text[], ?::timestamptz[], ?::text[]) as u(o, c, m, h, v)
     on conflict do nothing`,
    [
      rows.map((r) => r.organizationId),
      rows.map((r) => r.customerId),
      rows.map((r) => r.metric),
      rows.map((r) => new Date(r.hour).toISOString()),
      rows.map((r) => r.value),
    ],
  );
}

/**
 * Fills a UNIQUE_COUNT metric's values from the events already stored for it (a metric defined
 * after its first events). The caller holds usage_events in SHARE mode, so no batch is storing
 * events concurrently: every event is either seen here or sees the metric.
 */
export async function backfillUniqueValues(
  trx: Knex.Transaction,
  organizationId: string,
  metric: string,
  property: string,
): Promise<void> {
  await trx.raw(
    `insert into usage_unique_values (organization_id, customer_id, metric, hour, value)
     select distinct organization_id, customer_id, metric, date_trunc('hour', ts, 'UTC'), (properties -> ?)::text
       from usage_events where organization_id = ? and metric = ? and properties -> ? is not null
     on conflict do nothing`,
    [property, organizationId, metric, property],
  );
}

/** Records how far the consumer got in one partition (next offset to read). */
export async function recordProgress(
  trx: Knex.Transaction,
  topic: string,
  partition: number,
  nextOffset: string,
): Promise<void> {
  await trx.raw(
    `insert into usage_progress as p (topic, partition, next_offset, updated_at) values (?, ?, ?, clock_timestamp())
     on conflict (topic, partition) do update
       set next_offset = greatest(p.next_offset, excluded.next_offset), updated_at = excluded.updated_at`,
    [topic, partition, nextOffset],
  );
}

/** The consumer's progress per partition of `topic`. */
export async function readProgress(db: Knex, topic: string): Promise<Map<number, bigint>> {
  const { rows } = await db.raw<{ rows: Array<{ partition: number; next_offset: string }> }>(
    `select partition, next_offset from usage_progress where topic = ?`,
    [topic],
  );
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}
