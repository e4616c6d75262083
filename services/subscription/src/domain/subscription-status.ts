// The subscription status state machine. Pure: the caller loads the subscription (locked), passes
// the time in, saves the decided state and emits an event only when `changed` is true, so a
// redelivered command or message (an invoice.failed seen twice) writes nothing and emits nothing.
//
//                 suspend            reactivate          cancel PERIOD_END       cancel IMMEDIATELY
//   ACTIVE        -> SUSPENDED       no-op               cancelAt = period end   -> CANCELLED now
//   SUSPENDED     no-op              -> ACTIVE           cancelAt = period end   -> CANCELLED now
//   CANCELLED     SUBSCRIPTION_      SUBSCRIPTION_       no-op                   no-op
//                 CANCELLED          CANCELLED
//
// A PERIOD_END cancellation keeps the status; the closing of the period it was scheduled for
// ends the subscription (onPeriodClosed).
import type { SUSPENSION_REASONS } from '@usageflow/contracts';
import { subscriptionErrors } from './errors';
import { periodAt, type BillingPeriod, type BillingSchedule, type IndexedPeriod } from './periods';

/** Where a subscription stands. */
export const SUBSCRIPTION_STATUSES = ['ACTIVE', 'SUSPENDED', 'CANCELLED'] as const;
/** One of SUBSCRIPTION_STATUSES. */
export type SubscriptionStatus = (typeof SUBSCRIPTION_STATUSES)[number];

/** Why a subscription is suspended: dunning gave up on an invoice, or an operator did it. */
export type SuspensionReason = (typeof SUSPENSION_REASONS)[number];

/** When a cancellation takes effect: at the current period's end (the default) or right now. */
export type CancellationTiming = 'PERIOD_END' | 'IMMEDIATELY';

/** The status fields of a subscription, as stored. */
export interface SubscriptionState {
  status: SubscriptionStatus;
  /** When a PERIOD_END cancellation will end it (null when none is scheduled). */
  cancelAt: Date | null;
  /** When it ended (set exactly when CANCELLED). */
  endedAt: Date | null;
}

/** The outcome of a command: the state to save, and whether anything changed (else no write, no event). */
export interface Decision {
  state: SubscriptionState;
  changed: boolean;
}

/** The outcome of a cancellation. */
export interface CancelDecision extends Decision {
  /** When the subscription ends (or ended): the event's effectiveAt. */
  endsAt: Date;
  /**
   * For an IMMEDIATELY cancellation, the current period cut short at the cancellation time: it
   * is closed (and invoiced) as the last period. Null otherwise, or when it would be empty.
   */
  shortLastPeriod: BillingPeriod | null;
}

/** The outcome of a period closing: the state to save and the period that follows, if any. */
export interface PeriodClosedDecision extends Decision {
  nextPeriod: IndexedPeriod | null;
}

/** Decides a suspension: ACTIVE -> SUSPENDED; already SUSPENDED is a no-op; CANCELLED is refused. */
export function decideSuspend(state: SubscriptionState, reason: SuspensionReason): Decision {
  if (state.status === 'CANCELLED') {
    throw subscriptionErrors.SUBSCRIPTION_CANCELLED(`a cancelled subscription cannot be suspended (${reason})`);
  }
  // NOTE: idempotent, so a redelivered invoice.failed (or a second manual suspension) changes nothing.
  if (state.status === 'SUSPENDED') return unchanged(state);
  return { state: { ...state, status: 'SUSPENDED' }, changed: true };
}

/** Decides a reactivation: SUSPENDED -> ACTIVE; already ACTIVE is a no-op; CANCELLED is refused. */
export function decideReactivate(state: SubscriptionState): Decision {
  if (state.status === 'CANCELLED') {
    throw subscriptionErrors.SUBSCRIPTION_CANCELLED('a cancelled subscription cannot be reactivated; subscribe again');
  }
  if (state.status === 'ACTIVE') return unchanged(state);
  // A scheduled PERIOD_END cancellation survives the suspension and the reactivation.
  return { state: { ...state, status: 'ACTIVE' }, changed: true };
}

/**
 * Decides a cancellation at `now`, within `currentPeriod` (the period containing now).
 * PERIOD_END schedules the end at the period's end and keeps the status; IMMEDIATELY ends it now.
 */
export function decideCancel(
  state: SubscriptionState,
  command: { at: CancellationTiming },
  now: Date,
  currentPeriod: BillingPeriod,
): CancelDecision {
  if (state.status === 'CANCELLED') {
    // NOTE: cancelling twice is a no-op, so a retried request answers like the first one.
    if (!state.endedAt) throw new Error('corrupt subscription state: CANCELLED without endedAt');
    return { ...unchanged(state), endsAt: state.endedAt, shortLastPeriod: null };
  }
  if (command.at === 'IMMEDIATELY') {
    // NOTE: an IMMEDIATELY cancellation also overrides a scheduled one; the current period is
    // cut short at now and billed as the last one.
    const shortLastPeriod =
      now.getTime() > currentPeriod.start.getTime() ? { start: currentPeriod.start, end: now } : null;
    return {
      state: { status: 'CANCELLED', cancelAt: null, endedAt: now },
      changed: true,
      endsAt: now,
      shortLastPeriod,
    };
  }
  if (state.cancelAt) return { ...unchanged(state), endsAt: state.cancelAt, shortLastPeriod: null };
  if (now.getTime() >= currentPeriod.end.getTime()) {
    throw subscriptionErrors.INVALID_TRANSITION(
      `the period ending ${currentPeriod.end.toISOString()} is over; cancel within the current period`,
    );
  }
  return {
    state: { ...state, cancelAt: currentPeriod.end },
    changed: true,
    endsAt: currentPeriod.end,
    shortLastPeriod: null,
  };
}

/**
 * Decides what closing `period` does: it ends a subscription whose scheduled cancellation falls
 * on or before the period's end (no next period), else the next period opens.
 */
export function onPeriodClosed(
  subscription: SubscriptionState & BillingSchedule,
  period: BillingPeriod,
): PeriodClosedDecision {
  const state: SubscriptionState = {
    status: subscription.status,
    cancelAt: subscription.cancelAt,
    endedAt: subscription.endedAt,
  };
  if (state.status === 'CANCELLED') {
    // An IMMEDIATELY cancellation inside the grace window of the previous period: that period
    // still closes normally, and the next one is open only up to the end.
    if (!state.endedAt || state.endedAt.getTime() <= period.end.getTime()) {
      return { ...unchanged(state), nextPeriod: null };
    }
    const next = following(subscription, period);
    const end = next.end.getTime() < state.endedAt.getTime() ? next.end : state.endedAt;
    return { ...unchanged(state), nextPeriod: { ...next, end } };
  }
  if (state.cancelAt && state.cancelAt.getTime() <= period.end.getTime()) {
    return {
      state: { status: 'CANCELLED', cancelAt: state.cancelAt, endedAt: state.cancelAt },
      changed: true,
      nextPeriod: null,
    };
  }
  // NOTE: a SUSPENDED subscription keeps its periods: suspension stops service, not the calendar.
  return { ...unchanged(state), nextPeriod: following(subscription, period) };
}

function following(schedule: BillingSchedule, period: BillingPeriod): IndexedPeriod {
  // Half-open: the instant a period ends is the first instant of the next one.
  return periodAt(schedule.anchor, schedule.interval, schedule.startAt, period.end);
}

function unchanged(state: SubscriptionState): Decision {
  return { state, changed: false };
}
