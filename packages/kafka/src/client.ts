import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';
import type { Logger } from '@usageflow/telemetry';

export type { Kafka };

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * The one place a KafkaJS client is built: every other module receives it. Keeping the client
 * behind this package means it can be swapped (KafkaJS has had no release since 2023).
 * KafkaJS's own log lines go through the service's pino logger, warnings and above only.
 */
export function createKafkaClient(options: {
  brokers: string[];
  clientId: string;
  logger: Logger;
  config?: Partial<KafkaConfig>;
}): Kafka {
  const log = options.logger.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 8 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[LEVELS[level] ?? 'info'](rest, message);
      },
    ...options.config,
  });
}
