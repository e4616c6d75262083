// "Where is my event?": the aggregation service's answers with evidence. An event trace follows
// one accepted event from the usage topic to the invoice line that billed it; a reconciliation
// puts a period's counts side by side (received, duplicates, stored, summarized, late, billed)
// and lists every difference with the events behind it. Aggregation answers both from its own
// event store and its projections of the subscriptions and invoices topics.
import { Type, type Static } from '@sinclair/typebox';
import {
  Aggregation,
  Closed,
  Currency,
  CustomerId,
  DecimalString,
  Described,
  ExternalEventId,
  IsoDateTime,
  KafkaOffset,
  MajorAmount,
  MetricKey,
  MinorUnits,
  Nullable,
  Period,
  PlanCode,
  Sha256Hex,
  StringEnum,
  Uuid,
} from '../common';
import { INVOICE_LINE_KINDS } from '../events/invoices';
import { LIST_QUERY, Page } from './pagination';
import type { RouteSpec } from './openapi';

/** How far an event (or a period's usage) got: billed, on its way, or never to be billed. */
export const TRACE_OUTCOMES = ['BILLED', 'PENDING', 'UNBILLED'] as const;
export type TraceOutcome = (typeof TRACE_OUTCOMES)[number];

/**
 * Why a step has not happened. PENDING ones will happen by themselves; UNBILLED ones will not
 * until the organization acts (subscribes the customer, defines the metric, puts it on the plan).
 */
export const TRACE_REASONS = [
  'PERIOD_OPEN',
  'AWAITING_CLOSING',
  'AWAITING_SUMMARY',
  'AWAITING_PLAN',
  'AWAITING_INVOICE',
  'AWAITING_NEXT_SUMMARY',
  'SUBSCRIPTION_MISSING',
  'SUBSCRIPTION_ENDED',
  'METRIC_UNKNOWN',
  'METRIC_NOT_ON_PLAN',
] as const;
export type TraceReason = (typeof TRACE_REASONS)[number];

/** A step not (yet) taken: its code and a sentence for people. */
export const TraceWait = Closed({
  code: StringEnum(TRACE_REASONS),
  detail: Type.String({ minLength: 1 }),
});
export type TraceWait = Static<typeof TraceWait>;

/** Where on the usage topic an event was read. */
export const TopicPosition = Closed({
  topic: Type.String({ minLength: 1 }),
  partition: Type.Integer({ minimum: 0 }),
  offset: KafkaOffset,
});

/** An invoice as the trace names it. */
export const TracedInvoice = Closed({
  invoiceId: Uuid,
  number: Type.String({ minLength: 1 }),
  status: StringEnum(['PENDING', 'PAID', 'FAILED'] as const),
  period: Period,
  issuedAt: IsoDateTime,
  currency: Currency,
});
export type TracedInvoice = Static<typeof TracedInvoice>;

/** The invoice line that billed the event's usage (usage) or its late record (late_usage). */
export const TracedLine = Closed({
  position: Described(Type.Integer({ minimum: 0 }), "The line's index in the invoice's lines."),
  kind: StringEnum(INVOICE_LINE_KINDS),
  description: Type.String(),
  metricKey: MetricKey,
  period: Described(Period, 'The period whose usage the line bills (an earlier one for late usage).'),
  quantity: DecimalString,
  includedUnits: DecimalString,
  billableUnits: DecimalString,
  amountCents: MinorUnits,
  amount: MajorAmount,
});
export type TracedLine = Static<typeof TracedLine>;

/** The event in one subscription's billing: its period, summary or late record, invoice and line. */
export const SubscriptionTrace = Closed({
  subscriptionId: Uuid,
  planCode: PlanCode,
  planVersion: Type.Integer({ minimum: 1 }),
  period: Described(Period, "The subscription's billing period the event's timestamp falls in."),
  outcome: StringEnum(TRACE_OUTCOMES),
  waiting: Type.Optional(Described(TraceWait, 'Why it is not billed (yet); absent once it is.')),
  summary: Type.Optional(
    Described(
      Closed({
        summaryId: Uuid,
        fingerprint: Sha256Hex,
        summarizedAt: IsoDateTime,
        highWaterMark: Described(
          Nullable(KafkaOffset),
          "The closing's mark on the event's partition: events read before it are in the summary.",
        ),
        included: Described(Type.Boolean(), 'Whether the event is counted in the summary (else it is late).'),
      }),
      "The period's summary, once taken.",
    ),
  ),
  late: Type.Optional(
    Described(
      Closed({
        lateRecordId: Uuid,
        sequence: Nullable(Type.Integer({ minimum: 1 })),
        quantity: Nullable(DecimalString),
        detectedAt: IsoDateTime,
      }),
      'The usage.late_recorded that bills the event, when it arrived after the summary.',
    ),
  ),
  invoice: Type.Optional(TracedInvoice),
  line: Type.Optional(TracedLine),
});
export type SubscriptionTrace = Static<typeof SubscriptionTrace>;

