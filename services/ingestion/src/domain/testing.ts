// Test helpers of the normalization tests (normalize, cloudevents): the options around one
// receipt instant, and the two ways a result is taken apart.
import type { NormalizeOptions, NormalizeResult } from './normalize';

/** When the tests' events were received. */
export const RECEIVED_AT = '2025-03-14T12:00:00.120Z';
export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;

/** Options received at RECEIVED_AT, 5 minutes ahead and 30 days back allowed; ids `generated-1`, `-2`, ... */
export function options(overrides: Partial<NormalizeOptions> = {}): NormalizeOptions {
  let next = 0;
  return {
    receivedAt: new Date(RECEIVED_AT),
    maxFutureMs: 5 * MINUTE,
    maxPastMs: 30 * DAY,
    newId: () => `generated-${++next}`,
    ...overrides,
  };
}

/** The accepted result; fails the test with the errors when it was refused. */
export function accepted(result: NormalizeResult) {
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.errors)}`);
  return result;
}

/** The errors of a refused result; fails the test when it was accepted. */
export function errorsOf(result: NormalizeResult) {
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.data)}`);
  return result.errors;
}
