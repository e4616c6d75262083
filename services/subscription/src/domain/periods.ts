// Billing period arithmetic. Pure and UTC only: every calendar field is read and written with the
// getUTC*/setUTC* accessors, so the host's time zone can never move a boundary. Periods are
// half-open [start, end): an instant exactly on a boundary belongs to the period it starts.
import type { Interval } from '@usageflow/contracts';

/** How periods are counted: calendar months/years (CALENDAR), or from the start instant (ANNIVERSARY). */
export type BillingAnchorKind = 'CALENDAR' | 'ANNIVERSARY';

/** A half-open billing period [start, end) in UTC. */
export interface BillingPeriod {
  start: Date;
  end: Date;
}

/** A billing period with its position: 0 is the subscription's first period. */
export interface IndexedPeriod extends BillingPeriod {
  index: number;
}

/** What period arithmetic needs of a subscription: where its periods are counted from, and when it started. */
export interface BillingSchedule {
  anchor: Date;
  interval: Interval;
  startAt: Date;
}

const MS_PER_DAY = 86_400_000;

/** The instant periods are counted from: startAt itself (ANNIVERSARY) or the start of its calendar month/year. */
export function billingAnchor(startAt: Date, kind: BillingAnchorKind, interval: Interval): Date {
  assertValidDate(startAt, 'startAt');
  if (kind === 'ANNIVERSARY') return new Date(startAt.getTime());
  // NOTE: a CALENDAR anchor lies at or before startAt, so the first period is a stub that ends on
  // the next calendar boundary (started Mar 15 -> [Mar 15, Apr 1)).
  const month = interval === 'MONTHLY' ? startAt.getUTCMonth() : 0;
  return utcDate(startAt.getUTCFullYear(), month, 1, 0);
}

/**
 * The n-th period boundary after `anchor` (n >= 0), counted from the anchor itself and never from
 * the previous boundary: an anchor on the 31st gives Feb 28, then Mar 31 again (no drift).
 */
export function anchorPlus(anchor: Date, interval: Interval, n: number): Date {
  assertValidDate(anchor, 'anchor');
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`anchorPlus: n must be an integer >= 0, got ${n}`);
  const months = anchor.getUTCMonth() + n * monthsPerPeriod(interval);
  const year = anchor.getUTCFullYear() + Math.floor(months / 12);
  const month = months % 12;
  // NOTE: a day the target month lacks is clamped to its last day (Jan 31 -> Feb 28/29, and a
  // yearly Feb 29 anchor -> Feb 28 in non-leap years); the time of day is kept.
  const day = Math.min(anchor.getUTCDate(), daysInMonth(year, month));
  return utcDate(year, month, day, msOfDay(anchor));
}

/**
 * The billing period containing instant `t` (t >= startAt). Boundaries are anchorPlus(anchor, k);
 * the first period (index 0) starts at startAt. Constant time whatever the distance from the anchor.
 */
export function periodAt(anchor: Date, interval: Interval, startAt: Date, t: Date): IndexedPeriod {
  assertSchedule(anchor, startAt);
  assertValidDate(t, 't');
  if (t.getTime() < startAt.getTime()) {
    throw new RangeError(`periodAt: ${t.toISOString()} is before the subscription start ${startAt.toISOString()}`);
  }
  const first = boundaryIndexAtOrBefore(anchor, interval, startAt);
  return periodByIndex(anchor, interval, startAt, first, boundaryIndexAtOrBefore(anchor, interval, t) - first);
}

/**
 * Every period whose end lies in (from, to], in order and contiguous: the periods a clock moving
 * from `from` to `to` closes. Empty when from === to.
 */
