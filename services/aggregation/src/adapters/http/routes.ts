// The aggregation HTTP adapter for live usage: each route declared in the contracts gets its
// handler here; auth, the usage:read check and validation happen in `mountRoutes`.
import { serviceRoutes, principalOf, type AuthedRequest, type Authenticator } from '@usageflow/auth';
import { USAGE_RANGE_QUERY, USAGE_ROUTES } from '@usageflow/contracts';
import type { Response } from 'express';
import type { AggregationContext, Caller } from '../../app/context';
import { customerUsage, usageRange, type UsageRangeQuery } from '../../app/usage-queries';

type Handler = (req: AuthedRequest, res: Response) => Promise<void>;

const callerOf = (req: AuthedRequest): Caller => ({ organizationId: principalOf(req).organizationId });
/** A validated query parameter; an empty one counts as absent, as the validator counts it. */
const queryParam = (req: AuthedRequest, name: string) => {
  const value = (req.query as Record<string, unknown>)[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

/** Mounts the usage query routes, and their OpenAPI document at /openapi.json, on `app`. */
export function usageRoutes(ctx: AggregationContext, authenticator: Authenticator) {
  const handlers: Record<string, Handler> = {
    getCustomerUsage: async (req, res) => {
      const metric = queryParam(req, 'metric');
      res.json(await customerUsage(ctx, callerOf(req), String(req.params.customerId), { metric }));
    },
    getUsageRange: async (req, res) => {
      const query = Object.fromEntries(
        Object.keys(USAGE_RANGE_QUERY).map((name) => [name, queryParam(req, name)]),
      ) as UsageRangeQuery;
      res.json(await usageRange(ctx, callerOf(req), query));
    },
  };
  return serviceRoutes({ title: 'UsageFlow usage API', routes: USAGE_ROUTES, handlers, authenticator });
}
