// The webhook-dispatch HTTP adapter: each route declared in the contracts gets its handler here;
// auth, the permission check and validation happen in `mountRoutes` from the declaration.
import { serviceRoutes, principalOf, type AuthedRequest, type Authenticator } from '@usageflow/auth';
import {
  WEBHOOK_ROUTES,
  type CreateWebhookEndpointBody,
  type ResendFailedBody,
  type RotateSecretBody,
  type UpdateWebhookEndpointBody,
} from '@usageflow/contracts';
import { idempotentRequest, pageRequest, sendStored } from '@usageflow/http';
import type { Response } from 'express';
import type { Caller, WebhookContext } from '../../app/context';
import { listDeliveries, resendDelivery, resendFailed } from '../../app/deliveries';
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
  rotateSecret,
  updateEndpoint,
} from '../../app/endpoints';

type Handler = (req: AuthedRequest, res: Response) => Promise<void>;

const callerOf = (req: AuthedRequest): Caller => ({ organizationId: principalOf(req).organizationId });
const idOf = (req: AuthedRequest) => String(req.params.id);

/** Mounts every webhook route, and its OpenAPI document at /openapi.json, on `app`. */
export function webhookRoutes(ctx: WebhookContext, authenticator: Authenticator) {
  const handlers: Record<string, Handler> = {
    createWebhookEndpoint: async (req, res) => {
      const caller = callerOf(req);
      const response = await idempotentRequest(ctx.db, req, caller.organizationId, async (trx) => ({
        status: 201,
        body: await createEndpoint(ctx, trx, caller, req.body as CreateWebhookEndpointBody),
      }));
      sendStored(res, response);
    },
    listWebhookEndpoints: async (req, res) => {
      res.json(await listEndpoints(ctx, callerOf(req), pageRequest(req.query)));
    },
    getWebhookEndpoint: async (req, res) => {
      res.json(await getEndpoint(ctx, callerOf(req), idOf(req)));
    },
    updateWebhookEndpoint: async (req, res) => {
      res.json(await updateEndpoint(ctx, callerOf(req), idOf(req), req.body as UpdateWebhookEndpointBody));
    },
    deleteWebhookEndpoint: async (req, res) => {
      await deleteEndpoint(ctx, callerOf(req), idOf(req));
      res.status(204).end();
    },
    rotateWebhookSecret: async (req, res) => {
      res.json(await rotateSecret(ctx, callerOf(req), idOf(req), (req.body ?? {}) as RotateSecretBody));
    },
    listWebhookDeliveries: async (req, res) => {
      const status = typeof req.query.status === 'string' ? req.query.status : undefined;
      res.json(await listDeliveries(ctx, callerOf(req), idOf(req), pageRequest(req.query), { status }));
    },
    resendFailedWebhooks: async (req, res) => {
      res.status(202).json(await resendFailed(ctx, callerOf(req), idOf(req), req.body as ResendFailedBody));
    },
    resendWebhookDelivery: async (req, res) => {
      res.status(202).json(await resendDelivery(ctx, callerOf(req), idOf(req)));
    },
  };
  return serviceRoutes({ title: 'UsageFlow webhooks API', routes: WEBHOOK_ROUTES, handlers, authenticator });
}
