// The subscription service's own settings (the common ones are parsed by the runtime).
import { bool, ConfigError, loadConfig, num, str } from '@usageflow/config';
import { TOPICS } from '@usageflow/contracts';

const spec = {
  PERIOD_GRACE_SECONDS: num({
    default: 3600,
    desc: 'how long after a period ends late usage is still counted in it, before the period closes',
  }),
  PERIOD_CLOSER_INTERVAL_SECONDS: num({ default: 15, desc: 'how often the closer looks for due periods' }),
  SUBSCRIPTION_USAGE_TOPIC: str({
    default: TOPICS.usageEvents,
    desc: "the usage topic whose high-water marks a closing records (the gateway's and aggregation's)",
  }),
  ONE_LIVE_SUBSCRIPTION_PER_PLAN: bool({
    default: true,
    desc: 'refuse a second live subscription of a customer to the same plan (ALREADY_SUBSCRIBED)',
  }),
};

/** The subscription settings, checked. */
export interface SubscriptionSettings {
  /** Grace window after a period's end, before it closes. */
  graceMs: number;
  /** How often the real-time closer sweeps. */
  closerIntervalMs: number;
  /** At most one live (not CANCELLED) subscription per customer per plan code. */
  oneLivePerPlan: boolean;
  /** The usage topic whose high-water marks a closing records. */
  usageTopic: string;
}

/** The defaults, for tests and in-process wiring. */
export const DEFAULT_SUBSCRIPTION_SETTINGS: SubscriptionSettings = {
  graceMs: 3_600_000,
  closerIntervalMs: 15_000,
  oneLivePerPlan: true,
  usageTopic: TOPICS.usageEvents,
};

/** Parses and checks the subscription settings. */
export function subscriptionConfig(env: Record<string, string | undefined>): SubscriptionSettings {
  const c = loadConfig(spec, env);
  const problems: Record<string, string> = {};
  if (!Number.isInteger(c.PERIOD_GRACE_SECONDS) || c.PERIOD_GRACE_SECONDS < 0)
    problems.PERIOD_GRACE_SECONDS = 'must be a whole number of seconds >= 0';
  if (!(c.PERIOD_CLOSER_INTERVAL_SECONDS > 0)) problems.PERIOD_CLOSER_INTERVAL_SECONDS = 'must be positive';
  if (Object.keys(problems).length) throw new ConfigError(problems);
  return {
    graceMs: c.PERIOD_GRACE_SECONDS * 1000,
    closerIntervalMs: c.PERIOD_CLOSER_INTERVAL_SECONDS * 1000,
    oneLivePerPlan: c.ONE_LIVE_SUBSCRIPTION_PER_PLAN,
    usageTopic: c.SUBSCRIPTION_USAGE_TOPIC,
  };
}
