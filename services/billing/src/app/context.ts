import type { Knex } from '@usageflow/db';
import type { Logger } from '@usageflow/telemetry';
import type { BillingSettings } from '../config';
import type { PaymentProvider } from './payment-provider';

/** The envelope's `producer` of the events this service writes. */
export const PRODUCER = 'billing';

/** What every billing use case runs with; the clock and the payment provider are injected. */
export interface BillingContext {
  db: Knex;
  logger: Logger;
  clock: () => Date;
  settings: BillingSettings;
  provider: PaymentProvider;
  /** Where billing's events go (tests give each run a topic of their own). */
  invoicesTopic?: string;
}

/** Whom a request acts for: the organization always comes from the credential. */
export interface Caller {
  organizationId: string;
}
