// Events of `usageflow.usage-summaries.v1`, produced by aggregation, keyed by subscriptionId.
// Billing prices them; each carries the plan reference so it can be priced without waiting for
// the subscriptions topic (Kafka orders nothing across topics).
import { Type } from '@sinclair/typebox';
import {
  Aggregation,
  Closed,
  CustomerId,
  DecimalString,
  ExternalEventId,
  HighWaterMarks,
  IsoDateTime,
  MetricKey,
  Period,
  PlanCode,
  Sha256Hex,
  Uuid,
  Described,
} from '../common';
import { defineEvent, keyBySubscription } from '../event-definition';
import { TOPICS } from '../topics';
import { EXAMPLE_CUSTOMER_ID, EXAMPLE_IDS, exampleEventId } from './examples';

const topic = TOPICS.usageSummaries;

/** One metric's total over a period. */
export const MetricSummary = Closed({
  metricKey: MetricKey,
  aggregation: Aggregation,
  quantity: Described(DecimalString, 'The aggregated quantity, exact ("12000", "2.5"); "0" when no event arrived.'),
  eventCount: Type.Integer({ minimum: 0, description: 'Distinct events counted (after deduplication).' }),
});

/**
 * usage.period_summarized: the usage of a closed period, final. Summarized once aggregation
 * consumed the usage topic up to the closing's high-water marks, for every metric of the plan.
 * `fingerprint` is the SHA-256 of the canonical summary (period, metrics and the ids of the
 * events counted), so a replay can prove it reproduced the same invoice input.
 */
export const UsagePeriodSummarizedData = Closed({
  subscriptionId: Uuid,
  customerId: CustomerId,
  planCode: PlanCode,
  planVersion: Type.Integer({ minimum: 1 }),
  period: Period,
  metrics: Type.Array(MetricSummary, { maxItems: 100 }),
  fingerprint: Sha256Hex,
  highWaterMarks: Described(
    HighWaterMarks,
    "The high-water marks the summary was taken at (those of the period's closing).",
  ),
  lateRecordsThrough: Type.Optional(
    Described(
      Type.Integer({ minimum: 0 }),
      "How many of the subscription's late records (usage.late_recorded, by `sequence`) aggregation " +
        "had recorded when it took this summary. This period's invoice bills exactly those of them " +
        'not billed yet, whenever billing happens to read them: a replay puts every late record on ' +
        'the same invoice. Absent in summaries taken before it existed.',
    ),
  ),
});

/**
 * usage.late_recorded: usage timestamped in an already summarized period arrived after its
 * closing. It is never added to that period's invoice (invoices are immutable) but billed as a
 * "late usage" line on the next one, priced with the original period's plan version.
 * `quantity` is the increase of the period's aggregated quantity (for SUM the late amounts; for
 * MAX, LATEST and UNIQUE_COUNT the difference it makes to the period's value), never negative.
 */
export const UsageLateRecordedData = Closed({
  subscriptionId: Uuid,
  customerId: CustomerId,
  planCode: PlanCode,
  planVersion: Type.Integer({ minimum: 1 }),
  metricKey: MetricKey,
  aggregation: Aggregation,
  period: Described(Period, 'The original (already invoiced) period.'),
  quantity: DecimalString,
  eventCount: Type.Integer({ minimum: 1 }),
  eventIds: Type.Optional(
    Described(
      Type.Array(ExternalEventId, { maxItems: 1000 }),
      "The late events' ids, for traceability (omitted when there are too many).",
    ),
  ),
  detectedAt: Described(IsoDateTime, 'When aggregation detected it.'),
  sequence: Type.Optional(
    Described(
      Type.Integer({ minimum: 1 }),
      "Its place among the subscription's late records: 1, 2, 3, ... without gaps, in the order " +
        'aggregation recorded them. It is billed on the invoice of the first later summary whose ' +
        '`lateRecordsThrough` reaches it. Absent in records made before it existed.',
    ),
  ),
});

const march = { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' } as const;
const marks = [
  { partition: 0, offset: '5012' },
  { partition: 1, offset: '4870' },
];

/** The usage summaries topic's event types. */
export const SUMMARY_EVENTS = [
  defineEvent({
    type: 'usage.period_summarized',
    version: 1,
    topic,
    key: keyBySubscription,
    description: "A closed period's usage was summarized per metric; billing invoices from it.",
    data: UsagePeriodSummarizedData,
    examples: [
      {
        id: exampleEventId(501),
        occurredAt: '2025-04-01T01:00:05.000Z',
        data: {
          subscriptionId: EXAMPLE_IDS.subscription,
          customerId: EXAMPLE_CUSTOMER_ID,
          planCode: 'pro',
          planVersion: 1,
          period: march,
          metrics: [{ metricKey: 'API_CALL', aggregation: 'SUM', quantity: '12000', eventCount: 12000 }],
          fingerprint: '3b4c2a1d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b',
          highWaterMarks: marks,
          lateRecordsThrough: 0,
        },
      },
    ],
  }),
  defineEvent({
    type: 'usage.late_recorded',
    version: 1,
    topic,
    key: keyBySubscription,
    description: 'Usage for an already summarized period arrived late; billed on the next invoice.',
    data: UsageLateRecordedData,
    examples: [
      {
        id: exampleEventId(502),
        occurredAt: '2025-04-02T08:00:00.000Z',
        data: {
          subscriptionId: EXAMPLE_IDS.subscription,
          customerId: EXAMPLE_CUSTOMER_ID,
          planCode: 'pro',
          planVersion: 1,
          metricKey: 'API_CALL',
          aggregation: 'SUM',
          period: march,
          quantity: '3',
          eventCount: 3,
          eventIds: ['req_late_1', 'req_late_2', 'req_late_3'],
          detectedAt: '2025-04-02T08:00:00.000Z',
          sequence: 1,
        },
      },
    ],
  }),
] as const;
