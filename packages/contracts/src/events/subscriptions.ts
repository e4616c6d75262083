// Events of `usageflow.subscriptions.v1`, produced by subscription, keyed by subscriptionId
// (test clock events by their test clock id).
// Consumers: aggregation (current periods, when to summarize), billing (invoicing, dunning).
import { Type } from '@sinclair/typebox';
import {
  Closed,
  CustomerId,
  HighWaterMarks,
  IsoDateTime,
  Label,
  Nullable,
  Period,
  PlanCode,
  StringEnum,
  Uuid,
  Described,
} from '../common';
import { defineEvent, keyBySubscription, keyByTestClock } from '../event-definition';
import { TOPICS } from '../topics';
import { EXAMPLE_CUSTOMER_ID, EXAMPLE_IDS, exampleEventId } from './examples';

const topic = TOPICS.subscriptions;

const PlanVersionNumber = Type.Integer({ minimum: 1 });

/** subscription.created: a customer was subscribed to one version of a plan. */
export const SubscriptionCreatedData = Closed({
  subscriptionId: Uuid,
  customerId: CustomerId,
  planCode: PlanCode,
  planVersion: PlanVersionNumber,
  startAt: IsoDateTime,
  billingAnchor: Described(
    IsoDateTime,
    'The instant periods are counted from (a monthly anchor on the 31st ends short months early).',
  ),
  currentPeriod: Period,
  testClockId: Type.Optional(
    Described(Uuid, 'Present when the subscription runs on a test clock instead of wall time.'),
  ),
});

/**
 * subscription.period_closed: a billing period [start, end) is closed for usage. Emitted once
 * the grace window after its end has passed. `usageHighWaterMarks` are the usage topic's
 * high-water marks at closing: aggregation summarizes the period only after it has consumed up
 * to them, so the invoice contains exactly the events accepted before the closing.
 */
export const SubscriptionPeriodClosedData = Closed({
  subscriptionId: Uuid,
  customerId: CustomerId,
  planCode: PlanCode,
  planVersion: PlanVersionNumber,
  period: Period,
  closedAt: Described(IsoDateTime, "When the closing ran (wall time, or the test clock's time)."),
  graceEndsAt: Described(IsoDateTime, 'period.end + the configured grace window.'),
  usageHighWaterMarks: HighWaterMarks,
  nextPeriod: Described(
    Nullable(Period),
    'The period that follows, or null when the subscription ended with this one.',
  ),
  testClockId: Type.Optional(Uuid),
});

/** Why a subscription was suspended: dunning gave up, or an operator did it. */
export const SUSPENSION_REASONS = ['PAYMENT_FAILED', 'MANUAL'] as const;

/** subscription.suspended: the subscription stops being served (and billed) from effectiveAt. */
export const SubscriptionSuspendedData = Closed({
  subscriptionId: Uuid,
  customerId: CustomerId,
  reason: StringEnum(SUSPENSION_REASONS),
  invoiceId: Type.Optional(Described(Uuid, 'The invoice whose payment failed, for PAYMENT_FAILED.')),
  effectiveAt: IsoDateTime,
});

/** Why a subscription was reactivated: the overdue invoice got paid, or an operator did it. */
export const REACTIVATION_REASONS = ['PAYMENT_SUCCEEDED', 'MANUAL'] as const;

/** subscription.reactivated: a suspended subscription is active again from effectiveAt. */
export const SubscriptionReactivatedData = Closed({
  subscriptionId: Uuid,
  customerId: CustomerId,
  reason: StringEnum(REACTIVATION_REASONS),
  invoiceId: Type.Optional(Uuid),
  effectiveAt: IsoDateTime,
});

/**
 * subscription.cancelled: the subscription ends at effectiveAt: the current period's end when
 * `atPeriodEnd`, else the cancellation time (its last period is then closed short at that time,
 * and that period_closed has no next period).
 */
export const SubscriptionCancelledData = Closed({
  subscriptionId: Uuid,
  customerId: CustomerId,
  atPeriodEnd: Type.Boolean(),
  effectiveAt: IsoDateTime,
  reason: Type.Optional(Type.String({ maxLength: 500 })),
});

/** test_clock.created: a simulated clock exists, frozen at frozenTime until advanced. */
export const TestClockCreatedData = Closed({
  testClockId: Uuid,
  name: Type.Optional(Label),
  frozenTime: IsoDateTime,
});

/**
 * test_clock.advanced: the clock jumped from `from` to `to` (to > from). Everything due in
 * between (period closings, dunning retries) happens as if that time had passed.
 */
export const TestClockAdvancedData = Closed({
  testClockId: Uuid,
  from: IsoDateTime,
  to: IsoDateTime,
});

