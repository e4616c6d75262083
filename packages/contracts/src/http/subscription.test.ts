import { openApi31Errors } from '../../test/oas31';
import { compileValidator } from '../validate';
import { buildOpenApiDocument } from './openapi';
import { CreateMetricBody, CreatePlanBody, SUBSCRIPTION_ROUTES, UpdateMetricBody } from './subscription';

// The architecture's path table for subscription, spelled out.
const ARCHITECTURE_PATHS = [
  '/v1/metrics',
  '/v1/metrics/{key}',
  '/v1/plans',
  '/v1/plans/{code}',
  '/v1/plans/{code}/versions',
  '/v1/plans/{code}/archive',
  '/v1/customers',
  '/v1/customers/{customerId}',
  '/v1/subscriptions',
  '/v1/subscriptions/{id}',
  '/v1/subscriptions/{id}/cancel',
  '/v1/subscriptions/{id}/reactivate',
  '/v1/test-clocks',
  '/v1/test-clocks/{id}',
  '/v1/test-clocks/{id}/advance',
];

describe('subscription routes', () => {
  it('cover exactly the paths of the architecture', () => {
    expect([...new Set(SUBSCRIPTION_ROUTES.map((r) => r.path))].sort()).toEqual([...ARCHITECTURE_PATHS].sort());
  });

  it('read with catalog:read and write with catalog:manage, for people and API keys alike', () => {
    for (const r of SUBSCRIPTION_ROUTES) {
      expect([r.operationId, r.auth, r.permission]).toEqual([
        r.operationId,
        'jwtOrApiKey',
        r.method === 'get' ? 'catalog:read' : 'catalog:manage',
      ]);
    }
  });

  it('build a valid OpenAPI 3.1 document', () => {
    const doc = buildOpenApiDocument({ title: 'subscription', version: '1', routes: SUBSCRIPTION_ROUTES });
    expect(openApi31Errors(doc)).toEqual([]);
  });
});

describe('subscription bodies', () => {
  it('a UNIQUE_COUNT metric names its property', () => {
    const create = compileValidator(CreateMetricBody);
    const base = { key: 'ACTIVE_USER', name: 'Active users', unit: 'users' };
    expect(create({ ...base, aggregation: 'UNIQUE_COUNT' }).ok).toBe(false);
    expect(create({ ...base, aggregation: 'UNIQUE_COUNT', uniqueProperty: 'userId' }).ok).toBe(true);
    expect(create({ key: 'API_CALL', name: 'API calls', unit: 'calls' }).ok).toBe(true);
    expect(create({ ...base, key: 'api_call' }).ok).toBe(false);
  });

  it('an update changes something and never the key', () => {
    const update = compileValidator(UpdateMetricBody);
    expect(update({}).ok).toBe(false);
    expect(update({ key: 'OTHER' }).ok).toBe(false);
    expect(update({ name: 'Calls' }).ok).toBe(true);
  });

  it('prices are decimal strings, never numbers', () => {
    const create = compileValidator(CreatePlanBody);
    const pro = {
      code: 'pro',
      name: 'Pro',
      currency: 'USD',
      interval: 'MONTHLY',
      basePrice: '100.00',
      planMetrics: [{ metricKey: 'API_CALL', includedUnits: '10000', overageUnitPrice: '0.01' }],
    };
    expect(create(pro).ok).toBe(true);
    expect(create({ ...pro, basePrice: 100 }).ok).toBe(false);
    expect(create({ ...pro, planMetrics: [{ ...pro.planMetrics[0], overageUnitPrice: '-0.01' }] }).ok).toBe(false);
  });
});
