// Events of `usageflow.invoices.v1`, produced by billing, keyed by subscriptionId.
// Consumers: webhook-dispatch (notifies the organization), subscription (suspends on failure),
// outside systems (accounting).
//
// Money: every amount of record is integer minor units (`amountCents`) + `currency`; `amount`
// beside it is the same value in major units as a JSON number, for display and for the webhook
// shape users expect. Unit prices and unrounded amounts are decimal strings. Line amounts are
// rounded half-up to the minor unit once; the invoice total is the sum of the rounded lines.
import { Type } from '@sinclair/typebox';
import {
  Closed,
  Currency,
  CustomerId,
  DecimalString,
  IsoDateTime,
  MajorAmount,
  MetricKey,
  MinorUnits,
  Period,
  PlanCode,
  StringEnum,
  TaggedUnion,
  Uuid,
  Described,
} from '../common';
import { defineEvent, keyBySubscription } from '../event-definition';
import { TOPICS } from '../topics';
import { EXAMPLE_CUSTOMER_ID, EXAMPLE_IDS, exampleEventId } from './examples';

const topic = TOPICS.invoices;
const key = keyBySubscription;

const Description = Type.String({ minLength: 1, maxLength: 500 });

/** The line amount unrounded, major units (what an audit recomputes the rounding from). */
const PreciseAmount = DecimalString;

/** The plan's fixed fee for the period. */
export const BaseInvoiceLine = Closed({
  kind: Type.Literal('base'),
  description: Description,
  preciseAmount: PreciseAmount,
  amountCents: MinorUnits,
  amount: MajorAmount,
});

const usageLineFields = {
  description: Description,
  metricKey: MetricKey,
  quantity: Described(DecimalString, "The period's aggregated quantity."),
  includedUnits: Described(DecimalString, "The plan metric's allowance, free of charge."),
  billableUnits: Described(DecimalString, 'What is charged: max(0, quantity - includedUnits).'),
  unitPrice: Described(DecimalString, 'The overage price per unit, major units, may be sub-cent.'),
  preciseAmount: Described(PreciseAmount, 'billableUnits x unitPrice, exact.'),
  amountCents: MinorUnits,
  amount: MajorAmount,
};

/** One metric's usage in the invoiced period. */
export const UsageInvoiceLine = Closed({ kind: Type.Literal('usage'), ...usageLineFields });

/**
 * Usage that arrived after an earlier period was invoiced, billed on this invoice and traceable
 * to its period. `quantity` is the late quantity; `includedUnits` what was left of that period's
 * allowance (so the late units are charged as if they had arrived on time).
 */
export const LateUsageInvoiceLine = Closed({ kind: Type.Literal('late_usage'), ...usageLineFields, period: Period });

/** An invoice line, told apart by `kind`. */
export const InvoiceLine = TaggedUnion('kind', [BaseInvoiceLine, UsageInvoiceLine, LateUsageInvoiceLine]);

/** The kinds of invoice lines. */
export const INVOICE_LINE_KINDS = ['base', 'usage', 'late_usage'] as const;

/**
 * invoice.created: an immutable invoice was issued for a closed period, status PENDING.
 * Its lines and amounts never change; only invoice.paid / invoice.failed follow.
 */
export const InvoiceCreatedData = Closed({
  invoiceId: Uuid,
  number: Type.String({
    pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$',
    description: 'The human invoice number, sequential per organization ("CLOUDAI-2025-0001").',
  }),
  subscriptionId: Uuid,
  customerId: CustomerId,
  planCode: PlanCode,
  planVersion: Type.Integer({ minimum: 1 }),
  period: Period,
  currency: Currency,
  amountCents: Described(MinorUnits, "The total: the sum of the lines' amountCents."),
  amount: MajorAmount,
  lines: Type.Array(InvoiceLine, { minItems: 1, maxItems: 500 }),
  issuedAt: IsoDateTime,
  dueAt: IsoDateTime,
});

/** invoice.paid: a payment attempt succeeded; the invoice is PAID (also from FAILED). */
export const InvoicePaidData = Closed({
  invoiceId: Uuid,
  subscriptionId: Uuid,
  customerId: CustomerId,
  paymentId: Uuid,
  currency: Currency,
  amountCents: MinorUnits,
  amount: MajorAmount,
  paidAt: IsoDateTime,
});

/** invoice.failed: the configured payment attempts are exhausted; the invoice is FAILED. */
export const InvoiceFailedData = Closed({
  invoiceId: Uuid,
  subscriptionId: Uuid,
  customerId: CustomerId,
  reason: Type.String({
    minLength: 1,
    maxLength: 500,
    description: 'Why the last attempt failed, as the provider reported it ("card_declined").',
  }),
  attempts: Type.Integer({ minimum: 1 }),
  lastPaymentId: Type.Optional(Uuid),
  failedAt: IsoDateTime,
});

/** What a payment attempt came to: paid, refused by the provider, or a technical error. */
export const PAYMENT_OUTCOMES = ['succeeded', 'declined', 'error'] as const;

/** payment.attempted: one attempt to collect an invoice, whatever its outcome (dunning log). */
export const PaymentAttemptedData = Closed({
  paymentId: Uuid,
  invoiceId: Uuid,
  subscriptionId: Uuid,
  customerId: CustomerId,
  attempt: Type.Integer({ minimum: 1, description: '1 for the first attempt, then 2, 3, ... per invoice.' }),
  outcome: StringEnum(PAYMENT_OUTCOMES),
  provider: Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$', description: 'The payment provider ("sandbox").' }),
  currency: Currency,
  amountCents: MinorUnits,
  amount: MajorAmount,
  attemptedAt: IsoDateTime,
  failureReason: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 500,
      description: 'Why it did not succeed, as the provider reported it ("card_declined").',
    }),
  ),
  nextAttemptAt: Type.Optional(Described(IsoDateTime, 'When dunning will try again; absent when it will not.')),
});

