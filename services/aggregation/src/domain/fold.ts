// How usage events fold into a quantity, per aggregation type. Pure and exact: amounts are
// decimals (big.js: addition and comparison never round), timestamps are epoch milliseconds.
// The same partial state is kept per hourly rollup and merged across hours, so a period's value
// never depends on how its events were batched: fold and merge are associative and commutative.
import Big from 'big.js';

// A Big constructor of this module's own whose toString never switches to exponent notation
// (the default one prints 1e+21 and 1e-7): contracts' decimal strings are plain digits. Every
// decimal the folds make is one of its instances, so printing one needs no conversion.
const Plain = Big();
Plain.PE = 1e6;
Plain.NE = -1e6;
import type { Aggregation } from '@usageflow/contracts';

/** What a fold needs of one event. */
export interface FoldableEvent {
  eventId: string;
  /** The exact decimal amount ("2.5"). */
  amount: string;
  /** The event timestamp, epoch milliseconds. */
  ts: number;
}

/** The greatest event by (ts, eventId): LATEST's value. */
export interface LatestEvent {
  ts: number;
  eventId: string;
  amount: Big;
}

/** The partial aggregate of a set of events: every aggregation but UNIQUE_COUNT reads from it. */
export interface UsageFold {
  count: number;
  sum: Big;
  /** null until an event was folded. */
  max: Big | null;
  latest: LatestEvent | null;
}

export function emptyFold(): UsageFold {
  return { count: 0, sum: new Plain(0), max: null, latest: null };
}

/**
 * Orders event ids as Postgres orders `collate "C"` text: by the bytes of their UTF-8 encoding.
 * (JavaScript's `<` compares UTF-16 code units, which orders some characters differently.)
 */
export function compareEventIds(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** Whether `a` comes after `b` for LATEST: the later timestamp, and on a tie the greater event id. */
export function isLater(a: { ts: number; eventId: string }, b: { ts: number; eventId: string }): boolean {
  return a.ts !== b.ts ? a.ts > b.ts : compareEventIds(a.eventId, b.eventId) > 0;
}

/** Folds one event into `fold` (mutates it, for the hot path) and returns it. */
export function foldEvent(fold: UsageFold, event: FoldableEvent): UsageFold {
  const amount = new Plain(event.amount);
  fold.count += 1;
  fold.sum = fold.sum.plus(amount);
  if (fold.max === null || amount.gt(fold.max)) fold.max = amount;
  if (fold.latest === null || isLater(event, fold.latest))
    fold.latest = { ts: event.ts, eventId: event.eventId, amount };
  return fold;
}

/** The fold of the union of two disjoint sets of events. */
export function mergeFolds(a: UsageFold, b: UsageFold): UsageFold {
  return {
    count: a.count + b.count,
    sum: a.sum.plus(b.sum),
    max: a.max === null ? b.max : b.max === null ? a.max : a.max.gte(b.max) ? a.max : b.max,
    latest:
      a.latest === null ? b.latest : b.latest === null ? a.latest : isLater(b.latest, a.latest) ? b.latest : a.latest,
  };
}

/** The distinct values of a UNIQUE_COUNT property: a value is its JSON text ("1" and 1 differ). */
export function foldUniqueValue(values: Set<string>, value: unknown): Set<string> {
  if (value !== undefined && value !== null) values.add(JSON.stringify(value));
  return values;
}

/** A decimal in the contracts' canonical form: no exponent, no trailing fraction zeros ("2.50" -> "2.5"). */
export function canonicalDecimal(value: Big | string): string {
  return (value instanceof Plain ? value : new Plain(value)).toString();
}

/** What one set of events rolled up to, every aggregation's candidate as exact decimal text. */
export interface QuantityParts {
  eventCount: string;
  sum: string;
  max: string;
  latest: string;
  distinctValues: string;
}

/**
 * The quantity a metric of `aggregation` reports from `parts` (each "0" when nothing happened),
 * canonical: "2.50" + "0.50" reads "3". The one mapping of aggregation to value, for the folds
 * here and for the totals Postgres computes (summaries, live usage).
 */
export function quantityFrom(aggregation: Aggregation, parts: QuantityParts): string {
  const pick: Record<Aggregation, string> = {
    SUM: parts.sum,
    COUNT: parts.eventCount,
    MAX: parts.max,
    LATEST: parts.latest,
    UNIQUE_COUNT: parts.distinctValues,
  };
  return canonicalDecimal(pick[aggregation]);
}

/**
 * The quantity a metric of `aggregation` bills for the folded events: SUM the amounts, COUNT the
 * events, MAX the greatest amount, LATEST the amount of the latest event, UNIQUE_COUNT the number
 * of distinct values. A period without events is "0" whatever the aggregation.
 */
export function quantityOf(aggregation: Aggregation, fold: UsageFold, uniqueValues?: ReadonlySet<string>): string {
  if (aggregation === 'UNIQUE_COUNT' && !uniqueValues)
    throw new Error('quantityOf: UNIQUE_COUNT needs the distinct values');
  return quantityFrom(aggregation, {
    eventCount: String(fold.count),
    sum: canonicalDecimal(fold.sum),
    max: canonicalDecimal(fold.max ?? '0'),
    latest: canonicalDecimal(fold.latest?.amount ?? '0'),
    distinctValues: String(uniqueValues?.size ?? 0),
  });
}

/**
 * What a late arrival adds to a period already billed at `billed`: the increase of the period's
 * value, never negative (a MAX below the billed maximum adds nothing).
 */
export function lateIncrease(billed: string, current: string): string {
  const delta = new Plain(current).minus(billed);
  return delta.gt(0) ? canonicalDecimal(delta) : '0';
}
