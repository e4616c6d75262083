// The billing HTTP adapter: each route declared in the contracts gets its handler here; auth,
// the permission check and validation happen in `mountRoutes` from the declaration.
import { serviceRoutes, principalOf, type AuthedRequest, type Authenticator } from '@usageflow/auth';
import { BILLING_ROUTES, type RecordPaymentBody, type SandboxCustomerBody } from '@usageflow/contracts';
import { idempotentRequest, pageRequest, sendStored } from '@usageflow/http';
import type { Response } from 'express';
import type { BillingContext, Caller } from '../../app/context';
import { getInvoice, invoiceDocument, listInvoices } from '../../app/invoices';
import { recordExternalPayment, retryPayment, setSandboxCustomer } from '../../app/payments';
import { renderInvoiceHtml } from '../../domain/invoice-html';
import { renderInvoicePdf } from '../render/invoice-pdf';

type Handler = (req: AuthedRequest, res: Response) => Promise<void>;

const callerOf = (req: AuthedRequest): Caller => ({ organizationId: principalOf(req).organizationId });
const idOf = (req: AuthedRequest) => String(req.params.id);
const queryString = (req: AuthedRequest, name: string) =>
  typeof req.query[name] === 'string' ? (req.query[name] as string) : undefined;

/** Mounts every billing route, and its OpenAPI document at /openapi.json, on `app`. */
export function billingRoutes(ctx: BillingContext, authenticator: Authenticator) {
  const handlers: Record<string, Handler> = {
    listInvoices: async (req, res) => {
      res.json(
        await listInvoices(ctx, callerOf(req), pageRequest(req.query), {
          status: queryString(req, 'status'),
          customerId: queryString(req, 'customerId'),
          subscriptionId: queryString(req, 'subscriptionId'),
          periodFrom: queryString(req, 'periodFrom'),
          periodTo: queryString(req, 'periodTo'),
        }),
      );
    },
    getInvoice: async (req, res) => {
      res.json(await getInvoice(ctx.db, callerOf(req), idOf(req)));
    },
    renderInvoiceHtml: async (req, res) => {
      const html = renderInvoiceHtml(await invoiceDocument(ctx, callerOf(req), idOf(req)));
      res.type('text/html; charset=utf-8').send(html);
    },
    renderInvoicePdf: async (req, res) => {
      const doc = await invoiceDocument(ctx, callerOf(req), idOf(req));
      const pdf = await renderInvoicePdf(doc);
      res
        .type('application/pdf')
        .setHeader('Content-Disposition', `inline; filename="${doc.invoice.number}.pdf"`)
        .send(pdf);
    },
    recordInvoicePayment: async (req, res) => {
      const caller = callerOf(req);
      const response = await idempotentRequest(ctx.db, req, caller.organizationId, async (trx) => {
        const recorded = await recordExternalPayment(ctx, trx, caller, idOf(req), req.body as RecordPaymentBody);
        return { status: recorded ? 201 : 200, body: await getInvoice(trx, caller, idOf(req)) };
      });
      sendStored(res, response);
    },
    retryInvoicePayment: async (req, res) => {
      const caller = callerOf(req);
      const response = await idempotentRequest(ctx.db, req, caller.organizationId, async (trx) => {
        await retryPayment(ctx, trx, caller, idOf(req));
        return { status: 200, body: await getInvoice(trx, caller, idOf(req)) };
      });
      sendStored(res, response);
    },
    setSandboxCustomer: async (req, res) => {
      res.json(
        await setSandboxCustomer(ctx, callerOf(req), String(req.params.customerId), req.body as SandboxCustomerBody),
      );
    },
  };
  return serviceRoutes({ title: 'UsageFlow billing API', routes: BILLING_ROUTES, handlers, authenticator });
}
