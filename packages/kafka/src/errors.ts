// How a consumer treats a failure. Retrying a poison message forever blocks its partition;
// dead-lettering a message because the database blinked loses its order. So:
//   transient -> retry with backoff for as long as it takes (the infrastructure will return)
//   poison    -> never retried: straight to the dead-letter topic with the error
//   unknown   -> retried a bounded number of times, then treated as poison
import { ContractViolationError } from '@usageflow/contracts';

/** An error the handler knows retrying cannot fix (bad data, a broken invariant). */
export class NonRetriableError extends Error {
  readonly retriable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NonRetriableError';
  }
}

export type ErrorClass = 'transient' | 'poison' | 'unknown';

const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

/** Classifies an error raised while handling a message. */
export function classifyError(err: unknown): ErrorClass {
  if (err instanceof ContractViolationError || err instanceof NonRetriableError) return 'poison';
  if (typeof err !== 'object' || err === null) return 'unknown';
  const e = err as { retriable?: unknown; code?: unknown; name?: unknown; message?: unknown };
  if (e.retriable === false) return 'poison';
  if (e.retriable === true) return 'transient';
  if (typeof e.code === 'string') {
    if (TRANSIENT_NODE_CODES.has(e.code)) return 'transient';
    // Postgres SQLSTATE classes: 08 connection, 40 rollback (serialization, deadlock),
    // 53 insufficient resources, 57 operator intervention (shutdown): all pass with time.
    if (/^(08|40|53|57)[0-9A-Z]{3}$/.test(e.code)) return 'transient';
    // 22 data exception, 23 integrity constraint violation: the message itself is bad.
    if (/^(22|23)[0-9A-Z]{3}$/.test(e.code)) return 'poison';
  }
  if (typeof e.message === 'string' && /Connection terminated|timeout exceeded when trying to connect/i.test(e.message))
    return 'transient';
  return 'unknown';
}

/** Exponential backoff with full jitter: a random delay in [0, min(max, initial * 2^attempt)]. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random) {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
