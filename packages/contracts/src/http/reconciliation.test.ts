import { openApi31Errors } from '../../test/oas31';
import { ROLES, can } from '../roles';
import { compileValidator } from '../validate';
import { buildOpenApiDocument } from './openapi';
import { EventTrace, RECONCILIATION_ROUTES } from './reconciliation';

describe('reconciliation routes', () => {
  it("are the architecture's trace and reconciliation paths, and the unbilled usage beside them", () => {
    expect(RECONCILIATION_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort()).toEqual([
      'GET /v1/events/{id}',
      'GET /v1/reconciliation',
      'GET /v1/reconciliation/unbilled',
    ]);
  });

  it('are read by every role and by API keys with the usage:read scope', () => {
    for (const route of RECONCILIATION_ROUTES) {
      expect([route.auth, route.permission]).toEqual(['jwtOrApiKey', 'usage:read']);
      expect(ROLES.filter((role) => can(role, route.permission!))).toEqual([...ROLES]);
    }
  });

  it('build a valid OpenAPI 3.1 document', () => {
    const doc = buildOpenApiDocument({ title: 'reconciliation', version: '1', routes: RECONCILIATION_ROUTES });
    expect(openApi31Errors(doc)).toEqual([]);
    const list = doc.paths['/v1/reconciliation']!['get'] as { parameters: { name: string }[] };
    expect(list.parameters.map((p) => p.name)).toEqual([
      'limit',
      'cursor',
      'customerId',
      'metric',
      'period',
      'from',
      'to',
    ]);
  });
});

describe('event trace body', () => {
  const valid = compileValidator(EventTrace);
  const trace = {
    eventId: 'req_1',
    customerId: 'user_123',
    metricKey: 'API_CALL',
    amount: '1',
    timestamp: '2025-03-10T12:00:00.000Z',
    outcome: 'PENDING',
    waiting: { code: 'PERIOD_OPEN', detail: 'The period ends at 2025-04-01T00:00:00.000Z' },
    accepted: {
      topic: 'usageflow.usage-events.v1',
      partition: 0,
      offset: '12',
      acceptedAt: '2025-03-10T12:00:00.100Z',
    },
    stored: { storedAt: '2025-03-10T12:00:00.300Z' },
    duplicates: { count: 0, arrivals: [] },
    rollup: { metricKey: 'API_CALL', hour: { start: '2025-03-10T12:00:00.000Z', end: '2025-03-10T13:00:00.000Z' } },
    subscriptions: [],
  };

  it('accepts a trace of an event in an open period', () => {
    expect(valid(trace).ok).toBe(true);
  });

  it('refuses an unknown reason and a numeric amount', () => {
    expect(valid({ ...trace, waiting: { code: 'SOMETHING', detail: 'x' } }).ok).toBe(false);
    expect(valid({ ...trace, amount: 1 }).ok).toBe(false);
  });
});
