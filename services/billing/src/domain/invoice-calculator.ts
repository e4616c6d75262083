// The invoice calculator: pure. From a plan version's terms, a period's usage summary and the late
// usage still unbilled, it computes the lines of an invoice: the base fee, one line per plan
// metric, one "late usage" line per earlier period and metric. Each line is priced exactly and
// rounded half-up to the currency's minor unit once; the total is the sum of the rounded lines.
// Every line keeps what it was computed from (its source), so an invoice can be re-derived.
import { toMajorAmount, type Aggregation } from '@usageflow/contracts';
import { decimal, decimalText, nonNegative, preciseAmountText, roundToMinorUnit, type Decimal } from './money';

/** A plan version's pricing terms (as the catalog published them). */
export interface PlanTerms {
  code: string;
  version: number;
  name: string;
  currency: string;
  interval: 'MONTHLY' | 'YEARLY';
  basePrice: string;
  planMetrics: ReadonlyArray<{ metricKey: string; includedUnits: string; overageUnitPrice: string }>;
}

export interface Period {
  start: string;
  end: string;
}

/** The usage summary an invoice is built from. */
export interface SummaryInput {
  eventId: string;
  fingerprint: string;
  period: Period;
  metrics: ReadonlyArray<{ metricKey: string; aggregation: Aggregation; quantity: string; eventCount: number }>;
}

/**
 * The unbilled late usage of one earlier period and metric, folded from its late records.
 * `billedQuantity` is what that period has already been billed for the metric (its invoice's
 * quantity plus late quantities billed since), so the allowance is not granted twice.
 */
export interface LateUsageInput {
  period: Period;
  terms: PlanTerms;
  metricKey: string;
  aggregation: Aggregation;
  quantity: string;
  eventCount: number;
  billedQuantity: string;
  recordEventIds: readonly string[];
}

/** Where a line's numbers come from. */
export interface LineSource {
  summaryEventId?: string;
  fingerprint?: string;
  aggregation?: Aggregation;
  eventCount?: number;
  lateRecordEventIds?: string[];
  planVersion?: number;
}

interface LineAmounts {
  description: string;
  preciseAmount: string;
  amountCents: number;
  amount: number;
  source: LineSource;
}

interface UsageFields {
  metricKey: string;
  quantity: string;
  includedUnits: string;
  billableUnits: string;
  unitPrice: string;
}

/** One computed line, told apart by `kind` as on invoice.created. */
export type InvoiceLineDraft =
  | ({ kind: 'base' } & LineAmounts)
  | ({ kind: 'usage' } & UsageFields & LineAmounts)
  | ({ kind: 'late_usage' } & UsageFields & LineAmounts & { period: Period });

export interface InvoiceCalculation {
  currency: string;
  lines: InvoiceLineDraft[];
  amountCents: number;
  amount: number;
}

/** The most late-record ids a line lists (the rest stay linked in billing's own tables). */
export const MAX_LISTED_LATE_RECORDS = 100;

export class InvoiceCalculationError extends Error {}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** "March 2025" for a calendar month, else "2025-03-15 to 2025-04-15" (UTC, end exclusive). */
export function periodLabel(period: Period): string {
  const start = new Date(period.start);
  const end = new Date(period.end);
  const isMonth =
    start.getUTCDate() === 1 &&
    start.getTime() % 86_400_000 === 0 &&
    end.getTime() === Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
  if (isMonth) return `${MONTHS[start.getUTCMonth()]} ${start.getUTCFullYear()}`;
  return `${period.start.slice(0, 10)} to ${period.end.slice(0, 10)}`;
}

function amounts(precise: Decimal, currency: string) {
  const amountCents = roundToMinorUnit(precise, currency);
  return {
    preciseAmount: preciseAmountText(precise, currency),
    amountCents,
    amount: toMajorAmount(amountCents, currency),
  };
}

