// Where one event stands in one subscription's billing, decided from the facts the event store
// and the projections hold: the period its timestamp falls in, that period's closing and summary,
// the event's late record if it came after the summary, and the invoice that billed it. Each step
// not taken says why, in the order billing takes them. Pure.
import type {
  HighWaterMark,
  SubscriptionTrace,
  TracedInvoice,
  TracedLine,
  TraceOutcome,
  TraceWait,
} from '@usageflow/contracts';

/** An invoice as the invoices projection keeps it: lines as invoice.created carried them. */
export interface InvoiceFacts {
  invoice: TracedInvoice;
  lines: ReadonlyArray<Record<string, unknown>>;
}

/** What the event store and projections know of an event in one subscription's period. */
export interface PeriodFacts {
  subscriptionId: string;
  planCode: string;
  planVersion: number;
  period: { start: string; end: string };
  now: Date;
  metricKey: string;
  metricDefined: boolean;
  /** The plan version's metric keys; null while the plan version is not known here. */
  planMetrics: readonly string[] | null;
  closing: null | {
    closedAt: string;
    summary: null | { summaryId: string; fingerprint: string; summarizedAt: string; marks: readonly HighWaterMark[] };
  };
  /** Where the event was read on the usage topic. */
  position: { partition: number; offset: string };
  late: null | { lateRecordId: string; sequence: number | null; quantity: string | null; detectedAt: string };
  /** The invoice of the period (for a summarized event) or of the summary that bills its late record. */
  invoice: InvoiceFacts | null;
  /** For a late record: the period of the first summary whose lateRecordsThrough reaches it. */
  lateBilledWithPeriod: { start: string; end: string } | null;
  /** No later period of the subscription will be summarized (it was cancelled and closed). */
  subscriptionEnded: boolean;
}

const wait = (code: TraceWait['code'], detail: string): TraceWait => ({ code, detail });

/** The line of `invoice` that bills `metricKey`'s usage of its own period, or the late usage of `period`. */
export function findLine(
  invoice: InvoiceFacts,
  metricKey: string,
  latePeriod: { start: string; end: string } | null,
): TracedLine | null {
  const index = invoice.lines.findIndex((line) =>
    latePeriod
      ? line.kind === 'late_usage' &&
        line.metricKey === metricKey &&
        (line.period as { start: string }).start === latePeriod.start
      : line.kind === 'usage' && line.metricKey === metricKey,
  );
  if (index < 0) return null;
  const line = invoice.lines[index] as Record<string, unknown> & Omit<TracedLine, 'position' | 'period'>;
  return {
    position: index,
    kind: line.kind,
    description: line.description,
    metricKey: line.metricKey,
    period: latePeriod ?? invoice.invoice.period,
    quantity: line.quantity,
    includedUnits: line.includedUnits,
    billableUnits: line.billableUnits,
    amountCents: line.amountCents,
    amount: line.amount,
  };
}

/** Whether the summary taken at `marks` counts the event read at `position`. */
export function includedInSummary(
  marks: readonly HighWaterMark[],
  position: { partition: number; offset: string },
): { included: boolean; mark: string | null } {
  const mark = marks.find((m) => m.partition === position.partition)?.offset ?? null;
  return { included: mark !== null && BigInt(position.offset) < BigInt(mark), mark };
}