export function periodsEndingIn(
  anchor: Date,
  interval: Interval,
  startAt: Date,
  from: Date,
  to: Date,
): IndexedPeriod[] {
  assertSchedule(anchor, startAt);
  assertValidDate(from, 'from');
  assertValidDate(to, 'to');
  if (to.getTime() < from.getTime()) {
    throw new RangeError(`periodsEndingIn: to ${to.toISOString()} is before from ${from.toISOString()}`);
  }
  const first = boundaryIndexAtOrBefore(anchor, interval, startAt);
  // The period containing `from` is the first one ending after it (half-open); before the start,
  // that is the first period.
  let index = from.getTime() < startAt.getTime() ? 0 : boundaryIndexAtOrBefore(anchor, interval, from) - first;
  const closed: IndexedPeriod[] = [];
  for (;;) {
    const period = periodByIndex(anchor, interval, startAt, first, index);
    if (period.end.getTime() > to.getTime()) return closed;
    closed.push(period);
    index += 1;
  }
}

/** When a period may be closed: its end plus the grace window for late-arriving usage. */
export function closingDueAt(period: BillingPeriod, graceMs: number): Date {
  assertValidDate(period.end, 'period.end');
  if (!Number.isFinite(graceMs) || graceMs < 0) {
    throw new RangeError(`closingDueAt: graceMs must be a finite number >= 0, got ${graceMs}`);
  }
  return new Date(period.end.getTime() + graceMs);
}

/** Whether a period's closing is due at `now` (now >= end + grace). */
export function isClosingDue(period: BillingPeriod, graceMs: number, now: Date): boolean {
  assertValidDate(now, 'now');
  return now.getTime() >= closingDueAt(period, graceMs).getTime();
}

/** The period at `index` (0 = first), given the boundary index at or before startAt. */
function periodByIndex(
  anchor: Date,
  interval: Interval,
  startAt: Date,
  firstBoundary: number,
  index: number,
): IndexedPeriod {
  const start = index === 0 ? new Date(startAt.getTime()) : anchorPlus(anchor, interval, firstBoundary + index);
  return { start, end: anchorPlus(anchor, interval, firstBoundary + index + 1), index };
}

/** The largest k >= 0 with anchorPlus(anchor, k) <= t (t >= anchor). */
function boundaryIndexAtOrBefore(anchor: Date, interval: Interval, t: Date): number {
  const step = monthsPerPeriod(interval);
  const monthsApart = (t.getUTCFullYear() - anchor.getUTCFullYear()) * 12 + (t.getUTCMonth() - anchor.getUTCMonth());
  // Boundary k falls in calendar month anchorMonth + k*step, so the estimate's boundary is in t's
  // month or earlier and the next one is in a later month (so after t): only the day and time
  // within t's month can make the estimate one too many, never too few.
  const k = Math.max(0, Math.floor(monthsApart / step));
  // Half-open: a boundary equal to t is kept, t belongs to the period it starts.
  return k > 0 && anchorPlus(anchor, interval, k).getTime() > t.getTime() ? k - 1 : k;
}

/** Milliseconds since UTC midnight (also before 1970, where `%` alone would go negative). */
function msOfDay(date: Date): number {
  return ((date.getTime() % MS_PER_DAY) + MS_PER_DAY) % MS_PER_DAY;
}

function monthsPerPeriod(interval: Interval): number {
  return interval === 'MONTHLY' ? 1 : 12;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 1) return isLeapYear(year) ? 29 : 28;
  return [3, 5, 8, 10].includes(month) ? 30 : 31;
}

/** A UTC instant from calendar fields (setUTCFullYear, because Date.UTC maps years 0-99 to 19xx). */
function utcDate(year: number, month: number, day: number, msOfDay: number): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  return new Date(date.getTime() + msOfDay);
}

function assertValidDate(value: Date, name: string): void {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TypeError(`${name} must be a valid Date`);
}

function assertSchedule(anchor: Date, startAt: Date): void {
  assertValidDate(anchor, 'anchor');
  assertValidDate(startAt, 'startAt');
  // billingAnchor never yields an anchor after the start; a later one would need a leading stub.
  if (anchor.getTime() > startAt.getTime()) {
    throw new RangeError(`the anchor ${anchor.toISOString()} is after the start ${startAt.toISOString()}`);
  }
}
