import type { Knex } from 'knex';

/** What the inbox needs to know of a consumed event. */
export interface InboxEntry {
  eventId: string;
  topic: string;
  partition: number;
  offset: string;
}

/**
 * Records `entries` as applied by `consumer` inside the caller's transaction and returns the
 * entries NOT seen before, in input order, each id once (a duplicate inside the batch counts as
 * seen): the caller applies exactly those. A redelivered batch returns nothing, so the projection
 * change is made once (at-least-once delivery, exactly-once effect). One statement per batch.
 */
export async function claimInbox<E extends InboxEntry>(
  trx: Knex.Transaction,
  consumer: string,
  entries: readonly E[],
): Promise<E[]> {
  if (entries.length === 0) return [];
  const result = await trx.raw<{ rows: Array<{ event_id: string }> }>(
    `insert into inbox (consumer, event_id, topic, partition, "offset")
     select ?, e.event_id, e.topic, e.partition, e."offset"
       from unnest(?::uuid[], ?::text[], ?::int[], ?::bigint[]) as e(event_id, topic, partition, "offset")
     on conflict (consumer, event_id) do nothing
     returning event_id`,
    [
      consumer,
      entries.map((e) => e.eventId),
      entries.map((e) => e.topic),
      entries.map((e) => e.partition),
      entries.map((e) => e.offset),
    ],
  );
  const fresh = new Set(result.rows.map((r) => r.event_id));
  return entries.filter((e) => fresh.delete(e.eventId.toLowerCase()));
}