/** An arrival of the event's id after the first, dropped (counted once). */
export const DroppedArrival = Closed({
  topic: Type.String({ minLength: 1 }),
  partition: Type.Integer({ minimum: 0 }),
  offset: KafkaOffset,
  receivedAt: IsoDateTime,
  droppedAt: IsoDateTime,
});

/** The answer to `GET /v1/events/{id}`. */
export const EventTrace = Closed({
  eventId: ExternalEventId,
  customerId: CustomerId,
  metricKey: Type.String(),
  amount: DecimalString,
  timestamp: IsoDateTime,
  outcome: Described(StringEnum(TRACE_OUTCOMES), 'BILLED once a line bills it; PENDING while a step waits.'),
  waiting: Type.Optional(Described(TraceWait, 'The first step still waiting, when it is not billed.')),
  accepted: Described(
    Closed({ ...TopicPosition.properties, acceptedAt: IsoDateTime }),
    'The first arrival: where the gateway put it on the usage topic, and when it accepted it.',
  ),
  stored: Closed({ storedAt: IsoDateTime }),
  duplicates: Described(
    Closed({ count: Type.Integer({ minimum: 0 }), arrivals: Type.Array(DroppedArrival, { maxItems: 100 }) }),
    'Later arrivals of the same id, dropped as duplicates of this first one (the first 100 listed).',
  ),
  rollup: Described(
    Closed({ metricKey: Type.String(), hour: Period }),
    'The hourly rollup bucket the event was folded into (live usage reads it).',
  ),
  subscriptions: Described(
    Type.Array(SubscriptionTrace),
    "The customer's subscriptions whose periods hold the event's timestamp; empty when none.",
  ),
});
export type EventTrace = Static<typeof EventTrace>;

/** The states of a period in the reconciliation. */
export const PERIOD_STATES = ['OPEN', 'CLOSED', 'SUMMARIZED'] as const;

/** A difference that should not exist, with the events that explain it (the first 20). */
export const ReconciliationDifference = Closed({
  code: StringEnum([
    'SUMMARY_COUNT_MISMATCH',
    'SUMMARY_QUANTITY_MISMATCH',
    'LATE_NOT_RECORDED',
    'INVOICE_QUANTITY_MISMATCH',
    'LATE_LINE_MISMATCH',
  ] as const),
  detail: Type.String({ minLength: 1 }),
  eventIds: Type.Array(ExternalEventId, { maxItems: 20 }),
});
export type ReconciliationDifference = Static<typeof ReconciliationDifference>;

/** Where some of a period's late records were billed. */
export const LateBilling = Closed({
  invoiceId: Uuid,
  number: Type.String(),
  position: Type.Integer({ minimum: 0 }),
  records: Type.Integer({ minimum: 1 }),
  quantity: DecimalString,
  lineQuantity: Described(DecimalString, "The line's quantity (its records, and any without a sequence)."),
});

