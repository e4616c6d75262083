// The payment-provider port: how billing collects an invoice from a customer. The built-in
// sandbox answers what the organization set per customer; a real provider (a card processor)
// would implement the same two calls, using `paymentId` as its idempotency key so a charge
// retried after a crash is not taken twice.
import type { Knex } from '@usageflow/db';
import type { ChargeOutcome } from '../domain/dunning';

export interface ChargeRequest {
  organizationId: string;
  customerId: string;
  invoiceId: string;
  /** The attempt's id, unique per attempt: the provider's idempotency key. */
  paymentId: string;
  amountCents: number;
  currency: string;
}

/** A customer of an organization. */
export interface CustomerRef {
  organizationId: string;
  customerId: string;
}

export interface ChargeResult {
  outcome: ChargeOutcome;
  /** Why it did not succeed, as the provider reports it ("card_declined"). */
  failureReason?: string;
}

export interface PaymentProvider {
  /** The provider's name on payment.attempted ("sandbox"). */
  readonly name: string;
  /** Whether the customer has a way to be charged by this provider. */
  canCharge(trx: Knex.Transaction, organizationId: string, customerId: string): Promise<boolean>;
  /** Which of `customers` have a way to be charged (one lookup for a batch of new invoices). */
  chargeable(trx: Knex.Transaction, customers: readonly CustomerRef[]): Promise<CustomerRef[]>;
  /** Charges the invoice amount; a technical failure is an `error` outcome, never a throw. */
  charge(trx: Knex.Transaction, request: ChargeRequest): Promise<ChargeResult>;
}
