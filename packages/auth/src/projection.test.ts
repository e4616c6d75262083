import { EVENT_CATALOG, type DomainEvent } from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';
import { applyIdentityEvents } from './projection';

// A transaction that fails the test if the projection touches it at all.
const untouchable = new Proxy({} as Knex.Transaction, {
  get: (_target, property) => {
    throw new Error(`the projection used trx.${String(property)}`);
  },
});

describe('applyIdentityEvents', () => {
  it.each(['organization.created', 'organization.updated', 'member.invited'] as const)(
    'given only %s, then nothing is written (and nothing throws)',
    async (type) => {
      const events = EVENT_CATALOG[type].examples as readonly DomainEvent[];
      await expect(applyIdentityEvents(untouchable, events)).resolves.toBeUndefined();
    },
  );
});
