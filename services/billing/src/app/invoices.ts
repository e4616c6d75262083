// Reading invoices: the list (newest first, filtered), one invoice with its lines and payment
// attempts, and the document a customer receives (the invoice plus who issued it to whom).
// Every query is scoped to the caller's organization.
import {
  toMajorAmount,
  type Invoice,
  type InvoiceDetail,
  type InvoiceLineRecord,
  type InvoiceStatus,
  type PageOf,
  type PageRequest,
  type Payment,
} from '@usageflow/contracts';
import { iso, isoOrNull, type Knex } from '@usageflow/db';
import { keysetPage } from '@usageflow/http';
import { billingErrors } from '../domain/errors';
import type { InvoiceDocument } from '../domain/invoice-document';
import type { BillingContext, Caller } from './context';

interface InvoiceRow {
  id: string;
  organization_id: string;
  number: string;
  subscription_id: string;
  customer_id: string;
  plan_code: string;
  plan_version: number;
  period_start: Date;
  period_end: Date;
  status: InvoiceStatus;
  currency: string;
  amount_cents: string;
  issued_at: Date;
  due_at: Date;
  paid_at: Date | null;
  failed_at: Date | null;
  payment_attempts: number;
  next_attempt_at: Date | null;
  test_clock_id: string | null;
}

interface LineRow {
  invoice_id: string;
  position: number;
  kind: InvoiceLineRecord['kind'];
  description: string;
  metric_key: string | null;
  quantity: string | null;
  included_units: string | null;
  billable_units: string | null;
  unit_price: string | null;
  period_start: Date | null;
  period_end: Date | null;
  precise_amount: string;
  amount_cents: string;
  source: InvoiceLineRecord['source'];
}

interface PaymentRow {
  id: string;
  invoice_id: string;
  attempt: number;
  provider: Payment['provider'];
  outcome: Payment['outcome'];
  failure_reason: string | null;
  reference: string | null;
  currency: string;
  amount_cents: string;
  attempted_at: Date;
  next_attempt_at: Date | null;
}

const INVOICE_COLUMNS = [
  'id',
  'organization_id',
  'number',
  'subscription_id',
  'customer_id',
  'plan_code',
  'plan_version',
  'period_start',
  'period_end',
  'status',
  'currency',
  'amount_cents',
  'issued_at',
  'due_at',
  'paid_at',
  'failed_at',
  'payment_attempts',
  'next_attempt_at',
  'test_clock_id',
];

function toLine(row: LineRow, currency: string): InvoiceLineRecord {
  const cents = Number(row.amount_cents);
  return {
    position: row.position,
    kind: row.kind,
    description: row.description,
    ...(row.metric_key !== null ? { metricKey: row.metric_key } : {}),
    ...(row.quantity !== null ? { quantity: row.quantity } : {}),
    ...(row.included_units !== null ? { includedUnits: row.included_units } : {}),
    ...(row.billable_units !== null ? { billableUnits: row.billable_units } : {}),
    ...(row.unit_price !== null ? { unitPrice: row.unit_price } : {}),
    ...(row.period_start && row.period_end
      ? { period: { start: iso(row.period_start), end: iso(row.period_end) } }
      : {}),
    preciseAmount: row.precise_amount,
    amountCents: cents,
    amount: toMajorAmount(cents, currency),
    source: row.source,
  };
}

function toInvoice(row: InvoiceRow, lines: readonly LineRow[]): Invoice {
  const cents = Number(row.amount_cents);
  return {
    id: row.id,
    number: row.number,
    subscriptionId: row.subscription_id,
    customerId: row.customer_id,
    planCode: row.plan_code,
    planVersion: row.plan_version,
    period: { start: iso(row.period_start), end: iso(row.period_end) },
    status: row.status,
    currency: row.currency,
    amountCents: cents,
    amount: toMajorAmount(cents, row.currency),
    lines: lines.map((l) => toLine(l, row.currency)),
    issuedAt: iso(row.issued_at),
    dueAt: iso(row.due_at),
    paidAt: isoOrNull(row.paid_at),
    failedAt: isoOrNull(row.failed_at),
    paymentAttempts: row.payment_attempts,
    nextPaymentAttemptAt: isoOrNull(row.next_attempt_at),
    testClockId: row.test_clock_id,
  };
}