const march = { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' } as const;
const april = { start: '2025-04-01T00:00:00.000Z', end: '2025-05-01T00:00:00.000Z' } as const;
const ref = { subscriptionId: EXAMPLE_IDS.subscription, customerId: EXAMPLE_CUSTOMER_ID } as const;
const marchTotal = { currency: 'USD', amountCents: 12000, amount: 120 } as const;

/** The invoices topic's event types. */
export const INVOICE_EVENTS = [
  defineEvent({
    type: 'invoice.created',
    version: 1,
    topic,
    key,
    description: 'An immutable invoice was issued for a closed billing period (status PENDING).',
    data: InvoiceCreatedData,
    examples: [
      {
        // The reference scenario: $100 base + (12,000 - 10,000) x $0.01 = $120.
        id: exampleEventId(601),
        occurredAt: '2025-04-01T01:00:10.000Z',
        data: {
          invoiceId: EXAMPLE_IDS.invoice,
          number: 'CLOUDAI-2025-0001',
          ...ref,
          planCode: 'pro',
          planVersion: 1,
          period: march,
          ...marchTotal,
          lines: [
            { kind: 'base', description: 'Pro (monthly)', preciseAmount: '100.00', amountCents: 10000, amount: 100 },
            {
              kind: 'usage',
              description: 'API calls',
              metricKey: 'API_CALL',
              quantity: '12000',
              includedUnits: '10000',
              billableUnits: '2000',
              unitPrice: '0.01',
              preciseAmount: '20.00',
              amountCents: 2000,
              amount: 20,
            },
          ],
          issuedAt: '2025-04-01T01:00:10.000Z',
          dueAt: '2025-04-15T01:00:10.000Z',
        },
      },
      {
        // The next month, with the 3 calls of March that arrived after March was closed.
        id: exampleEventId(602),
        occurredAt: '2025-05-01T01:00:10.000Z',
        data: {
          invoiceId: EXAMPLE_IDS.aprilInvoice,
          number: 'CLOUDAI-2025-0002',
          ...ref,
          planCode: 'pro',
          planVersion: 1,
          period: april,
          currency: 'USD',
          amountCents: 10003,
          amount: 100.03,
          lines: [
            { kind: 'base', description: 'Pro (monthly)', preciseAmount: '100.00', amountCents: 10000, amount: 100 },
            {
              kind: 'usage',
              description: 'API calls',
              metricKey: 'API_CALL',
              quantity: '8000',
              includedUnits: '10000',
              billableUnits: '0',
              unitPrice: '0.01',
              preciseAmount: '0.00',
              amountCents: 0,
              amount: 0,
            },
            {
              kind: 'late_usage',
              description: 'API calls (late, March 2025)',
              metricKey: 'API_CALL',
              quantity: '3',
              includedUnits: '0',
              billableUnits: '3',
              unitPrice: '0.01',
              preciseAmount: '0.03',
              amountCents: 3,
              amount: 0.03,
              period: march,
            },
          ],
          issuedAt: '2025-05-01T01:00:10.000Z',
          dueAt: '2025-05-15T01:00:10.000Z',
        },
      },
    ],
  }),
  defineEvent({
    type: 'invoice.paid',
    version: 1,
    topic,
    key,
    description: 'An invoice was paid in full.',
    data: InvoicePaidData,
    examples: [
      {
        id: exampleEventId(603),
        occurredAt: '2025-04-09T10:00:00.000Z',
        data: {
          invoiceId: EXAMPLE_IDS.invoice,
          ...ref,
          paymentId: EXAMPLE_IDS.payment,
          ...marchTotal,
          paidAt: '2025-04-09T10:00:00.000Z',
        },
      },
    ],
  }),
  defineEvent({
    type: 'invoice.failed',
    version: 1,
    topic,
    key,
    description: 'Collecting an invoice failed after the configured attempts.',
    data: InvoiceFailedData,
    examples: [
      {
        id: exampleEventId(604),
        occurredAt: '2025-04-08T02:00:00.000Z',
        data: {
          invoiceId: EXAMPLE_IDS.invoice,
          ...ref,
          reason: 'card_declined',
          attempts: 3,
          lastPaymentId: EXAMPLE_IDS.declinedPayment,
          failedAt: '2025-04-08T02:00:00.000Z',
        },
      },
    ],
  }),
  defineEvent({
    type: 'payment.attempted',
    version: 1,
    topic,
    key,
    description: 'A payment of an invoice was attempted, with its outcome.',
    data: PaymentAttemptedData,
    examples: [
      {
        id: exampleEventId(605),
        occurredAt: '2025-04-01T01:05:00.000Z',
        data: {
          paymentId: EXAMPLE_IDS.declinedPayment,
          invoiceId: EXAMPLE_IDS.invoice,
          ...ref,
          attempt: 1,
          outcome: 'declined',
          provider: 'sandbox',
          ...marchTotal,
          attemptedAt: '2025-04-01T01:05:00.000Z',
          failureReason: 'card_declined',
          nextAttemptAt: '2025-04-04T01:05:00.000Z',
        },
      },
      {
        id: exampleEventId(606),
        occurredAt: '2025-04-09T10:00:00.000Z',
        data: {
          paymentId: EXAMPLE_IDS.payment,
          invoiceId: EXAMPLE_IDS.invoice,
          ...ref,
          attempt: 4,
          outcome: 'succeeded',
          provider: 'sandbox',
          ...marchTotal,
          attemptedAt: '2025-04-09T10:00:00.000Z',
        },
      },
    ],
  }),
] as const;