/** The event's trace in one subscription's period. */
export function traceInSubscription(f: PeriodFacts): SubscriptionTrace {
  const base = {
    subscriptionId: f.subscriptionId,
    planCode: f.planCode,
    planVersion: f.planVersion,
    period: f.period,
  };
  const pending = (w: TraceWait, more: Partial<SubscriptionTrace> = {}): SubscriptionTrace => ({
    ...base,
    outcome: 'PENDING',
    waiting: w,
    ...more,
  });
  const unbilled = (w: TraceWait, more: Partial<SubscriptionTrace> = {}): SubscriptionTrace => ({
    ...base,
    outcome: 'UNBILLED',
    waiting: w,
    ...more,
  });
  const plan = `${f.planCode} v${f.planVersion}`;
  if (!f.metricDefined)
    return unbilled(wait('METRIC_UNKNOWN', `${f.metricKey} is not a metric of your organization, so no plan bills it`));
  if (f.planMetrics === null)
    return pending(wait('AWAITING_PLAN', `Plan ${plan} is not known to the aggregation yet (catalog lag)`));
  if (!f.planMetrics.includes(f.metricKey))
    return unbilled(wait('METRIC_NOT_ON_PLAN', `${f.metricKey} is not on plan ${plan}`));
  if (!f.closing) {
    return f.now.getTime() < Date.parse(f.period.end)
      ? pending(wait('PERIOD_OPEN', `The period is open until ${f.period.end}`))
      : pending(
          wait(
            'AWAITING_CLOSING',
            `The period ended at ${f.period.end}; it is closed after its grace window, then summarized`,
          ),
        );
  }
  const summary = f.closing.summary;
  if (!summary)
    return pending(
      wait(
        'AWAITING_SUMMARY',
        `The period was closed at ${f.closing.closedAt}; it is summarized once the usage consumer has read ` +
          "up to the closing's high-water marks",
      ),
    );
  const { included, mark } = includedInSummary(summary.marks, f.position);
  const summaryPart = {
    summary: {
      summaryId: summary.summaryId,
      fingerprint: summary.fingerprint,
      summarizedAt: summary.summarizedAt,
      highWaterMark: mark,
      included,
    },
  };
  if (included) {
    const line = f.invoice ? findLine(f.invoice, f.metricKey, null) : null;
    if (!f.invoice || !line)
      return pending(
        wait('AWAITING_INVOICE', "Billing has not issued this period's invoice yet (or its event is on its way)"),
        summaryPart,
      );
    return { ...base, outcome: 'BILLED', ...summaryPart, invoice: f.invoice.invoice, line };
  }
  if (!f.late)
    return pending(
      wait('AWAITING_SUMMARY', "Read after the closing's marks; its late record is not visible yet"),
      summaryPart,
    );
  const lateParts = { ...summaryPart, late: f.late };
  const line = f.invoice ? findLine(f.invoice, f.metricKey, f.period) : null;
  if (f.invoice && line) return { ...base, outcome: 'BILLED', ...lateParts, invoice: f.invoice.invoice, line };
  if (f.lateBilledWithPeriod)
    return pending(
      wait(
        'AWAITING_INVOICE',
        `Late usage, billed on the invoice of the period starting ${f.lateBilledWithPeriod.start}, not issued yet`,
      ),
      lateParts,
    );
  if (f.subscriptionEnded)
    return unbilled(
      wait('SUBSCRIPTION_ENDED', 'Late usage of a subscription that ended: no later invoice will bill it'),
      lateParts,
    );
  return pending(
    wait('AWAITING_NEXT_SUMMARY', "Late usage, billed on the invoice of the subscription's next summarized period"),
    lateParts,
  );
}

/** The event's outcome over its subscriptions: billed by one, else pending in one, else unbilled. */
export function overallOutcome(traces: readonly SubscriptionTrace[], customerId: string, timestamp: string) {
  if (traces.length === 0) {
    return {
      outcome: 'UNBILLED' as TraceOutcome,
      waiting: wait(
        'SUBSCRIPTION_MISSING',
        `No subscription of customer ${customerId} has a billing period holding ${timestamp}`,
      ),
    };
  }
  for (const outcome of ['BILLED', 'PENDING', 'UNBILLED'] as const) {
    const trace = traces.find((t) => t.outcome === outcome);
    if (trace) return { outcome, ...(trace.waiting ? { waiting: trace.waiting } : {}) };
  }
  throw new Error('unreachable');
}
