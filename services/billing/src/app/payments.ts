// Collecting invoices. Three ways a payment is attempted, each recorded as one payment row and
// one payment.attempted event in the transaction that moves the invoice:
// - dunning: the charge due now (the first right after issue, then the retries of the
//   schedule), on wall time or on the subscription's test clock;
// - a manual retry (`POST /v1/invoices/{id}/retry`) through the customer's payment provider;
// - an external settlement (`POST /v1/invoices/{id}/payments`) the organization reports.
// A payment that succeeds emits invoice.paid; dunning that gives up emits invoice.failed.
import {
  buildEvent,
  toMajorAmount,
  type DomainEvent,
  type InvoiceStatus,
  type RecordPaymentBody,
} from '@usageflow/contracts';
import { appendToOutbox, iso, type Knex } from '@usageflow/db';
import { randomUUID } from 'node:crypto';
import { afterCharge, canTransition, type ChargeOutcome } from '../domain/dunning';
import { billingErrors } from '../domain/errors';
import { PRODUCER, type BillingContext, type Caller } from './context';

/** An invoice row as collection reads it (locked for update). */
export interface InvoiceRow {
  id: string;
  organization_id: string;
  subscription_id: string;
  customer_id: string;
  currency: string;
  amount_cents: string;
  status: InvoiceStatus;
  payment_attempts: number;
  dunning_step: number;
  next_attempt_at: Date | null;
  test_clock_id: string | null;
}

interface Attempt {
  /** The payment's id (the provider's idempotency key for a charge). */
  paymentId: string;
  provider: string;
  outcome: ChargeOutcome;
  failureReason?: string;
  reference?: string;
  at: Date;
}

/** The invoice, locked, in the caller's organization; 404 if it is another's or none. */
export async function lockInvoice(trx: Knex.Transaction, caller: Caller, id: string): Promise<InvoiceRow> {
  const row = await trx<InvoiceRow>('invoices')
    .where({ id, organization_id: caller.organizationId })
    .forUpdate()
    .first();
  if (!row) throw billingErrors.INVOICE_NOT_FOUND(`no invoice ${id}`);
  return row;
}

/** "Now" for an invoice: its test clock's time, or the wall clock. */
export async function nowFor(ctx: BillingContext, trx: Knex.Transaction, invoice: InvoiceRow): Promise<Date> {
  if (!invoice.test_clock_id) return ctx.clock();
  const clock = await trx('test_clocks')
    .where({ id: invoice.test_clock_id })
    .first<{ frozen_time: Date } | undefined>('frozen_time');
  return clock?.frozen_time ?? ctx.clock();
}

/**
 * Records one attempt on a locked invoice and moves it: the payment row, the invoice's new
 * collection state, payment.attempted, and invoice.paid or invoice.failed when it came to that.
 */
async function recordAttempt(
  ctx: BillingContext,
  trx: Knex.Transaction,
  invoice: InvoiceRow,
  attempt: Attempt,
  scheduled: boolean,
): Promise<void> {
  const decision = afterCharge(
    { status: invoice.status, dunningStep: invoice.dunning_step, nextAttemptAt: invoice.next_attempt_at },
    attempt.outcome,
    attempt.at,
    { scheduled, schedule: ctx.settings.dunningScheduleMs },
  );
  if (decision.status !== invoice.status && !canTransition(invoice.status, decision.status)) {
    throw new Error(`invoice ${invoice.id}: ${invoice.status} -> ${decision.status} is not a status move`);
  }
  const paymentId = attempt.paymentId;
  // The contract caps a reason at 500 characters; a provider's may be longer.
  const failureReason = attempt.failureReason?.slice(0, 500);
  const number = invoice.payment_attempts + 1;
  const amountCents = Number(invoice.amount_cents);
  const money = { currency: invoice.currency, amountCents, amount: toMajorAmount(amountCents, invoice.currency) };
  await trx('payments').insert({
    id: paymentId,
    organization_id: invoice.organization_id,
    invoice_id: invoice.id,
    attempt: number,
    provider: attempt.provider,
    outcome: attempt.outcome,
    failure_reason: failureReason ?? null,
    reference: attempt.reference ?? null,
    currency: invoice.currency,
    amount_cents: amountCents,
    attempted_at: attempt.at,
    next_attempt_at: decision.nextAttemptAt,
  });
  await trx('invoices')
    .where({ id: invoice.id })
    .update({
      status: decision.status,
      payment_attempts: number,
      dunning_step: decision.dunningStep,
      next_attempt_at: decision.nextAttemptAt,
      ...(decision.paid ? { paid_at: attempt.at } : {}),
      ...(decision.failed ? { failed_at: attempt.at } : {}),
    });
  const ref = { invoiceId: invoice.id, subscriptionId: invoice.subscription_id, customerId: invoice.customer_id };
  const envelope = { organizationId: invoice.organization_id, occurredAt: attempt.at, producer: PRODUCER };
  const events: DomainEvent[] = [
    buildEvent('payment.attempted', {
      ...envelope,
      id: randomUUID(),
      data: {
        paymentId,
        ...ref,
        attempt: number,
        outcome: attempt.outcome,
        provider: attempt.provider,
        ...money,
        attemptedAt: attempt.at.toISOString(),
        ...(failureReason ? { failureReason } : {}),
        ...(decision.nextAttemptAt ? { nextAttemptAt: decision.nextAttemptAt.toISOString() } : {}),
      },
    }),
  ];
  if (decision.paid) {
    events.push(
      buildEvent('invoice.paid', {
        ...envelope,
        id: randomUUID(),
        data: { ...ref, paymentId, ...money, paidAt: attempt.at.toISOString() },
      }),
    );
  }
  if (decision.failed) {
    events.push(
      buildEvent('invoice.failed', {
        ...envelope,
        id: randomUUID(),
        data: {
          ...ref,
          reason: failureReason ?? attempt.outcome,
          attempts: number,
          lastPaymentId: paymentId,
          failedAt: attempt.at.toISOString(),
        },
      }),
    );
  }
  await appendToOutbox(trx, events, { topic: ctx.invoicesTopic });
}

