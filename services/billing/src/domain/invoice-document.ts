// What a customer receives for an invoice, independent of the medium: the input both renderers
// (HTML page, PDF) take, and one view of it in display strings so the two show the same content.
// Pure: dates are formatted in UTC from the invoice's own instants, never from a clock or the
// host's time zone, and money is formatted from integer minor units by moving the decimal point
// in the digit string (no floating-point arithmetic ever touches an amount).
import {
  currencyMinorDigits,
  type InvoiceDetail,
  type InvoiceLineRecord,
  type InvoiceStatus,
  type Payment,
} from '@usageflow/contracts';

/** Everything an invoice document shows: the invoice, its issuer, its customer and metric names. */
export interface InvoiceDocument {
  invoice: InvoiceDetail;
  /** The issuer: the organization that bills its customer. */
  organization: { name: string | null };
  customer: { customerId: string; name: string | null; email: string | null };
  /** Metric names and units by metric key; a key may be missing (metric since deleted). */
  metrics: Record<string, { name: string; unit: string }>;
}

/** A labelled value ("Issued", "Mar 1, 2025"). */
export interface Fact {
  label: string;
  value: string;
}

/** One invoice line in display strings; the usage columns are empty on a base line. */
export interface InvoiceLineView {
  position: number;
  description: string;
  /** Smaller text under the description: the metric, the period late usage bills, the exact amount. */
  notes: string[];
  quantity: string;
  included: string;
  billable: string;
  unitPrice: string;
  amount: string;
}

/** One payment attempt in display strings. */
export interface PaymentAttemptView {
  attempt: string;
  attemptedAt: string;
  outcome: string;
  detail: string;
  amount: string;
}

/** An invoice document in display strings, the common ground of the HTML and PDF renderings. */
export interface InvoiceView {
  title: string;
  number: string;
  status: InvoiceStatus;
  statusLabel: string;
  issuer: string | null;
  customer: { id: string; name: string | null; email: string | null };
  /** Issued, due, billing period, plan. */
  facts: Fact[];
  lines: InvoiceLineView[];
  total: string;
  /** Paid at / failed at / next attempt / amount due. */
  payment: Fact[];
  attempts: PaymentAttemptView[];
}

const MS_PER_DAY = 86_400_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const PLAIN_DECIMAL = /^(\d+)(\.\d+)?$/;

/** Customer-facing invoice statuses. */
export const INVOICE_STATUS_LABELS: Readonly<Record<InvoiceStatus, string>> = Object.freeze({
  PENDING: 'Pending',
  PAID: 'Paid',
  FAILED: 'Payment failed',
});

/** Customer-facing payment attempt outcomes. */
export const PAYMENT_OUTCOME_LABELS: Readonly<Record<Payment['outcome'], string>> = Object.freeze({
  succeeded: 'Succeeded',
  declined: 'Declined',
  error: 'Error',
});

/** "1234567" -> "1,234,567": groups a string of integer digits by thousands. */
function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * "USD 1,234.50", "JPY 1,235", "KWD 12.345": integer minor units in major units with the
 * currency's minor digits (ISO 4217) and thousands separators.
 */
export function formatMoney(minorUnits: number, currency: string): string {
  if (!Number.isSafeInteger(minorUnits)) {
    throw new RangeError(`formatMoney: minor units must be a safe integer, got ${minorUnits}`);
  }
  const digits = currencyMinorDigits(currency);
  const text = String(Math.abs(minorUnits)).padStart(digits + 1, '0');
  const whole = groupThousands(digits === 0 ? text : text.slice(0, -digits));
  const fraction = digits === 0 ? '' : `.${text.slice(-digits)}`;
  return `${currency} ${minorUnits < 0 ? '-' : ''}${whole}${fraction}`;
}

/**
 * "12000" -> "12,000", "2.5" -> "2.5": thousands separators in the integer part; the fraction
 * is kept digit for digit. Anything that is not a plain decimal is shown unchanged.
 */
export function formatQuantity(decimal: string): string {
  const match = PLAIN_DECIMAL.exec(decimal);
  if (!match) return decimal;
  return `${groupThousands(match[1] ?? '')}${match[2] ?? ''}`;
}

/**
 * "USD 0.000002": a unit price exactly as priced. NOTE: sub-cent prices are normal for metered
 * usage, so the price is never rounded to the currency's minor unit.
 */
export function formatUnitPrice(price: string, currency: string): string {
  return `${currency} ${formatQuantity(price)}`;
}

function parseInstant(iso: string): Date {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new RangeError(`not an ISO 8601 instant: ${JSON.stringify(iso)}`);
  return date;
}

