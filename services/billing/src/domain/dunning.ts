// Invoice status and dunning, pure. An invoice is PENDING until paid; a declined (or erroring)
// charge is retried on the configured schedule, and after the last retry fails the invoice is
// FAILED (still payable: FAILED -> PAID). Nothing else moves: PAID is final.
import type { InvoiceStatus } from '@usageflow/contracts';

/** The status moves an invoice may make (the database enforces the same set). */
const TRANSITIONS: ReadonlyArray<readonly [InvoiceStatus, InvoiceStatus]> = [
  ['PENDING', 'PAID'],
  ['PENDING', 'FAILED'],
  ['FAILED', 'PAID'],
];

/** Whether an invoice may move from `from` to `to`. */
export function canTransition(from: InvoiceStatus, to: InvoiceStatus): boolean {
  return TRANSITIONS.some(([a, b]) => a === from && b === to);
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a dunning schedule: the waits before each retry after a failed charge, comma-separated
 * durations ("1d,3d,5d": retry 1 day after the first failure, 3 days after the second, 5 days
 * after the third; then give up). An empty schedule never retries. Returns milliseconds.
 */
export function parseDunningSchedule(text: string): number[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  return trimmed.split(',').map((part) => {
    const m = /^(\d+)(ms|s|m|h|d)$/.exec(part.trim());
    if (!m || Number(m[1]) <= 0) throw new Error(`"${part.trim()}" is not a duration like 30s, 12h or 3d`);
    return Number(m[1]) * UNIT_MS[m[2]!]!;
  });
}

/** An invoice's collection state. `dunningStep` counts the scheduled charges made so far. */
export interface CollectionState {
  status: InvoiceStatus;
  dunningStep: number;
  nextAttemptAt: Date | null;
}

export type ChargeOutcome = 'succeeded' | 'declined' | 'error';

/** What a charge does to the invoice: its new state, and whether it became PAID or FAILED now. */
export interface ChargeDecision extends CollectionState {
  paid: boolean;
  failed: boolean;
}

/**
 * Decides the collection state after a charge attempted at `at`. A scheduled charge (dunning)
 * advances the schedule; a manual retry leaves the schedule as it was (it is an extra attempt,
 * not one of dunning's), and on a FAILED invoice it only can pay it.
 */
export function afterCharge(
  state: CollectionState,
  outcome: ChargeOutcome,
  at: Date,
  options: { scheduled: boolean; schedule: readonly number[] },
): ChargeDecision {
  if (state.status === 'PAID') throw new Error('a paid invoice is not charged');
  if (outcome === 'succeeded') {
    return { status: 'PAID', dunningStep: state.dunningStep, nextAttemptAt: null, paid: true, failed: false };
  }
  if (!options.scheduled || state.status === 'FAILED') return { ...state, paid: false, failed: false };
  const step = state.dunningStep + 1;
  // NOTE: the first charge is step 1; the schedule holds the waits before steps 2, 3, ...
  const wait = options.schedule[step - 1];
  if (wait === undefined)
    return { status: 'FAILED', dunningStep: step, nextAttemptAt: null, paid: false, failed: true };
  return {
    status: 'PENDING',
    dunningStep: step,
    nextAttemptAt: new Date(at.getTime() + wait),
    paid: false,
    failed: false,
  };
}
