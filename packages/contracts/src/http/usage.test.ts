import { openApi31Errors } from '../../test/oas31';
import { ROLES, can } from '../roles';
import { compileValidator } from '../validate';
import { buildOpenApiDocument } from './openapi';
import { CustomerUsage, USAGE_ROUTES, UsageRange } from './usage';

// ARCHITECTURE.md: aggregation answers `GET /v1/customers/{customerId}/usage` (current period) and
// `GET /v1/usage` (range + buckets); event traces and reconciliation are declared with their own.
const ARCHITECTURE_OPERATIONS = ['GET /v1/customers/{customerId}/usage', 'GET /v1/usage'];

describe('usage routes', () => {
  it('cover the usage query operations of the architecture', () => {
    expect(USAGE_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort()).toEqual(
      [...ARCHITECTURE_OPERATIONS].sort(),
    );
  });

  it('are read by every role and by API keys with the usage:read scope', () => {
    for (const route of USAGE_ROUTES) {
      expect([route.operationId, route.auth, route.permission]).toEqual([
        route.operationId,
        'jwtOrApiKey',
        'usage:read',
      ]);
      expect(ROLES.filter((role) => can(role, route.permission!))).toEqual([...ROLES]);
    }
  });

  it('build a valid OpenAPI 3.1 document naming every query parameter', () => {
    const doc = buildOpenApiDocument({ title: 'usage', version: '1', routes: USAGE_ROUTES });
    expect(openApi31Errors(doc)).toEqual([]);
    const range = doc.paths['/v1/usage']!['get'] as { parameters: { name: string }[] };
    expect(range.parameters.map((p) => p.name)).toEqual(['metric', 'from', 'to', 'granularity', 'customerId']);
  });
});

describe('usage bodies', () => {
  it('carry quantities as exact decimal strings, never numbers', () => {
    const customer = compileValidator(CustomerUsage);
    const period = {
      subscriptionId: '0b0e7a3c-1d2e-4f50-8a6b-7c8d9e0f1a2b',
      planCode: 'pro',
      planVersion: 1,
      period: { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z' },
      metrics: [{ metricKey: 'API_CALL', aggregation: 'SUM', quantity: '12000.5', eventCount: 12000 }],
    };
    expect(customer({ customerId: 'user_123', periods: [period] }).ok).toBe(true);
    const float = customer({
      customerId: 'user_123',
      periods: [{ ...period, metrics: [{ ...period.metrics[0], quantity: 12000.5 }] }],
    });
    expect(float.ok || float.issues.map((i) => i.field)).toEqual(['periods[0].metrics[0].quantity']);

    const range = compileValidator(UsageRange);
    const answer = {
      metric: 'API_CALL',
      aggregation: 'COUNT',
      granularity: 'DAY',
      from: '2025-03-01T00:00:00.000Z',
      to: '2025-03-02T00:00:00.000Z',
      buckets: [{ start: '2025-03-01T00:00:00.000Z', end: '2025-03-02T00:00:00.000Z', quantity: '0', eventCount: 0 }],
    };
    expect(range(answer).ok).toBe(true);
    expect(range({ ...answer, customerId: 'user_123' }).ok).toBe(true);
    expect(range({ ...answer, granularity: 'WEEK' }).ok).toBe(false);
  });
});
