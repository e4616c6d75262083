import { assertValidEvent, type DomainEvent } from '@usageflow/contracts';
import { encodeEvent } from '@usageflow/kafka';
import type { Knex } from 'knex';

/**
 * Appends events to the outbox inside the caller's transaction, so the state change and the
 * events commit or vanish together. Events are validated first: an invalid event fails the
 * transaction instead of reaching the topic.
 *
 * NOTE: per-key order on the topic is append order. Writers of the same key (aggregate) must
 * serialize before appending (lock the aggregate row), which the services' use cases do.
 */
export async function appendToOutbox(
  trx: Knex.Transaction,
  events: readonly DomainEvent[],
  options: {
    /** Route to another topic than the contract's (scratch topics in tests). */
    topic?: string;
    /**
     * For events with name-based ids (derived from what they describe): an event already in the
     * outbox, published or not, is the same event, so appending it again is a no-op. A replay
     * that recomputes it then publishes nothing twice.
     */
    skipExistingIds?: boolean;
  } = {},
): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((raw) => {
    const event = assertValidEvent(raw);
    const { topic, message } = encodeEvent(event);
    return {
      id: event.id,
      topic: options.topic ?? topic,
      key: message.key,
      payload: message.value,
      headers: JSON.stringify(message.headers),
    };
  });
  if (options.skipExistingIds) await trx('outbox').insert(rows).onConflict('id').ignore();
  else await trx('outbox').insert(rows);
}