function monthDay(date: Date): string {
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}`;
}

function dateLabel(date: Date): string {
  return `${monthDay(date)}, ${date.getUTCFullYear()}`;
}

/** "Mar 1, 2025" (UTC). */
export function formatDate(iso: string): string {
  return dateLabel(parseInstant(iso));
}

/** "Mar 1, 2025, 09:05 UTC". */
export function formatDateTime(iso: string): string {
  const date = parseInstant(iso);
  const hh = String(date.getUTCHours()).padStart(2, '0');
  const mm = String(date.getUTCMinutes()).padStart(2, '0');
  return `${dateLabel(date)}, ${hh}:${mm} UTC`;
}

/**
 * "Mar 1 – Mar 31, 2025" for [2025-03-01, 2025-04-01): the days a period covers. NOTE: periods
 * are half-open, so an end at midnight UTC is not a day of the period and the last day shown is
 * the one before; an end later in a day (anniversary periods) still covers part of that day.
 */
export function formatPeriod(period: { start: string; end: string }): string {
  const start = parseInstant(period.start);
  const end = parseInstant(period.end);
  const endsAtMidnight = end.getTime() % MS_PER_DAY === 0;
  const lastDay = new Date(Math.max(start.getTime(), endsAtMidnight ? end.getTime() - MS_PER_DAY : end.getTime()));
  if (dateLabel(lastDay) === dateLabel(start)) return dateLabel(start);
  const from = start.getUTCFullYear() === lastDay.getUTCFullYear() ? monthDay(start) : dateLabel(start);
  return `${from} – ${dateLabel(lastDay)}`;
}

/** True when the unrounded amount equals the rounded minor units (trailing zeros aside). */
function isExact(preciseAmount: string, minorUnits: number, currency: string): boolean {
  const digits = currencyMinorDigits(currency);
  const text = String(minorUnits).padStart(digits + 1, '0');
  const rounded = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  const trim = (value: string) => (value.includes('.') ? value.replace(/\.?0+$/, '') : value);
  return trim(preciseAmount) === trim(rounded);
}

function lineNotes(line: InvoiceLineRecord, doc: InvoiceDocument): string[] {
  const notes: string[] = [];
  const { currency } = doc.invoice;
  if (line.metricKey !== undefined) {
    const metric = doc.metrics[line.metricKey];
    notes.push(metric ? `Metric: ${metric.name} (per ${metric.unit})` : `Metric: ${line.metricKey}`);
  }
  // NOTE: late usage is billed on a later invoice, so the customer must see which period it belongs to.
  if (line.kind === 'late_usage' && line.period) notes.push(`Usage of ${formatPeriod(line.period)}`);
  if (!isExact(line.preciseAmount, line.amountCents, currency)) {
    // the customer can check quantity x price against the exact amount, then the rounding
    notes.push(`Exact amount ${currency} ${formatQuantity(line.preciseAmount)} before rounding`);
  }
  return notes;
}

function lineView(line: InvoiceLineRecord, doc: InvoiceDocument): InvoiceLineView {
  const { currency } = doc.invoice;
  const usage = (value: string | undefined) => (value === undefined ? '' : formatQuantity(value));
  return {
    position: line.position,
    description: line.description,
    notes: lineNotes(line, doc),
    quantity: usage(line.quantity),
    included: usage(line.includedUnits),
    billable: usage(line.billableUnits),
    unitPrice: line.unitPrice === undefined ? '' : formatUnitPrice(line.unitPrice, currency),
    amount: formatMoney(line.amountCents, currency),
  };
}

function paymentFacts(invoice: InvoiceDetail): Fact[] {
  const facts: Fact[] = [];
  if (invoice.paidAt) facts.push({ label: 'Paid at', value: formatDateTime(invoice.paidAt) });
  if (invoice.failedAt) facts.push({ label: 'Payment failed at', value: formatDateTime(invoice.failedAt) });
  if (invoice.nextPaymentAttemptAt) {
    facts.push({ label: 'Next payment attempt', value: formatDateTime(invoice.nextPaymentAttemptAt) });
  }
  if (invoice.paymentAttempts > 0) facts.push({ label: 'Payment attempts', value: String(invoice.paymentAttempts) });
  // a FAILED invoice is still payable, so it stays due like a PENDING one
  if (invoice.status !== 'PAID') {
    facts.push({ label: 'Amount due', value: formatMoney(invoice.amountCents, invoice.currency) });
  }
  return facts;
}

function attemptView(payment: Payment): PaymentAttemptView {
  return {
    attempt: `#${payment.attempt}`,
    attemptedAt: formatDateTime(payment.attemptedAt),
    outcome: PAYMENT_OUTCOME_LABELS[payment.outcome],
    detail: payment.failureReason ?? payment.reference ?? '',
    amount: formatMoney(payment.amountCents, payment.currency),
  };
}

/** The invoice document in display strings, lines in position order, payment attempts oldest first. */
export function invoiceView(doc: InvoiceDocument): InvoiceView {
  const { invoice } = doc;
  return {
    title: `Invoice ${invoice.number}`,
    number: invoice.number,
    status: invoice.status,
    statusLabel: INVOICE_STATUS_LABELS[invoice.status],
    issuer: doc.organization.name,
    customer: { id: doc.customer.customerId, name: doc.customer.name, email: doc.customer.email },
    facts: [
      { label: 'Issued', value: formatDate(invoice.issuedAt) },
      { label: 'Due', value: formatDate(invoice.dueAt) },
      { label: 'Billing period', value: formatPeriod(invoice.period) },
      { label: 'Plan', value: `${invoice.planCode} (version ${invoice.planVersion})` },
    ],
    lines: [...invoice.lines].sort((a, b) => a.position - b.position).map((line) => lineView(line, doc)),
    total: formatMoney(invoice.amountCents, invoice.currency),
    payment: paymentFacts(invoice),
    attempts: [...invoice.payments].sort((a, b) => a.attempt - b.attempt).map(attemptView),
  };
}
