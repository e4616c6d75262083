// The billing service's own settings (the common ones are parsed by the runtime).
import { ConfigError, loadConfig, num, str } from '@usageflow/config';
import { TOPICS } from '@usageflow/contracts';
import { parseDunningSchedule } from './domain/dunning';

const spec = {
  BILLING_DUNNING_SCHEDULE: str({
    default: '1d,3d,5d',
    desc: 'waits before each retry after a declined charge (30s, 12h, 3d, comma-separated); after the last, the invoice is FAILED',
  }),
  BILLING_PAYMENT_TERMS_DAYS: num({ default: 14, desc: 'days from issue to due date' }),
  BILLING_GROUP_ID: str({
    default: 'billing',
    desc: 'prefix of the consumer groups (.organizations, .catalog, .subscriptions, .summaries)',
  }),
  BILLING_SUMMARIES_TOPIC: str({
    default: TOPICS.usageSummaries,
    desc: 'the usage summaries topic to consume (benchmarks use their own)',
  }),
  BILLING_CATALOG_TOPIC: str({
    default: TOPICS.catalog,
    desc: 'the catalog topic to consume (benchmarks use their own)',
  }),
  BILLING_SUBSCRIPTIONS_TOPIC: str({
    default: TOPICS.subscriptions,
    desc: 'the subscriptions topic to consume (benchmarks use their own)',
  }),
  BILLING_INVOICES_TOPIC: str({
    default: TOPICS.invoices,
    desc: 'where invoice and payment events are published (benchmarks use their own)',
  }),
  BILLING_BATCH_SIZE: num({ default: 500, desc: 'the most invoices issued in one transaction' }),
  BILLING_POLL_MS: num({ default: 1000, desc: 'how often pending invoices and due payments are checked' }),
};

/** The billing settings, checked. */
export interface BillingSettings {
  /** The dunning schedule, milliseconds between a failed charge and the next. */
  dunningScheduleMs: number[];
  paymentTermsDays: number;
  groupPrefix: string;
  /** The topics read and written (the contract's unless a benchmark gives its own). */
  topics: { identity: string; catalog: string; subscriptions: string; summaries: string; invoices: string };
  batchSize: number;
  pollMs: number;
}

export const DEFAULT_BILLING_SETTINGS: BillingSettings = {
  dunningScheduleMs: parseDunningSchedule('1d,3d,5d'),
  paymentTermsDays: 14,
  groupPrefix: 'billing',
  topics: {
    identity: TOPICS.identity,
    catalog: TOPICS.catalog,
    subscriptions: TOPICS.subscriptions,
    summaries: TOPICS.usageSummaries,
    invoices: TOPICS.invoices,
  },
  batchSize: 500,
  pollMs: 1000,
};

/** Parses and checks the billing settings. */
export function billingConfig(env: Record<string, string | undefined>): BillingSettings {
  const c = loadConfig(spec, env);
  const problems: Record<string, string> = {};
  let schedule: number[] = [];
  try {
    schedule = parseDunningSchedule(c.BILLING_DUNNING_SCHEDULE);
  } catch (err) {
    problems.BILLING_DUNNING_SCHEDULE = (err as Error).message;
  }
  if (!(Number.isInteger(c.BILLING_PAYMENT_TERMS_DAYS) && c.BILLING_PAYMENT_TERMS_DAYS >= 0)) {
    problems.BILLING_PAYMENT_TERMS_DAYS = 'must be an integer >= 0';
  }
  if (!(Number.isInteger(c.BILLING_BATCH_SIZE) && c.BILLING_BATCH_SIZE >= 1)) {
    problems.BILLING_BATCH_SIZE = 'must be an integer >= 1';
  }
  if (!(c.BILLING_POLL_MS > 0)) problems.BILLING_POLL_MS = 'must be positive';
  if (Object.keys(problems).length) throw new ConfigError(problems);
  return {
    dunningScheduleMs: schedule,
    paymentTermsDays: c.BILLING_PAYMENT_TERMS_DAYS,
    groupPrefix: c.BILLING_GROUP_ID,
    topics: {
      identity: TOPICS.identity,
      catalog: c.BILLING_CATALOG_TOPIC,
      subscriptions: c.BILLING_SUBSCRIPTIONS_TOPIC,
      summaries: c.BILLING_SUMMARIES_TOPIC,
      invoices: c.BILLING_INVOICES_TOPIC,
    },
    batchSize: c.BILLING_BATCH_SIZE,
    pollMs: c.BILLING_POLL_MS,
  };
}
