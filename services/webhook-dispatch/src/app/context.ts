import type { Knex } from '@usageflow/db';
import type { Logger } from '@usageflow/telemetry';
import type { WebhookSettings } from '../config';

/** The envelope's `producer` of the events this service writes. */
export const PRODUCER = 'webhook-dispatch';

/** What every webhook use case runs with; clock and randomness are injected for tests. */
export interface WebhookContext {
  db: Knex;
  logger: Logger;
  clock: () => Date;
  random: () => number;
  randomBytes: (n: number) => Buffer;
  settings: WebhookSettings;
  /** Resolves a host name to its addresses (node:dns in production; tests may pin it). */
  resolve: (hostname: string) => Promise<string[]>;
}

/** Whom a request acts for: the organization always comes from the credential. */
export interface Caller {
  organizationId: string;
}
