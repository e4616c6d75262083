// When an endpoint that keeps failing is disabled (its owners are then told, and it stops taking
// the dispatcher's time). Only an unbroken streak counts: one success resets it.

/** Whether an endpoint has failed every attempt for at least `disableAfterMs`. */
export function shouldDisable(input: {
  /** The first failure of the current streak, or null when the last attempt succeeded. */
  firstFailureAt: Date | null;
  lastSuccessAt: Date | null;
  now: Date;
  disableAfterMs: number;
}): boolean {
  const { firstFailureAt, lastSuccessAt, now, disableAfterMs } = input;
  if (firstFailureAt === null) return false;
  // A success at or after the streak began means it is not failing every attempt.
  if (lastSuccessAt !== null && lastSuccessAt.getTime() >= firstFailureAt.getTime()) return false;
  return now.getTime() - firstFailureAt.getTime() >= disableAfterMs;
}
