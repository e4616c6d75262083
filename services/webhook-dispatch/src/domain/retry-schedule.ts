// When a failed webhook delivery is tried again. Exponential backoff over about three days, so a
// receiver that is down for a weekend still gets every event, with jitter so deliveries that
// failed together (one receiver's outage) do not all come back at the same instant.
// Randomness comes in as an argument.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * The nominal delay before each retry: entry i is the wait after attempt i + 1 failed.
 * NOTE: this is the example schedule of the Standard Webhooks specification, the one receivers
 * know: quick retries for a blip (a deploy, a dropped connection), then hours for an outage.
 */
export const RETRY_SCHEDULE: readonly number[] = Object.freeze([
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  14 * HOUR,
  20 * HOUR,
  24 * HOUR,
]);

/** Attempts in all: the first one, then one per schedule entry. */
export const MAX_ATTEMPTS = RETRY_SCHEDULE.length + 1;

/** Each delay varies by up to this fraction either way (±20%). */
export const RETRY_JITTER = 0.2;
const JITTER_DIVISOR = 5; // 1 / RETRY_JITTER, as an integer

/** From the first attempt to the last, without jitter: 75 h 35 min 5 s (about 3.1 days). */
export const RETRY_SCHEDULE_TOTAL_MS = RETRY_SCHEDULE.reduce((sum, delay) => sum + delay, 0);

/**
 * The delay before the next attempt after `attempt` attempts have failed (1 after the first),
 * or null when none is left. `random` returns [0, 1), like Math.random.
 *
 * Jitter is a symmetric band around the nominal delay rather than full jitter (anywhere in
 * [0, delay]): full jitter could turn the 24 h wait into seconds and make the three-day span a
 * matter of luck, while a ±20% band spreads a burst of retries over minutes to hours and keeps
 * the documented schedule true on average and bounded (0.8x to 1.2x).
 */
export function nextAttemptDelayMs(attempt: number, random: () => number): number | null {
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`attempt must be an integer >= 1: ${attempt}`);
  const nominal = RETRY_SCHEDULE[attempt - 1];
  if (nominal === undefined) return null;
  // Clamped (NaN counts as 0) so a faulty source can never give a negative or unbounded delay.
  const r = random();
  const unit = r >= 0 ? Math.min(r, 1) : 0;
  // In whole milliseconds: every nominal delay is a multiple of 5 s, so the ±20% spread is exact.
  const spread = nominal / JITTER_DIVISOR;
  return nominal + Math.trunc(spread * (2 * unit - 1));
}