/** One metric of one subscription's period, reconciled. */
export const PeriodReconciliation = Closed({
  subscriptionId: Uuid,
  customerId: CustomerId,
  planCode: PlanCode,
  planVersion: Type.Integer({ minimum: 1 }),
  metricKey: MetricKey,
  aggregation: Nullable(Aggregation),
  period: Period,
  state: StringEnum(PERIOD_STATES),
  events: Closed({
    received: Described(Type.Integer({ minimum: 0 }), 'Arrivals read from the topic: stored + duplicates.'),
    duplicatesDropped: Type.Integer({ minimum: 0 }),
    stored: Type.Integer({ minimum: 0 }),
    summarized: Described(Type.Integer({ minimum: 0 }), "Stored events read before the closing's marks."),
    late: Described(Type.Integer({ minimum: 0 }), 'Stored events read after them (billed as late usage).'),
  }),
  summary: Nullable(
    Closed({
      summaryId: Uuid,
      fingerprint: Sha256Hex,
      quantity: DecimalString,
      eventCount: Type.Integer({ minimum: 0 }),
      lateRecordsThrough: Nullable(Type.Integer({ minimum: 0 })),
    }),
  ),
  invoice: Nullable(
    Closed({
      ...TracedInvoice.properties,
      position: Type.Integer({ minimum: 0 }),
      quantity: DecimalString,
      includedUnits: DecimalString,
      billableUnits: DecimalString,
      amountCents: MinorUnits,
      amount: MajorAmount,
    }),
  ),
  lateRecords: Closed({
    count: Type.Integer({ minimum: 0 }),
    quantity: DecimalString,
    billed: Type.Array(LateBilling),
    unbilled: Described(Type.Integer({ minimum: 0 }), 'Late records not on an invoice yet (see `waiting`).'),
  }),
  linesUp: Described(Type.Boolean(), 'True when no difference is listed (waiting steps are not differences).'),
  differences: Type.Array(ReconciliationDifference),
  waiting: Described(Type.Array(TraceWait), 'Steps not taken yet: they explain counts not billed so far.'),
});
export type PeriodReconciliation = Static<typeof PeriodReconciliation>;

/** `GET /v1/reconciliation` query. */
export const RECONCILIATION_QUERY = {
  ...LIST_QUERY,
  customerId: Described(CustomerId, "One customer's periods; with `period`, the period holding that instant."),
  metric: Described(MetricKey, 'Only this metric.'),
  period: Described(IsoDateTime, 'An instant: the periods that hold it (not with from/to).'),
  from: Described(IsoDateTime, 'Periods starting at or after this instant (without `period`).'),
  to: Described(IsoDateTime, 'Periods starting before this instant (without `period`).'),
};

/** Stored usage that no subscription bills, per customer and metric, with the reason. */
export const UnbilledUsage = Closed({
  customerId: CustomerId,
  metricKey: Type.String(),
  reason: StringEnum(['SUBSCRIPTION_MISSING', 'METRIC_UNKNOWN', 'METRIC_NOT_ON_PLAN'] as const),
  detail: Type.String({ minLength: 1 }),
  eventCount: Type.Integer({ minimum: 1 }),
  amount: Described(DecimalString, "The events' amounts summed."),
  firstTimestamp: IsoDateTime,
  lastTimestamp: IsoDateTime,
  sampleEventIds: Type.Array(ExternalEventId, { maxItems: 5 }),
});
export type UnbilledUsage = Static<typeof UnbilledUsage>;

/** `GET /v1/reconciliation/unbilled` query. */
export const UNBILLED_QUERY = {
  ...LIST_QUERY,
  from: Described(IsoDateTime, 'Required: events timestamped at or after this instant.'),
  to: Described(IsoDateTime, 'Required: events timestamped before this instant.'),
  customerId: Described(CustomerId, 'Only this customer.'),
};

type Spec = Omit<RouteSpec, 'tag' | 'auth' | 'permission'>;
/** Every role reads them, and so do API keys with the usage:read scope. */
const read = (spec: Spec): RouteSpec => ({
  ...spec,
  tag: 'Reconciliation',
  auth: 'jwtOrApiKey',
  permission: 'usage:read',
});

/** The aggregation service's trace and reconciliation routes. */
export const RECONCILIATION_ROUTES: readonly RouteSpec[] = [
  read({
    method: 'get',
    path: '/v1/events/{id}',
    operationId: 'traceEvent',
    summary: 'Where one accepted usage event is: stored, summarized or late, and the invoice line that billed it',
    pathParams: { id: ExternalEventId },
    responses: { 200: { description: "The event's trace", schema: EventTrace } },
    problems: { 404: 'No event with this id has been consumed in your organization (yet)' },
  }),
  read({
    method: 'get',
    path: '/v1/reconciliation',
    operationId: 'reconcile',
    summary: "Periods' usage reconciled from events received to invoice lines, per metric",
    query: RECONCILIATION_QUERY,
    responses: { 200: { description: 'A page of reconciled periods', schema: Page(PeriodReconciliation) } },
  }),
  read({
    method: 'get',
    path: '/v1/reconciliation/unbilled',
    operationId: 'listUnbilledUsage',
    summary: 'Stored usage no subscription bills (no subscription, unknown metric, metric not on the plan)',
    query: UNBILLED_QUERY,
    responses: {
      200: { description: 'A page of unbilled usage per customer and metric', schema: Page(UnbilledUsage) },
    },
  }),
];
