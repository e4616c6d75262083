// The subscription HTTP adapter: each route declared in the contracts gets its handler here;
// auth, the permission/scope check and validation happen in `mountRoutes` from the declaration.
import { serviceRoutes, principalOf, type AuthedRequest, type Authenticator } from '@usageflow/auth';
import {
  SUBSCRIPTION_ROUTES,
  type AdvanceTestClockBody,
  type CancelSubscriptionBody,
  type CreateCustomerBody,
  type CreateMetricBody,
  type CreatePlanBody,
  type CreatePlanVersionBody,
  type CreateSubscriptionBody,
  type CreateTestClockBody,
  type UpdateCustomerBody,
  type UpdateMetricBody,
} from '@usageflow/contracts';
import type { Knex } from '@usageflow/db';
import { idempotentRequest, pageRequest, sendStored } from '@usageflow/http';
import type { Response } from 'express';
import type { Caller, SubscriptionContext } from '../../app/context';
import { createCustomer, getCustomer, listCustomers, updateCustomer } from '../../app/customers';
import { createMetric, getMetric, listMetrics, updateMetric } from '../../app/metrics';
import { archivePlan, createPlan, createPlanVersion, getPlan, listPlans } from '../../app/plans';
import {
  cancelSubscription,
  createSubscription,
  getSubscription,
  listSubscriptions,
  reactivateSubscription,
} from '../../app/subscriptions';
import { advanceTestClock, createTestClock, getTestClock, listTestClocks } from '../../app/test-clocks';

type Handler = (req: AuthedRequest, res: Response) => Promise<void>;

/** The organization a request acts for (from its token or key, never its body). */
const callerOf = (req: AuthedRequest): Caller => ({ organizationId: principalOf(req).organizationId });

/** Mounts every subscription route, and its OpenAPI document at /openapi.json, on `app`. */
export function subscriptionRoutes(ctx: SubscriptionContext, authenticator: Authenticator) {
  /** A creating route: once per Idempotency-Key in the caller's organization, answered 201. */
  const create =
    (make: (trx: Knex.Transaction, caller: Caller, req: AuthedRequest) => Promise<unknown>): Handler =>
    async (req, res) => {
      const caller = callerOf(req);
      const response = await idempotentRequest(ctx.db, req, caller.organizationId, async (trx) => ({
        status: 201,
        body: await make(trx, caller, req),
      }));
      sendStored(res, response);
    };

  const handlers: Record<string, Handler> = {
    createMetric: create((trx, caller, req) => createMetric(ctx, trx, caller, req.body as CreateMetricBody)),
    listMetrics: async (req, res) => {
      res.json(await listMetrics(ctx, callerOf(req), pageRequest(req.query)));
    },
    getMetric: async (req, res) => {
      res.json(await getMetric(ctx, callerOf(req), String(req.params.key)));
    },
    updateMetric: async (req, res) => {
      res.json(await updateMetric(ctx, callerOf(req), String(req.params.key), req.body as UpdateMetricBody));
    },
    createCustomer: create((trx, caller, req) => createCustomer(ctx, trx, caller, req.body as CreateCustomerBody)),
    listCustomers: async (req, res) => {
      res.json(await listCustomers(ctx, callerOf(req), pageRequest(req.query)));
    },
    getCustomer: async (req, res) => {
      res.json(await getCustomer(ctx, callerOf(req), String(req.params.customerId)));
    },
    updateCustomer: async (req, res) => {
      const body = req.body as UpdateCustomerBody;
      res.json(await updateCustomer(ctx, callerOf(req), String(req.params.customerId), body));
    },
    createPlan: create((trx, caller, req) => createPlan(ctx, trx, caller, req.body as CreatePlanBody)),
    createPlanVersion: create((trx, caller, req) =>
      createPlanVersion(ctx, trx, caller, String(req.params.code), req.body as CreatePlanVersionBody),
    ),
    archivePlan: async (req, res) => {
      res.json(await archivePlan(ctx, callerOf(req), String(req.params.code)));
    },
    getPlan: async (req, res) => {
      const version = req.query.version === undefined ? undefined : Number(req.query.version);
      res.json(await getPlan(ctx, callerOf(req), String(req.params.code), version));
    },
    listPlans: async (req, res) => {
      res.json(await listPlans(ctx, callerOf(req), pageRequest(req.query)));
    },
    createTestClock: create((trx, caller, req) => createTestClock(ctx, trx, caller, req.body as CreateTestClockBody)),
    getTestClock: async (req, res) => {
      res.json(await getTestClock(ctx, callerOf(req), String(req.params.id)));
    },
    listTestClocks: async (req, res) => {
      res.json(await listTestClocks(ctx, callerOf(req), pageRequest(req.query)));
    },
    advanceTestClock: async (req, res) => {
      const body = req.body as AdvanceTestClockBody;
      res.json((await advanceTestClock(ctx, callerOf(req), String(req.params.id), body)).clock);
    },
    createSubscription: create((trx, caller, req) =>
      createSubscription(ctx, trx, caller, req.body as CreateSubscriptionBody),
    ),
    getSubscription: async (req, res) => {
      res.json(await getSubscription(ctx, callerOf(req), String(req.params.id)));
    },
    listSubscriptions: async (req, res) => {
      const filter = {
        customerId: typeof req.query.customerId === 'string' ? req.query.customerId : undefined,
        status: typeof req.query.status === 'string' ? req.query.status : undefined,
      };
      res.json(await listSubscriptions(ctx, callerOf(req), pageRequest(req.query), filter));
    },
    cancelSubscription: async (req, res) => {
      const body = (req.body ?? {}) as CancelSubscriptionBody;
      res.json(await cancelSubscription(ctx, callerOf(req), String(req.params.id), body));
    },
    reactivateSubscription: async (req, res) => {
      res.json(await reactivateSubscription(ctx, callerOf(req), String(req.params.id)));
    },
  };
  return serviceRoutes({ title: 'UsageFlow subscription API', routes: SUBSCRIPTION_ROUTES, handlers, authenticator });
}
