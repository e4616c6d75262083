// The billing service's parts, built from the shared adapters: used by main.ts and by the
// integration tests, which run the same wiring in-process.
import { serviceAuth } from '@usageflow/auth';
import type { Knex } from '@usageflow/db';
import type { EventProducer, Kafka } from '@usageflow/kafka';
import { Poller } from '@usageflow/runtime';
import type { Logger } from '@usageflow/telemetry';
import { billingRoutes } from './adapters/http/routes';
import { billingConsumers, type BillingTopics } from './adapters/kafka/consumers';
import { SandboxProvider } from './adapters/payments/sandbox';
import type { BillingContext } from './app/context';
import { issuePendingInvoices } from './app/invoicing';
import type { PaymentProvider } from './app/payment-provider';
import { chargeDueInvoices } from './app/payments';
import { DEFAULT_BILLING_SETTINGS, type BillingSettings } from './config';

export interface BillingDeps {
  db: Knex;
  kafka: Kafka;
  producer: EventProducer;
  logger: Logger;
  config?: BillingSettings;
  clock?: () => Date;
  provider?: PaymentProvider;
  /** Tests that seed the identity projection themselves skip its consumer. */
  identityProjection?: boolean;
  /** Topics read and written (tests give each run topics of their own). */
  topics?: Partial<BillingTopics> & { invoices?: string };
  /** false skips the consumers (tests that seed billing's tables themselves). */
  consumers?: boolean;
}

type Worker = { name: string; start(): Promise<void> | void; stop(): Promise<void> };

/** Charges per dunning step (one transaction). */
const CHARGE_BATCH = 100;

/** Builds the billing service's routes and workers. */
export function buildBilling(deps: BillingDeps) {
  const settings = deps.config ?? DEFAULT_BILLING_SETTINGS;
  const ctx: BillingContext = {
    db: deps.db,
    logger: deps.logger,
    clock: deps.clock ?? (() => new Date()),
    settings,
    provider: deps.provider ?? new SandboxProvider(),
    invoicesTopic: deps.topics?.invoices ?? settings.topics.invoices,
  };
  const workers: Worker[] = [];
  const auth = serviceAuth({ service: 'billing', ...deps, clock: ctx.clock });
  workers.push(...auth.workers);
  const dunning = new Poller({
    name: 'dunning',
    logger: deps.logger,
    intervalMs: settings.pollMs,
    // A charge may make the next one due at once (a test clock advanced past several retries).
    step: async () => (await chargeDueInvoices(ctx, CHARGE_BATCH)) > 0,
  });
  const invoicer = new Poller({
    name: 'invoicer',
    logger: deps.logger,
    intervalMs: settings.pollMs,
    step: async () => {
      const issued = await issuePendingInvoices(ctx);
      // New invoices of customers with a payment provider are due for their first charge.
      if (issued > 0) dunning.nudge();
      // Summaries still waiting for their plan version are not selected: this ends when none is ready.
      return issued > 0;
    },
  });
  if (deps.consumers !== false) {
    for (const consumer of billingConsumers({
      ...deps,
      groupPrefix: settings.groupPrefix,
      topics: { ...settings.topics, ...deps.topics },
      onInvoiceInput: () => invoicer.nudge(),
      onClockMoved: () => dunning.nudge(),
    })) {
      workers.push({ name: 'consumer', start: () => consumer.start(), stop: () => consumer.stop() });
    }
  }
  workers.push(invoicer, dunning);
  return {
    ctx,
    authenticator: auth.authenticator,
    routes: billingRoutes(ctx, auth.authenticator),
    workers,
    invoicer,
    dunning,
  };
}
