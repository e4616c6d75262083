// The billing service's HTTP surface: invoices (listed, read with their lines and payment
// attempts, rendered as the HTML page and the PDF a customer receives), payments (reported by the
// organization's own payment system, or retried through the customer's payment provider), and
// the payment sandbox that sets a customer's outcome for tests.
//
// Money follows the conventions: amounts of record are integer minor units (`amountCents`) +
// `currency`, with `amount` beside them in major units; prices and unrounded amounts are decimal
// strings.
import { Type, type Static } from '@sinclair/typebox';
import {
  Aggregation,
  Closed,
  Currency,
  CustomerId,
  DecimalString,
  Described,
  IsoDateTime,
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
import { INVOICE_LINE_KINDS, PAYMENT_OUTCOMES } from '../events/invoices';
import type { RouteSpec } from './openapi';
import { LIST_QUERY, Page } from './pagination';

/** An invoice's status: PENDING until paid, FAILED when dunning gave up (still payable). */
export const INVOICE_STATUSES = ['PENDING', 'PAID', 'FAILED'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

/**
 * What an invoice line was computed from, so it can be explained and re-derived: the usage
 * summary (its event id and fingerprint) and the metric's total and event count, or the late
 * usage records billed on it.
 */
export const InvoiceLineSource = Closed({
  summaryEventId: Type.Optional(Described(Uuid, 'The usage.period_summarized event the invoice was built from.')),
  fingerprint: Type.Optional(Described(Sha256Hex, "That summary's fingerprint (its events' identity).")),
  aggregation: Type.Optional(Aggregation),
  eventCount: Type.Optional(
    Described(Type.Integer({ minimum: 0 }), 'Distinct events counted into the quantity (after deduplication).'),
  ),
  lateRecordEventIds: Type.Optional(
    Described(Type.Array(Uuid), 'The usage.late_recorded events folded into a late usage line.'),
  ),
  planVersion: Type.Optional(Described(Type.Integer({ minimum: 1 }), 'The plan version the line was priced with.')),
});
export type InvoiceLineSource = Static<typeof InvoiceLineSource>;

/**
 * One line of an invoice as read: the fields of the published line (see `InvoiceLine` of
 * invoice.created) plus its position and its source. Usage and late usage lines carry the
 * metric fields; a late usage line also the earlier period it bills.
 */
export const InvoiceLineRecord = Closed({
  position: Type.Integer({ minimum: 1 }),
  kind: StringEnum(INVOICE_LINE_KINDS),
  description: Type.String(),
  metricKey: Type.Optional(MetricKey),
  quantity: Type.Optional(DecimalString),
  includedUnits: Type.Optional(DecimalString),
  billableUnits: Type.Optional(DecimalString),
  unitPrice: Type.Optional(DecimalString),
  period: Type.Optional(Described(Period, 'For a late usage line: the earlier period it bills.')),
  preciseAmount: Described(DecimalString, 'The exact amount before rounding, major units.'),
  amountCents: MinorUnits,
  amount: MajorAmount,
  source: InvoiceLineSource,
});
export type InvoiceLineRecord = Static<typeof InvoiceLineRecord>;

/** Who collected (or tried to collect) a payment: the sandbox provider, or the organization. */
export const PAYMENT_PROVIDERS = ['sandbox', 'external'] as const;

/** One payment attempt of an invoice, whatever its outcome. */
export const Payment = Closed({
  id: Uuid,
  invoiceId: Uuid,
  attempt: Type.Integer({ minimum: 1 }),
  provider: StringEnum(PAYMENT_PROVIDERS),
  outcome: StringEnum(PAYMENT_OUTCOMES),
  failureReason: Nullable(Type.String()),
  reference: Nullable(Described(Type.String(), "The organization's own reference of an external payment.")),
  currency: Currency,
  amountCents: MinorUnits,
  amount: MajorAmount,
  attemptedAt: IsoDateTime,
  nextAttemptAt: Nullable(
    Described(IsoDateTime, 'When dunning tries again after this attempt; null when it will not.'),
  ),
});
export type Payment = Static<typeof Payment>;

const invoiceFields = {
  id: Uuid,
  number: Described(Type.String(), 'Sequential per organization with no gaps ("INV-000001").'),
  subscriptionId: Uuid,
  customerId: CustomerId,
  planCode: PlanCode,
  planVersion: Type.Integer({ minimum: 1 }),
  period: Period,
  status: StringEnum(INVOICE_STATUSES),
  currency: Currency,
  amountCents: Described(MinorUnits, "The total: the sum of the lines' amountCents."),
  amount: MajorAmount,
  lines: Type.Array(InvoiceLineRecord),
  issuedAt: IsoDateTime,
  dueAt: IsoDateTime,
  paidAt: Nullable(IsoDateTime),
  failedAt: Nullable(IsoDateTime),
  paymentAttempts: Type.Integer({ minimum: 0 }),
  nextPaymentAttemptAt: Nullable(
    Described(IsoDateTime, 'When the payment provider will be charged next (dunning); null when not scheduled.'),
  ),
  testClockId: Nullable(Described(Uuid, "The subscription's test clock: dunning follows its time.")),
};

/** An invoice with its lines (as listed). */
export const Invoice = Closed(invoiceFields);
export type Invoice = Static<typeof Invoice>;

/** An invoice with its lines and every payment attempt, oldest first. */
export const InvoiceDetail = Closed({ ...invoiceFields, payments: Type.Array(Payment) });
export type InvoiceDetail = Static<typeof InvoiceDetail>;

/** `GET /v1/invoices` filters. */
export const INVOICE_LIST_QUERY = {
  ...LIST_QUERY,
  status: StringEnum(INVOICE_STATUSES),
  customerId: CustomerId,
  subscriptionId: Uuid,
  periodFrom: Described(IsoDateTime, 'Only invoices whose period starts at or after this instant.'),
  periodTo: Described(IsoDateTime, 'Only invoices whose period ends at or before this instant.'),
};

/**
 * `POST /v1/invoices/{id}/payments`: the organization's own payment system reports that the
 * invoice was paid in full. `reference` identifies the payment there: reporting the same
 * reference again answers the recorded payment instead of paying twice.
 */
export const RecordPaymentBody = Closed({
  reference: Type.String({ minLength: 1, maxLength: 255, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
  amountCents: Described(MinorUnits, "Must equal the invoice's amountCents (no partial payments)."),
  currency: Described(Currency, "Must equal the invoice's currency."),
  paidAt: Type.Optional(Described(IsoDateTime, 'When it was paid; defaults to now (the test clock time).')),
});
export type RecordPaymentBody = Static<typeof RecordPaymentBody>;

/** The outcomes the sandbox provider can be set to answer for a customer. */
export const SANDBOX_OUTCOMES = ['succeed', 'decline', 'error'] as const;

/**
 * `PUT /v1/payment-sandbox/customers/{customerId}`: from now on the sandbox provider collects
 * this customer's invoices with this outcome. A customer without a sandbox setting has no
 * payment provider: its invoices wait for an external payment.
 */
export const SandboxCustomerBody = Closed({
  outcome: StringEnum(SANDBOX_OUTCOMES),
  failureReason: Type.Optional(
    Described(Type.String({ minLength: 1, maxLength: 500 }), 'Reported on decline/error ("card_declined").'),
  ),
});
export type SandboxCustomerBody = Static<typeof SandboxCustomerBody>;

/** A customer's sandbox setting. */
export const SandboxCustomer = Closed({
  customerId: CustomerId,
  outcome: StringEnum(SANDBOX_OUTCOMES),
  failureReason: Nullable(Type.String()),
  updatedAt: IsoDateTime,
});
export type SandboxCustomer = Static<typeof SandboxCustomer>;

type Spec = Omit<RouteSpec, 'auth' | 'permission' | 'tag'>;
/** Reads: every role, and API keys with billing:read. */
const read = (spec: Spec): RouteSpec => ({ ...spec, tag: 'Billing', auth: 'jwtOrApiKey', permission: 'billing:read' });
/** Payments: OWNER and ADMIN, and API keys with billing:manage. */
const manage = (spec: Spec): RouteSpec => ({
  ...spec,
  tag: 'Billing',
  auth: 'jwtOrApiKey',
  permission: 'billing:manage',
});

const invoiceId = { id: Uuid };

/** Every route of the billing service. */
export const BILLING_ROUTES: readonly RouteSpec[] = [
  read({
    method: 'get',
    path: '/v1/invoices',
    operationId: 'listInvoices',
    summary: 'List invoices, newest first (filter by status, customer, subscription, period)',
    query: INVOICE_LIST_QUERY,
    responses: { 200: { description: 'A page of invoices', schema: Page(Invoice) } },
  }),
  read({
    method: 'get',
    path: '/v1/invoices/{id}',
    operationId: 'getInvoice',
    summary: 'Get an invoice with its lines and payment attempts',
    pathParams: invoiceId,
    responses: { 200: { description: 'The invoice', schema: InvoiceDetail } },
  }),
  read({
    method: 'get',
    path: '/v1/invoices/{id}/html',
    operationId: 'renderInvoiceHtml',
    summary: 'The invoice as the HTML page a customer receives',
    pathParams: invoiceId,
    responses: { 200: { description: 'A self-contained HTML page', contentType: 'text/html' } },
  }),
  read({
    method: 'get',
    path: '/v1/invoices/{id}/pdf',
    operationId: 'renderInvoicePdf',
    summary: 'The invoice as a PDF document',
    pathParams: invoiceId,
    responses: { 200: { description: 'A PDF document', contentType: 'application/pdf' } },
  }),
  manage({
    method: 'post',
    path: '/v1/invoices/{id}/payments',
    operationId: 'recordInvoicePayment',
    summary: "Report a payment made through the organization's own payment system",
    pathParams: invoiceId,
    body: RecordPaymentBody,
    idempotent: true,
    responses: {
      201: { description: 'Recorded; the invoice is PAID', schema: InvoiceDetail },
      200: { description: 'This reference was already recorded; nothing changed', schema: InvoiceDetail },
    },
    problems: {
      409: 'The invoice is already paid (by another payment)',
      422: 'The amount or currency is not the invoice total',
    },
  }),
  manage({
    method: 'post',
    path: '/v1/invoices/{id}/retry',
    operationId: 'retryInvoicePayment',
    summary: "Charge the customer's payment provider now (a PENDING or FAILED invoice)",
    pathParams: invoiceId,
    idempotent: true,
    responses: { 200: { description: 'The invoice after the attempt', schema: InvoiceDetail } },
    problems: { 409: 'The invoice is already paid, or its customer has no payment provider' },
  }),
  manage({
    method: 'put',
    path: '/v1/payment-sandbox/customers/{customerId}',
    operationId: 'setSandboxCustomer',
    summary: "Set how the sandbox payment provider answers for a customer's invoices",
    pathParams: { customerId: CustomerId },
    body: SandboxCustomerBody,
    responses: { 200: { description: "The customer's sandbox setting", schema: SandboxCustomer } },
  }),
];
