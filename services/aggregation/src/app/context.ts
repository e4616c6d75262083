import type { Knex } from '@usageflow/db';
import type { Logger } from '@usageflow/telemetry';

/** The envelope's `producer` of the events this service writes. */
export const PRODUCER = 'aggregation';

/** What every aggregation use case runs with; the clock is injected for tests. */
export interface AggregationContext {
  db: Knex;
  logger: Logger;
  clock: () => Date;
}

/** Whom a request acts for: the organization always comes from the credential. */
export interface Caller {
  organizationId: string;
}
