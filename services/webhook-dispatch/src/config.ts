// The webhook-dispatch service's own settings (the common ones are parsed by the runtime).
import { bool, ConfigError, loadConfig, num, str } from '@usageflow/config';
import { parseAllowList } from './domain/url-safety';

const spec = {
  WEBHOOK_ALLOW_HTTP: bool({ default: false, desc: 'accept http:// endpoint URLs (local development only)' }),
  WEBHOOK_ALLOWED_ADDRESSES: str({
    default: '',
    desc: 'CIDRs or IPs endpoints may resolve to although private or loopback (e.g. 127.0.0.0/8 for local receivers)',
  }),
  WEBHOOK_TIMEOUT_MS: num({ default: 10_000, desc: 'how long one attempt may take before it counts as failed' }),
  WEBHOOK_MAX_RESPONSE_BYTES: num({ default: 65_536, desc: 'how much of a response body is read (and kept)' }),
  WEBHOOK_ENDPOINT_CONCURRENCY: num({ default: 4, desc: 'attempts in flight per endpoint at most' }),
  WEBHOOK_DISABLE_AFTER_DAYS: num({ default: 5, desc: 'disable an endpoint that failed every attempt this long' }),
  WEBHOOK_POLL_INTERVAL_MS: num({ default: 250, desc: 'how often the dispatcher looks for due deliveries' }),
};

/** The webhook settings, checked. */
export interface WebhookSettings {
  allowHttp: boolean;
  allowedAddresses: readonly string[];
  timeoutMs: number;
  maxResponseBytes: number;
  endpointConcurrency: number;
  disableAfterMs: number;
  pollIntervalMs: number;
}

/** The defaults, for tests and in-process wiring. */
export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  allowHttp: false,
  allowedAddresses: [],
  timeoutMs: 10_000,
  maxResponseBytes: 65_536,
  endpointConcurrency: 4,
  disableAfterMs: 5 * 86_400_000,
  pollIntervalMs: 250,
};

/** Parses and checks the webhook settings; a bad allow-list entry stops the process naming it. */
export function webhookConfig(env: Record<string, string | undefined>): WebhookSettings {
  const c = loadConfig(spec, env);
  const problems: Record<string, string> = {};
  const allowedAddresses = c.WEBHOOK_ALLOWED_ADDRESSES.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  try {
    parseAllowList(allowedAddresses);
  } catch (err) {
    problems.WEBHOOK_ALLOWED_ADDRESSES = (err as Error).message;
  }
  for (const name of [
    'WEBHOOK_TIMEOUT_MS',
    'WEBHOOK_MAX_RESPONSE_BYTES',
    'WEBHOOK_ENDPOINT_CONCURRENCY',
    'WEBHOOK_DISABLE_AFTER_DAYS',
    'WEBHOOK_POLL_INTERVAL_MS',
  ] as const) {
    if (!(c[name] > 0)) problems[name] = 'must be positive';
  }
  if (Object.keys(problems).length) throw new ConfigError(problems);
  return {
    allowHttp: c.WEBHOOK_ALLOW_HTTP,
    allowedAddresses,
    timeoutMs: c.WEBHOOK_TIMEOUT_MS,
    maxResponseBytes: c.WEBHOOK_MAX_RESPONSE_BYTES,
    endpointConcurrency: c.WEBHOOK_ENDPOINT_CONCURRENCY,
    disableAfterMs: c.WEBHOOK_DISABLE_AFTER_DAYS * 86_400_000,
    pollIntervalMs: c.WEBHOOK_POLL_INTERVAL_MS,
  };
}
