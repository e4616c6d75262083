// A period's reconciliation: the counts at each step from arrival to invoice line, checked against
// each other. A difference is something that should never happen (an event counted nowhere, an
// invoice line that does not bill what the summary said); a step not taken yet is not a
// difference but a wait, which explains why some of the usage is not billed so far. Pure.
import Big from 'big.js';
import type { ReconciliationDifference, TraceWait } from '@usageflow/contracts';

/** What the event store and projections hold for one metric of one subscription's period. */
export interface ReconciliationFacts {
  state: 'OPEN' | 'CLOSED' | 'SUMMARIZED';
  now: Date;
  period: { start: string; end: string };
  stored: number;
  /** Stored events read before the closing's marks (0 before a summary). */
  summarized: number;
  /** What those events add up to by the metric's aggregation, recomputed from the event store. */
  summarizedQuantity: string;
  summary: null | { quantity: string; eventCount: number };
  /** The period's invoice, once issued, and its line billing the metric's usage (null: none). */
  invoice: null | { number: string; line: null | { quantity: string } };
  /** Stored events read after the marks that have no late record (the first 20 of them). */
  unrecordedLate: { count: number; eventIds: string[] };
  /** The late records per invoice that billed them, with that invoice's late line quantity. */
  lateBilled: ReadonlyArray<{ number: string; quantity: string; lineQuantity: string | null }>;
  lateUnbilled: { count: number; billedWithPeriod: string | null; subscriptionEnded: boolean };
}

/** The differences and waits of one period's metric. */
export function reconcile(f: ReconciliationFacts): { differences: ReconciliationDifference[]; waiting: TraceWait[] } {
  const differences: ReconciliationDifference[] = [];
  const waiting: TraceWait[] = [];
  if (f.state === 'OPEN') {
    waiting.push(
      f.now.getTime() < Date.parse(f.period.end)
        ? { code: 'PERIOD_OPEN', detail: `The period is open until ${f.period.end}` }
        : {
            code: 'AWAITING_CLOSING',
            detail: `The period ended at ${f.period.end}; it is closed after its grace window`,
          },
    );
  } else if (f.state === 'CLOSED') {
    waiting.push({
      code: 'AWAITING_SUMMARY',
      detail: "Closed; summarized once the usage consumer has read up to the closing's high-water marks",
    });
  }
  if (f.summary) {
    if (f.summary.eventCount !== f.summarized)
      differences.push({
        code: 'SUMMARY_COUNT_MISMATCH',
        detail: `The summary counted ${f.summary.eventCount} events; ${f.summarized} stored events were read before its marks`,
        eventIds: [],
      });
    if (!new Big(f.summary.quantity).eq(f.summarizedQuantity))
      differences.push({
        code: 'SUMMARY_QUANTITY_MISMATCH',
        detail: `The summary says ${f.summary.quantity}; the events read before its marks make ${f.summarizedQuantity}`,
        eventIds: [],
      });
    if (f.unrecordedLate.count > 0)
      differences.push({
        code: 'LATE_NOT_RECORDED',
        detail: `${f.unrecordedLate.count} events were read after the summary's marks but have no late record`,
        eventIds: f.unrecordedLate.eventIds.slice(0, 20),
      });
    if (!f.invoice)
      waiting.push({ code: 'AWAITING_INVOICE', detail: "Billing has not issued this period's invoice yet" });
    else if (!f.invoice.line)
      differences.push({
        code: 'INVOICE_QUANTITY_MISMATCH',
        detail: `Invoice ${f.invoice.number} has no usage line for this metric; the summary says ${f.summary.quantity}`,
        eventIds: [],
      });
    else if (!new Big(f.invoice.line.quantity).eq(f.summary.quantity))
      differences.push({
        code: 'INVOICE_QUANTITY_MISMATCH',
        detail: `Invoice ${f.invoice.number}'s line bills ${f.invoice.line.quantity}; the summary says ${f.summary.quantity}`,
        eventIds: [],
      });
  }
  for (const late of f.lateBilled) {
    if (late.lineQuantity === null || !new Big(late.lineQuantity).eq(late.quantity))
      differences.push({
        code: 'LATE_LINE_MISMATCH',
        detail:
          late.lineQuantity === null
            ? `Invoice ${late.number} has no late usage line for this period and metric`
            : `Invoice ${late.number}'s late usage line bills ${late.lineQuantity}; its late records add up to ${late.quantity}`,
        eventIds: [],
      });
  }
  if (f.lateUnbilled.count > 0) {
    const n = `${f.lateUnbilled.count} late records`;
    waiting.push(
      f.lateUnbilled.billedWithPeriod
        ? {
            code: 'AWAITING_INVOICE',
            detail: `${n} go on the invoice of the period starting ${f.lateUnbilled.billedWithPeriod}, not issued yet`,
          }
        : f.lateUnbilled.subscriptionEnded
          ? { code: 'SUBSCRIPTION_ENDED', detail: `${n} of a subscription that ended: no later invoice bills them` }
          : { code: 'AWAITING_NEXT_SUMMARY', detail: `${n} go on the invoice of the next summarized period` },
    );
  }
  return { differences, waiting };
}
