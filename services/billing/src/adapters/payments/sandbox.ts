// The sandbox payment provider: it charges nothing real and answers, per customer, the outcome
// the organization set with `PUT /v1/payment-sandbox/customers/{customerId}` (succeed, decline,
// error), so integrations and dunning can be exercised end to end.
import type { Knex } from '@usageflow/db';
import type { ChargeRequest, ChargeResult, CustomerRef, PaymentProvider } from '../../app/payment-provider';

const DEFAULT_REASONS = { decline: 'card_declined', error: 'processing_error' } as const;

export class SandboxProvider implements PaymentProvider {
  readonly name = 'sandbox';

  async canCharge(trx: Knex.Transaction, organizationId: string, customerId: string): Promise<boolean> {
    const row = await trx('sandbox_customers')
      .where({ organization_id: organizationId, customer_id: customerId })
      .first('outcome');
    return row !== undefined;
  }

  async chargeable(trx: Knex.Transaction, customers: readonly CustomerRef[]): Promise<CustomerRef[]> {
    if (customers.length === 0) return [];
    const { rows } = await trx.raw<{ rows: Array<{ organization_id: string; customer_id: string }> }>(
      `select s.organization_id, s.customer_id
         from sandbox_customers s join unnest(?::uuid[], ?::text[]) as c(org, customer)
           on s.organization_id = c.org and s.customer_id = c.customer`,
      [customers.map((c) => c.organizationId), customers.map((c) => c.customerId)],
    );
    return rows.map((r) => ({ organizationId: r.organization_id, customerId: r.customer_id }));
  }

  async charge(trx: Knex.Transaction, request: ChargeRequest): Promise<ChargeResult> {
    const row = await trx('sandbox_customers')
      .where({ organization_id: request.organizationId, customer_id: request.customerId })
      .first<{ outcome: 'succeed' | 'decline' | 'error'; failure_reason: string | null } | undefined>(
        'outcome',
        'failure_reason',
      );
    if (!row) return { outcome: 'error', failureReason: 'no_payment_method' };
    if (row.outcome === 'succeed') return { outcome: 'succeeded' };
    return {
      outcome: row.outcome === 'decline' ? 'declined' : 'error',
      failureReason: row.failure_reason ?? DEFAULT_REASONS[row.outcome],
    };
  }
}
