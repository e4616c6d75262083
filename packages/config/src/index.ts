// Service settings come only from environment variables, parsed and validated once at startup.
// This package is the one place that reads `process.env`; a bad or missing value stops the
// process with a message naming the variable (envalid's reporter, replaced by ours so the
// composition root decides how to exit).
import { EnvMissingError, bool, cleanEnv, makeValidator, num, port, str, url, type CleanedEnv } from 'envalid';

export { bool, num, port, str, url, makeValidator };

/** Thrown when one or more variables are missing or invalid; `problems` names each variable. */
export class ConfigError extends Error {
  constructor(readonly problems: Record<string, string>) {
    super(
      'invalid configuration: ' +
        Object.entries(problems)
          .map(([name, why]) => `${name} ${why}`)
          .join('; '),
    );
    this.name = 'ConfigError';
  }
}

/** A comma-separated list of non-empty strings, e.g. KAFKA_BROKERS=host1:9092,host2:9092. */
export const list = makeValidator<string[]>((input: string) => {
  const items = String(input)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new Error('must be a non-empty comma-separated list');
  return items;
});

/** A Postgres schema or identifier: lower snake case, so it never needs quoting. */
export const identifier = makeValidator<string>((input: string) => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(input)) throw new Error('must match ^[a-z_][a-z0-9_]{0,62}$');
  return input;
});

/** Settings every service shares; each service spreads these into its own spec. */
export function commonSpec(defaults: { port: number; schema: string }) {
  return {
    ...statelessSpec(defaults),
    DATABASE_URL: url({ desc: 'postgres:// URL of the service database' }),
    DATABASE_SCHEMA: identifier({ default: defaults.schema, desc: "the service's own Postgres schema" }),
    DATABASE_POOL_MAX: num({ default: 10 }),
    MIGRATE_ON_START: bool({ default: true }),
  };
}

/** The shared settings of a service without a database (the ingestion gateway): no DATABASE_*. */
export function statelessSpec(defaults: { port: number }) {
  return {
    PORT: port({ default: defaults.port, desc: 'HTTP port' }),
    LOG_LEVEL: str({ default: 'info', choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] }),
    KAFKA_BROKERS: list({ desc: 'comma-separated host:port list' }),
    OTEL_EXPORTER_OTLP_ENDPOINT: str({ default: '', desc: 'OTLP/HTTP endpoint; empty keeps telemetry local' }),
    SHUTDOWN_TIMEOUT_MS: num({ default: 10_000 }),
  };
}

/**
 * Parses `env` (default: the process environment) against `spec`. Throws ConfigError naming
 * every bad variable at once; never prints secrets' values.
 */
export function loadConfig<S extends object>(
  spec: S,
  env: Record<string, string | undefined> = process.env,
): CleanedEnv<S> {
  return cleanEnv(env, spec, {
    reporter: ({ errors }) => {
      const names = Object.keys(errors);
      if (names.length === 0) return;
      const problems: Record<string, string> = {};
      for (const name of names) {
        const err = (errors as Record<string, Error | undefined>)[name];
        problems[name] = err instanceof EnvMissingError ? 'is required' : `is invalid: ${err?.message ?? ''}`;
      }
      throw new ConfigError(problems);
    },
  });
}
