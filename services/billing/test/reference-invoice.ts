// The reference scenario's invoice (Pro, March 2025: $100 + 2,000 x $0.01 = $120), as the
// renderers' tests read it.
import type { InvoiceDetail, InvoiceLineRecord, Payment } from '@usageflow/contracts';
import type { InvoiceDocument } from '../src/domain/invoice-document';

export const BASE_LINE: InvoiceLineRecord = {
  position: 1,
  kind: 'base',
  description: 'Pro (monthly)',
  preciseAmount: '100.00',
  amountCents: 10000,
  amount: 100,
  source: { planVersion: 1 },
};

export const USAGE_LINE: InvoiceLineRecord = {
  position: 2,
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
  source: { planVersion: 1 },
};

export const INVOICE: InvoiceDetail = {
  id: '00000000-0000-4000-8000-000000000001',
  number: 'INV-000001',
  subscriptionId: '00000000-0000-4000-8000-000000000002',
  customerId: 'cust_42',
  planCode: 'pro',
  planVersion: 1,
  period: { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' },
  status: 'PENDING',
  currency: 'USD',
  amountCents: 12000,
  amount: 120,
  lines: [BASE_LINE, USAGE_LINE],
  issuedAt: '2025-04-01T00:05:00.000Z',
  dueAt: '2025-04-15T00:00:00.000Z',
  paidAt: null,
  failedAt: null,
  paymentAttempts: 0,
  nextPaymentAttemptAt: null,
  testClockId: null,
  payments: [],
};

export const documentOf = (invoice: InvoiceDetail, overrides: Partial<InvoiceDocument> = {}): InvoiceDocument => ({
  invoice,
  organization: { name: 'Cloud AI Inc.' },
  customer: { customerId: invoice.customerId, name: 'Acme Corp', email: 'billing@acme.test' },
  metrics: { API_CALL: { name: 'API calls', unit: 'call' } },
  ...overrides,
});

/** A sub-cent usage line: 1,234,567 tokens at $0.000002 = $2.469134, rounded to 247 cents. */
export const TOKENS_LINE: InvoiceLineRecord = {
  ...USAGE_LINE,
  description: 'Tokens',
  metricKey: 'TOKENS',
  quantity: '1234567',
  includedUnits: '0',
  billableUnits: '1234567',
  unitPrice: '0.000002',
  preciseAmount: '2.469134',
  amountCents: 247,
  amount: 2.47,
};

/** The sandbox declining the reference invoice. */
export const DECLINED_PAYMENT: Payment = {
  id: '00000000-0000-4000-8000-000000000003',
  invoiceId: INVOICE.id,
  attempt: 1,
  provider: 'sandbox',
  outcome: 'declined',
  failureReason: 'card_declined',
  reference: null,
  currency: 'USD',
  amountCents: 12000,
  amount: 120,
  attemptedAt: '2025-04-08T00:00:00.000Z',
  nextAttemptAt: '2025-04-10T12:30:00.000Z',
};
