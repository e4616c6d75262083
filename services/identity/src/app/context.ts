import type { Knex } from '@usageflow/db';
import type { Logger } from '@usageflow/telemetry';
import type { IdentityConfig } from '../config';
import type { Mailer } from '../adapters/mail/mailer';

/** What every identity use case runs with; the clock and randomness are injected for tests. */
export interface IdentityContext {
  db: Knex;
  config: IdentityConfig;
  logger: Logger;
  mailer: Mailer;
  clock: () => Date;
  random: (bytes: number) => Buffer;
}

/** The `producer` of identity's events. */
export const PRODUCER = 'identity';
