// The aggregation service's own settings (the common ones are parsed by the runtime).
import { TOPICS } from '@usageflow/contracts';
import { ConfigError, loadConfig, num, str } from '@usageflow/config';

const spec = {
  AGGREGATION_USAGE_TOPIC: str({
    default: TOPICS.usageEvents,
    desc: 'the raw usage topic to consume (benchmarks use their own)',
  }),
  AGGREGATION_CATALOG_TOPIC: str({ default: TOPICS.catalog, desc: 'the catalog topic (metrics, plans) to project' }),
  AGGREGATION_SUBSCRIPTIONS_TOPIC: str({
    default: TOPICS.subscriptions,
    desc: 'the subscriptions topic (periods and their closings) to project',
  }),
  AGGREGATION_INVOICES_TOPIC: str({
    default: TOPICS.invoices,
    desc: 'the invoices topic to project (where usage was billed, for the trace and reconciliation)',
  }),
  AGGREGATION_SUMMARIES_TOPIC: str({
    default: TOPICS.usageSummaries,
    desc: 'where period summaries and late records go (benchmarks use their own)',
  }),
  AGGREGATION_GROUP_ID: str({
    default: 'aggregation',
    desc: 'prefix of the consumer groups (.usage, .catalog, .subscriptions, .invoices); rebuild resets them',
  }),
  AGGREGATION_CONCURRENCY: num({ default: 2, desc: 'usage partitions stored at once, each in its own transaction' }),
  AGGREGATION_FETCH_MAX_BYTES: num({
    default: 1_048_576,
    desc: 'the most one fetch brings per usage partition: larger batches store faster, smaller ones show sooner',
  }),
  AGGREGATION_SUMMARY_POLL_MS: num({ default: 500, desc: 'how often pending period summaries are checked' }),
};

/** The aggregation settings, checked. */
export interface AggregationSettings {
  usageTopic: string;
  /** The other topics it reads (catalog, subscriptions, invoices) and writes (summaries). */
  topics: { catalog: string; subscriptions: string; invoices: string; summaries: string };
  groupPrefix: string;
  concurrency: number;
  fetchMaxBytes: number;
  summaryPollMs: number;
}

export const DEFAULT_AGGREGATION_SETTINGS: AggregationSettings = {
  usageTopic: TOPICS.usageEvents,
  topics: {
    catalog: TOPICS.catalog,
    subscriptions: TOPICS.subscriptions,
    invoices: TOPICS.invoices,
    summaries: TOPICS.usageSummaries,
  },
  groupPrefix: 'aggregation',
  concurrency: 2,
  fetchMaxBytes: 1_048_576,
  summaryPollMs: 500,
};

/** Parses and checks the aggregation settings. */
export function aggregationConfig(env: Record<string, string | undefined>): AggregationSettings {
  const c = loadConfig(spec, env);
  const problems: Record<string, string> = {};
  if (!(Number.isInteger(c.AGGREGATION_CONCURRENCY) && c.AGGREGATION_CONCURRENCY >= 1)) {
    problems.AGGREGATION_CONCURRENCY = 'must be an integer >= 1';
  }
  if (!(Number.isInteger(c.AGGREGATION_FETCH_MAX_BYTES) && c.AGGREGATION_FETCH_MAX_BYTES >= 65_536)) {
    problems.AGGREGATION_FETCH_MAX_BYTES = 'must be an integer >= 65536';
  }
  if (!(c.AGGREGATION_SUMMARY_POLL_MS > 0)) problems.AGGREGATION_SUMMARY_POLL_MS = 'must be positive';
  if (Object.keys(problems).length) throw new ConfigError(problems);
  return {
    usageTopic: c.AGGREGATION_USAGE_TOPIC,
    topics: {
      catalog: c.AGGREGATION_CATALOG_TOPIC,
      subscriptions: c.AGGREGATION_SUBSCRIPTIONS_TOPIC,
      invoices: c.AGGREGATION_INVOICES_TOPIC,
      summaries: c.AGGREGATION_SUMMARIES_TOPIC,
    },
    groupPrefix: c.AGGREGATION_GROUP_ID,
    concurrency: c.AGGREGATION_CONCURRENCY,
    fetchMaxBytes: c.AGGREGATION_FETCH_MAX_BYTES,
    summaryPollMs: c.AGGREGATION_SUMMARY_POLL_MS,
  };
}
