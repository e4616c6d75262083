import { openApi31Errors } from '../../test/oas31';
import { can, ROLES } from '../roles';
import { compileValidator } from '../validate';
import { BILLING_ROUTES, RecordPaymentBody, SandboxCustomerBody } from './billing';
import { buildOpenApiDocument } from './openapi';

// ARCHITECTURE.md, billing: `GET /v1/invoices`, `GET /v1/invoices/{id}`, `GET /v1/invoices/{id}/html`,
// `GET /v1/invoices/{id}/pdf`, `POST /v1/invoices/{id}/payments`, `POST /v1/invoices/{id}/retry`,
// `PUT /v1/payment-sandbox/customers/{customerId}`.
const ARCHITECTURE_OPERATIONS = [
  'GET /v1/invoices',
  'GET /v1/invoices/{id}',
  'GET /v1/invoices/{id}/html',
  'GET /v1/invoices/{id}/pdf',
  'POST /v1/invoices/{id}/payments',
  'POST /v1/invoices/{id}/retry',
  'PUT /v1/payment-sandbox/customers/{customerId}',
];

describe('billing routes', () => {
  it('cover exactly the operations of the architecture', () => {
    expect(BILLING_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort()).toEqual(
      [...ARCHITECTURE_OPERATIONS].sort(),
    );
  });

  it('are read by every role and changed by OWNER and ADMIN only (billing)', () => {
    for (const route of BILLING_ROUTES) {
      const allowed = ROLES.filter((role) => can(role, route.permission!));
      expect([route.operationId, allowed]).toEqual([
        route.operationId,
        route.method === 'get' ? ['OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER'] : ['OWNER', 'ADMIN'],
      ]);
    }
  });

  it('build a valid OpenAPI 3.1 document, the renderings as HTML and PDF', () => {
    const doc = buildOpenApiDocument({ title: 'billing', version: '1', routes: BILLING_ROUTES });
    expect(openApi31Errors(doc)).toEqual([]);
    const ok = (path: string) => Object.keys(doc.paths[path].get.responses['200'].content as object);
    expect(ok('/v1/invoices/{id}/html')).toEqual(['text/html']);
    expect(ok('/v1/invoices/{id}/pdf')).toEqual(['application/pdf']);
    expect(ok('/v1/invoices/{id}')).toEqual(['application/json']);
  });
});

describe('billing bodies', () => {
  it('a payment report names its reference, amount and currency', () => {
    const check = compileValidator(RecordPaymentBody);
    expect(check({ reference: 'wire-2025-0042', amountCents: 12000, currency: 'USD' }).ok).toBe(true);
    const bad = check({ reference: '', amountCents: 1.5, currency: 'usd' });
    expect(bad.ok || [...new Set(bad.issues.map((i) => i.field))].sort()).toEqual([
      'amountCents',
      'currency',
      'reference',
    ]);
  });

  it('the sandbox takes succeed, decline or error', () => {
    const check = compileValidator(SandboxCustomerBody);
    expect(check({ outcome: 'decline', failureReason: 'card_declined' }).ok).toBe(true);
    const bad = check({ outcome: 'maybe' });
    expect(bad.ok || bad.issues.map((i) => i.field)).toEqual(['outcome']);
  });
});