/** Charges a locked invoice through the payment provider. */
async function charge(ctx: BillingContext, trx: Knex.Transaction, invoice: InvoiceRow, at: Date, scheduled: boolean) {
  const paymentId = randomUUID();
  const result = await ctx.provider.charge(trx, {
    organizationId: invoice.organization_id,
    customerId: invoice.customer_id,
    invoiceId: invoice.id,
    paymentId,
    amountCents: Number(invoice.amount_cents),
    currency: invoice.currency,
  });
  await recordAttempt(ctx, trx, invoice, { paymentId, provider: ctx.provider.name, ...result, at }, scheduled);
}

/**
 * Dunning: charges up to `limit` invoices whose next attempt is due (on their test clock's time
 * or wall time). A test-clock invoice's attempt is dated when it was due, so a clock advanced
 * by ten days replays each retry at its own time. Returns how many were charged.
 */
export async function chargeDueInvoices(ctx: BillingContext, limit = 100): Promise<number> {
  return ctx.db.transaction(async (trx) => {
    const due = await trx.raw<{ rows: InvoiceRow[] }>(
      `select i.id, i.organization_id, i.subscription_id, i.customer_id, i.currency, i.amount_cents, i.status,
              i.payment_attempts, i.dunning_step, i.next_attempt_at, i.test_clock_id
         from invoices i left join test_clocks c on c.id = i.test_clock_id
        where i.status = 'PENDING' and i.next_attempt_at is not null
          and i.next_attempt_at <= coalesce(c.frozen_time, ?)
        order by i.next_attempt_at
        limit ?
          for update of i skip locked`,
      [ctx.clock(), limit],
    );
    for (const invoice of due.rows) {
      const at = invoice.test_clock_id ? invoice.next_attempt_at! : ctx.clock();
      await charge(ctx, trx, invoice, at, true);
    }
    return due.rows.length;
  });
}

/** `POST /v1/invoices/{id}/retry`: charges a PENDING or FAILED invoice now, outside dunning. */
export async function retryPayment(ctx: BillingContext, trx: Knex.Transaction, caller: Caller, id: string) {
  const invoice = await lockInvoice(trx, caller, id);
  if (invoice.status === 'PAID') throw billingErrors.INVOICE_ALREADY_PAID(`invoice ${id} is already paid`);
  if (!(await ctx.provider.canCharge(trx, invoice.organization_id, invoice.customer_id))) {
    throw billingErrors.NO_PAYMENT_PROVIDER(
      `customer ${invoice.customer_id} has no payment provider; report an external payment instead`,
    );
  }
  await charge(ctx, trx, invoice, await nowFor(ctx, trx, invoice), false);
}

/**
 * `POST /v1/invoices/{id}/payments`: the organization reports a payment of the full amount.
 * Returns false when this reference was already recorded on the invoice (nothing changes).
 */
export async function recordExternalPayment(
  ctx: BillingContext,
  trx: Knex.Transaction,
  caller: Caller,
  id: string,
  body: RecordPaymentBody,
): Promise<boolean> {
  const invoice = await lockInvoice(trx, caller, id);
  const known = await trx('payments').where({ invoice_id: id, reference: body.reference }).first('id');
  if (known) return false;
  if (invoice.status === 'PAID') throw billingErrors.INVOICE_ALREADY_PAID(`invoice ${id} is already paid`);
  if (body.currency !== invoice.currency || body.amountCents !== Number(invoice.amount_cents)) {
    throw billingErrors.PAYMENT_AMOUNT_MISMATCH(
      `the invoice total is ${invoice.amount_cents} ${invoice.currency} (minor units); got ${body.amountCents} ${body.currency}`,
    );
  }
  const at = body.paidAt ? new Date(body.paidAt) : await nowFor(ctx, trx, invoice);
  await recordAttempt(
    ctx,
    trx,
    invoice,
    { paymentId: randomUUID(), provider: 'external', outcome: 'succeeded', reference: body.reference, at },
    false,
  );
  return true;
}

/** `PUT /v1/payment-sandbox/customers/{customerId}`. */
export async function setSandboxCustomer(
  ctx: BillingContext,
  caller: Caller,
  customerId: string,
  body: { outcome: 'succeed' | 'decline' | 'error'; failureReason?: string },
) {
  const updatedAt = ctx.clock();
  await ctx.db.raw(
    `insert into sandbox_customers (organization_id, customer_id, outcome, failure_reason, updated_at)
     values (?, ?, ?, ?, ?)
     on conflict (organization_id, customer_id) do update
       set outcome = excluded.outcome, failure_reason = excluded.failure_reason, updated_at = excluded.updated_at`,
    [caller.organizationId, customerId, body.outcome, body.failureReason ?? null, updatedAt],
  );
  return { customerId, outcome: body.outcome, failureReason: body.failureReason ?? null, updatedAt: iso(updatedAt) };
}