/**
 * The charge of `quantity` units with `included` free: max(0, quantity - included) x price.
 * NOTE: usage within the allowance costs nothing, per the plan metric.
 */
function charge(quantity: Decimal, included: Decimal, unitPrice: string, currency: string) {
  const billable = nonNegative(quantity.minus(included));
  return {
    quantity: decimalText(quantity),
    includedUnits: decimalText(included),
    billableUnits: decimalText(billable),
    unitPrice: decimalText(decimal(unitPrice)),
    ...amounts(billable.times(decimal(unitPrice)), currency),
  };
}

/**
 * Computes an invoice's lines for `summary` priced by `terms`, with `late` usage of earlier
 * periods (priced by their own plan versions, in the invoice's currency).
 */
export function calculateInvoice(input: {
  terms: PlanTerms;
  summary: SummaryInput;
  late?: readonly LateUsageInput[];
  metricNames?: Readonly<Record<string, string>>;
}): InvoiceCalculation {
  const { terms, summary } = input;
  const currency = terms.currency;
  const nameOf = (key: string) => input.metricNames?.[key] ?? key;
  const lines: InvoiceLineDraft[] = [
    {
      kind: 'base',
      description: `${terms.name} (${terms.interval === 'YEARLY' ? 'yearly' : 'monthly'})`,
      ...amounts(decimal(terms.basePrice), currency),
      source: { summaryEventId: summary.eventId, fingerprint: summary.fingerprint, planVersion: terms.version },
    },
  ];
  for (const pm of terms.planMetrics) {
    // A plan metric without a summary entry had no usage: a "0" line still shows the allowance.
    const used = summary.metrics.find((m) => m.metricKey === pm.metricKey);
    lines.push({
      kind: 'usage',
      description: nameOf(pm.metricKey),
      metricKey: pm.metricKey,
      ...charge(decimal(used?.quantity ?? '0'), decimal(pm.includedUnits), pm.overageUnitPrice, currency),
      source: {
        summaryEventId: summary.eventId,
        fingerprint: summary.fingerprint,
        ...(used ? { aggregation: used.aggregation } : {}),
        eventCount: used?.eventCount ?? 0,
        planVersion: terms.version,
      },
    });
  }
  for (const late of [...(input.late ?? [])].sort(byPeriodThenMetric)) {
    if (late.terms.currency !== currency) {
      throw new InvoiceCalculationError(
        `late usage of ${late.period.start} is in ${late.terms.currency}, the invoice in ${currency}`,
      );
    }
    const pm = late.terms.planMetrics.find((m) => m.metricKey === late.metricKey);
    // A metric the original plan did not price was never billable: it has no line.
    if (!pm) continue;
    // The allowance left in the original period: the late units are charged as if on time.
    const left = nonNegative(decimal(pm.includedUnits).minus(decimal(late.billedQuantity)));
    lines.push({
      kind: 'late_usage',
      description: `${nameOf(late.metricKey)} (late, ${periodLabel(late.period)})`,
      metricKey: late.metricKey,
      period: late.period,
      ...charge(decimal(late.quantity), left, pm.overageUnitPrice, currency),
      source: {
        aggregation: late.aggregation,
        eventCount: late.eventCount,
        lateRecordEventIds: late.recordEventIds.slice(0, MAX_LISTED_LATE_RECORDS),
        planVersion: late.terms.version,
      },
    });
  }
  const amountCents = lines.reduce((total, line) => total + line.amountCents, 0);
  if (!Number.isSafeInteger(amountCents)) throw new InvoiceCalculationError('invoice total out of range');
  return { currency, lines, amountCents, amount: toMajorAmount(amountCents, currency) };
}

function byPeriodThenMetric(a: LateUsageInput, b: LateUsageInput): number {
  return (
    a.period.start.localeCompare(b.period.start) || (a.metricKey < b.metricKey ? -1 : a.metricKey > b.metricKey ? 1 : 0)
  );
}
