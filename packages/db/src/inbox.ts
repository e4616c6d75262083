import type { EventOf, EventType } from '@usageflow/contracts';
import { ConsumerRunner, PROJECTION_FETCH, type EventProducer, type Kafka } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import type { Knex } from 'knex';

/** The event of each type in `T`: a union of envelopes, one per type (EventOf of a union is one envelope). */
type EventsOf<T extends EventType> = T extends EventType ? EventOf<T> : never;

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

/**
 * A consumer that applies the events of the given type(s) exactly once: each batch's events of
 * `type` are claimed in the inbox (under `groupId`) and applied in the same transaction, so a
 * redelivered batch changes nothing. Events of other types on the topics are skipped.
 * `onApplied` runs after a batch that applied something committed.
 */
export function inboxConsumer<T extends EventType>(options: {
  db: Knex;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  groupId: string;
  topics: readonly string[];
  type: T | readonly T[];
  /** Applies one event (called in topic order for each event not applied before). */
  apply?: (trx: Knex.Transaction, event: EventsOf<T>) => Promise<unknown>;
  /** Or applies the batch's events not applied before at once (fewer round trips), in topic order. */
  applyAll?: (trx: Knex.Transaction, events: EventsOf<T>[]) => Promise<unknown>;
  onApplied?: () => void;
  /** How much one fetch may bring (default `PROJECTION_FETCH`: inbox consumers keep projections). */
  fetch?: { maxBytesPerPartition?: number; maxBytes?: number };
}): ConsumerRunner {
  const { db, groupId, apply, applyAll } = options;
  if (!apply === !applyAll) throw new Error(`${groupId}: give inboxConsumer one of apply or applyAll`);
  const types: readonly string[] = typeof options.type === 'string' ? [options.type] : options.type;
  return new ConsumerRunner({
    kafka: options.kafka,
    producer: options.producer,
    groupId,
    topics: options.topics,
    logger: options.logger,
    ...PROJECTION_FETCH,
    ...options.fetch,
    handle: async (messages) => {
      const entries = messages.flatMap((m) =>
        types.includes(m.event.type)
          ? [{ eventId: m.event.id, topic: m.topic, partition: m.partition, offset: m.offset, event: m.event }]
          : [],
      );
      if (entries.length === 0) return;
      const applied = await db.transaction(async (trx) => {
        const fresh = await claimInbox(trx, groupId, entries);
        if (applyAll) {
          if (fresh.length > 0)
            await applyAll(
              trx,
              fresh.map((e) => e.event as EventsOf<T>),
            );
        } else {
          for (const { event } of fresh) await apply!(trx, event as EventsOf<T>);
        }
        return fresh.length;
      });
      if (applied > 0) options.onApplied?.();
    },
  });
}
