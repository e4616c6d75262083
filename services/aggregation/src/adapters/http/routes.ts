// The aggregation HTTP adapter: live usage, the event trace and the reconciliation. Each route
// declared in the contracts gets its handler here; auth, the usage:read check and validation
// happen in `serviceRoutes`.
import { serviceRoutes, principalOf, type AuthedRequest, type Authenticator } from '@usageflow/auth';
import { RECONCILIATION_ROUTES, USAGE_RANGE_QUERY, USAGE_ROUTES } from '@usageflow/contracts';
import { pageRequest } from '@usageflow/http';
import type { Response } from 'express';
import type { AggregationContext, Caller } from '../../app/context';
import { reconciliation, unbilledUsage } from '../../app/reconciliation';
import { traceEvent } from '../../app/trace';
import { customerUsage, usageRange, type UsageRangeQuery } from '../../app/usage-queries';

type Handler = (req: AuthedRequest, res: Response) => Promise<void>;

const callerOf = (req: AuthedRequest): Caller => ({ organizationId: principalOf(req).organizationId });
/** A validated query parameter; an empty one counts as absent, as the validator counts it. */
const queryParam = (req: AuthedRequest, name: string) => {
  const value = (req.query as Record<string, unknown>)[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};
const queryParams = (req: AuthedRequest, names: readonly string[]) =>
  Object.fromEntries(names.map((name) => [name, queryParam(req, name)]).filter(([, v]) => v !== undefined));

/** Mounts the aggregation's routes, and their OpenAPI document at /openapi.json, on `app`. */
export function usageRoutes(ctx: AggregationContext, authenticator: Authenticator, options: { usageTopic: string }) {
  const handlers: Record<string, Handler> = {
    getCustomerUsage: async (req, res) => {
      const metric = queryParam(req, 'metric');
      res.json(await customerUsage(ctx, callerOf(req), String(req.params.customerId), { metric }));
    },
    getUsageRange: async (req, res) => {
      res.json(
        await usageRange(ctx, callerOf(req), queryParams(req, Object.keys(USAGE_RANGE_QUERY)) as UsageRangeQuery),
      );
    },
    traceEvent: async (req, res) => {
      res.json(await traceEvent(ctx, callerOf(req), String(req.params.id), options));
    },
    reconcile: async (req, res) => {
      const query = queryParams(req, ['customerId', 'metric', 'period', 'from', 'to']);
      res.json(await reconciliation(ctx, callerOf(req), pageRequest(req.query), query));
    },
    listUnbilledUsage: async (req, res) => {
      const query = queryParams(req, ['from', 'to', 'customerId']);
      res.json(await unbilledUsage(ctx, callerOf(req), pageRequest(req.query), query));
    },
  };
  return serviceRoutes({
    title: 'UsageFlow usage API',
    routes: [...USAGE_ROUTES, ...RECONCILIATION_ROUTES],
    handlers,
    authenticator,
  });
}