const ref = {
  subscriptionId: EXAMPLE_IDS.subscription,
  customerId: EXAMPLE_CUSTOMER_ID,
} as const;
const march = { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' } as const;
const april = { start: '2025-04-01T00:00:00.000Z', end: '2025-05-01T00:00:00.000Z' } as const;

/** The subscriptions topic's event types. */
export const SUBSCRIPTION_EVENTS = [
  defineEvent({
    type: 'subscription.created',
    version: 1,
    topic,
    key: keyBySubscription,
    description: 'A customer was subscribed to a plan version; its first period is open.',
    data: SubscriptionCreatedData,
    examples: [
      {
        id: exampleEventId(301),
        occurredAt: '2025-03-01T00:00:00.000Z',
        data: {
          ...ref,
          planCode: 'pro',
          planVersion: 1,
          startAt: march.start,
          billingAnchor: march.start,
          currentPeriod: march,
        },
      },
      {
        id: exampleEventId(302),
        occurredAt: '2025-03-01T00:00:00.000Z',
        data: {
          subscriptionId: '543e001a-f54f-4426-a347-40ac5de7bc6e',
          customerId: 'user_456',
          planCode: 'pro',
          planVersion: 1,
          startAt: march.start,
          billingAnchor: march.start,
          currentPeriod: march,
          testClockId: EXAMPLE_IDS.testClock,
        },
      },
    ],
  }),
  defineEvent({
    type: 'subscription.period_closed',
    version: 1,
    topic,
    key: keyBySubscription,
    description: 'A billing period was closed for usage, with the usage topic high-water marks at closing.',
    data: SubscriptionPeriodClosedData,
    examples: [
      {
        id: exampleEventId(303),
        occurredAt: '2025-04-01T01:00:00.000Z',
        data: {
          ...ref,
          planCode: 'pro',
          planVersion: 1,
          period: march,
          closedAt: '2025-04-01T01:00:00.000Z',
          graceEndsAt: '2025-04-01T01:00:00.000Z',
          usageHighWaterMarks: [
            { partition: 0, offset: '5012' },
            { partition: 1, offset: '4870' },
          ],
          nextPeriod: april,
        },
      },
    ],
  }),
  defineEvent({
    type: 'subscription.suspended',
    version: 1,
    topic,
    key: keyBySubscription,
    description: 'A subscription was suspended (dunning exhausted its retries, or manually).',
    data: SubscriptionSuspendedData,
    examples: [
      {
        id: exampleEventId(304),
        occurredAt: '2025-04-08T02:00:00.000Z',
        data: {
          ...ref,
          reason: 'PAYMENT_FAILED',
          invoiceId: EXAMPLE_IDS.invoice,
          effectiveAt: '2025-04-08T02:00:00.000Z',
        },
      },
    ],
  }),
  defineEvent({
    type: 'subscription.reactivated',
    version: 1,
    topic,
    key: keyBySubscription,
    description: 'A suspended subscription became active again.',
    data: SubscriptionReactivatedData,
    examples: [
      {
        id: exampleEventId(305),
        occurredAt: '2025-04-09T10:00:00.000Z',
        data: {
          ...ref,
          reason: 'PAYMENT_SUCCEEDED',
          invoiceId: EXAMPLE_IDS.invoice,
          effectiveAt: '2025-04-09T10:00:00.000Z',
        },
      },
    ],
  }),
  defineEvent({
    type: 'subscription.cancelled',
    version: 1,
    topic,
    key: keyBySubscription,
    description: 'A subscription was cancelled, now or at the end of its current period.',
    data: SubscriptionCancelledData,
    examples: [
      {
        id: exampleEventId(306),
        occurredAt: '2025-04-20T15:00:00.000Z',
        data: { ...ref, atPeriodEnd: true, effectiveAt: april.end, reason: 'Moving to annual contract' },
      },
    ],
  }),
  defineEvent({
    type: 'test_clock.created',
    version: 1,
    topic,
    key: keyByTestClock,
    description: 'A test clock was created, frozen at a simulated time.',
    data: TestClockCreatedData,
    examples: [
      {
        id: exampleEventId(307),
        occurredAt: '2025-03-01T00:00:00.000Z',
        data: { testClockId: EXAMPLE_IDS.testClock, name: 'March billing dry run', frozenTime: march.start },
      },
    ],
  }),
  defineEvent({
    type: 'test_clock.advanced',
    version: 1,
    topic,
    key: keyByTestClock,
    description: 'A test clock moved forward; everything due in between happens.',
    data: TestClockAdvancedData,
    examples: [
      {
        id: exampleEventId(308),
        occurredAt: '2025-04-01T02:00:00.000Z',
        data: { testClockId: EXAMPLE_IDS.testClock, from: march.start, to: '2025-04-01T02:00:00.000Z' },
      },
    ],
  }),
] as const;
