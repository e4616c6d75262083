import { defineErrors } from '@usageflow/http';

/** The billing service's error codes: stable API, never renamed or reused. */
export const billingErrors = defineErrors({
  INVOICE_NOT_FOUND: { status: 404, title: 'No such invoice in your organization' },
  INVOICE_ALREADY_PAID: { status: 409, title: 'The invoice is already paid' },
  NO_PAYMENT_PROVIDER: { status: 409, title: 'The customer has no payment provider to charge' },
  PAYMENT_AMOUNT_MISMATCH: { status: 422, title: 'The payment is not the invoice total' },
});