function toPayment(row: PaymentRow): Payment {
  const cents = Number(row.amount_cents);
  return {
    id: row.id,
    invoiceId: row.invoice_id,
    attempt: row.attempt,
    provider: row.provider,
    outcome: row.outcome,
    failureReason: row.failure_reason,
    reference: row.reference,
    currency: row.currency,
    amountCents: cents,
    amount: toMajorAmount(cents, row.currency),
    attemptedAt: iso(row.attempted_at),
    nextAttemptAt: isoOrNull(row.next_attempt_at),
  };
}

async function linesOf(db: Knex | Knex.Transaction, ids: readonly string[]): Promise<Map<string, LineRow[]>> {
  const rows = await db<LineRow>('invoice_lines')
    .whereIn('invoice_id', ids)
    .orderBy([{ column: 'invoice_id' }, { column: 'position' }])
    .select(
      '*',
      db.raw('quantity::text as quantity'),
      db.raw('included_units::text as included_units'),
      db.raw('billable_units::text as billable_units'),
      db.raw('unit_price::text as unit_price'),
      db.raw('precise_amount::text as precise_amount'),
    );
  const out = new Map<string, LineRow[]>();
  for (const r of rows) {
    const list = out.get(r.invoice_id) ?? [];
    list.push(r);
    out.set(r.invoice_id, list);
  }
  return out;
}

/** `GET /v1/invoices`: newest first, filtered by status, customer, subscription and period. */
export async function listInvoices(
  ctx: BillingContext,
  caller: Caller,
  page: PageRequest,
  filter: { status?: string; customerId?: string; subscriptionId?: string; periodFrom?: string; periodTo?: string },
): Promise<PageOf<Invoice>> {
  const q = ctx.db<InvoiceRow>('invoices').where({ organization_id: caller.organizationId }).select(INVOICE_COLUMNS);
  if (filter.status !== undefined) q.andWhere({ status: filter.status as InvoiceStatus });
  if (filter.customerId !== undefined) q.andWhere({ customer_id: filter.customerId });
  if (filter.subscriptionId !== undefined) q.andWhere({ subscription_id: filter.subscriptionId });
  if (filter.periodFrom !== undefined) q.andWhere('period_start', '>=', filter.periodFrom);
  if (filter.periodTo !== undefined) q.andWhere('period_end', '<=', filter.periodTo);
  const rows = await keysetPage<InvoiceRow, InvoiceRow>(
    q,
    page,
    [
      { column: 'issued_at', field: 'issued_at', type: 'timestamptz' },
      { column: 'id', field: 'id', type: 'uuid' },
    ],
    (r) => r,
    { descending: true },
  );
  const lines = await linesOf(
    ctx.db,
    rows.data.map((r) => r.id),
  );
  return { data: rows.data.map((r) => toInvoice(r, lines.get(r.id) ?? [])), nextCursor: rows.nextCursor };
}

/** `GET /v1/invoices/{id}`: the invoice, its lines and every payment attempt, oldest first. */
export async function getInvoice(db: Knex | Knex.Transaction, caller: Caller, id: string): Promise<InvoiceDetail> {
  const row = await db('invoices')
    .where({ id, organization_id: caller.organizationId })
    .first<InvoiceRow | undefined>(INVOICE_COLUMNS);
  if (!row) throw billingErrors.INVOICE_NOT_FOUND(`no invoice ${id}`);
  const [lines, payments] = await Promise.all([
    linesOf(db, [id]),
    db<PaymentRow>('payments').where({ invoice_id: id }).orderBy('attempt'),
  ]);
  return {
    ...toInvoice(row, lines.get(id) ?? []),
    payments: payments.map(toPayment),
  };
}

/** The invoice as a customer receives it: with the customer's name and the metrics' units. */
export async function invoiceDocument(ctx: BillingContext, caller: Caller, id: string): Promise<InvoiceDocument> {
  const invoice = await getInvoice(ctx.db, caller, id);
  const organizationId = caller.organizationId;
  const customer = await ctx
    .db('customers')
    .where({ organization_id: organizationId, customer_id: invoice.customerId })
    .first<{ name: string; email: string | null } | undefined>('name', 'email');
  const metrics = await ctx
    .db('metrics')
    .where({ organization_id: organizationId })
    .select<Array<{ key: string; name: string; unit: string }>>('key', 'name', 'unit');
  const organization = await ctx
    .db('organizations')
    .where({ id: organizationId })
    .first<{ name: string } | undefined>('name');
  return {
    invoice,
    organization: { name: organization?.name ?? null },
    customer: { customerId: invoice.customerId, name: customer?.name ?? null, email: customer?.email ?? null },
    metrics: Object.fromEntries(metrics.map((m) => [m.key, { name: m.name, unit: m.unit }])),
  };
}
