import { Type } from '@sinclair/typebox';
import { openApi31Errors } from '../../test/oas31';
import { UsageEventBody } from './usage-event';
import { buildOpenApiDocument, toExpressPath, type RouteSpec } from './openapi';
import { Page } from './pagination';
import { compileValidator } from '../validate';

const Metric = Type.Object({ key: Type.String(), name: Type.String() });
const routes: RouteSpec[] = [
  {
    method: 'post',
    path: '/v1/metrics',
    operationId: 'createMetric',
    summary: 'Create a metric',
    tag: 'metrics',
    auth: 'jwt',
    permission: 'catalog:manage',
    body: Metric,
    idempotent: true,
    responses: { 201: { description: 'Created', schema: Metric } },
  },
  {
    method: 'get',
    path: '/v1/metrics/{key}',
    operationId: 'getMetric',
    summary: 'Get a metric',
    tag: 'metrics',
    auth: 'jwtOrApiKey',
    responses: { 200: { description: 'The metric', schema: Metric } },
  },
  {
    method: 'get',
    path: '/v1/metrics',
    operationId: 'listMetrics',
    summary: 'List metrics',
    tag: 'metrics',
    auth: 'jwt',
    query: { limit: Type.Integer({ minimum: 1, maximum: 200 }), cursor: Type.String() },
    responses: { 200: { description: 'A page of metrics', schema: Page(Metric) } },
  },
  {
    method: 'post',
    path: '/v1/events',
    operationId: 'sendEvent',
    summary: 'Send a usage event',
    tag: 'events',
    auth: 'apiKey',
    body: UsageEventBody,
    responses: { 202: { description: 'Accepted' } },
  },
];

describe('buildOpenApiDocument', () => {
  const doc = buildOpenApiDocument({ title: 'UsageFlow', version: '0.1.0', routes });

  it('produces a document valid against the official OpenAPI 3.1 schema', () => {
    expect(openApi31Errors(doc)).toEqual([]);
    // and a broken operation is caught, so the check can fail
    const broken = JSON.parse(JSON.stringify(doc));
    broken.paths['/v1/metrics'].post.responses = { 201: { content: {} } };
    expect(openApi31Errors(broken)).not.toEqual([]);
    // and every embedded schema compiles under the contracts' strict validator
    for (const route of routes)
      for (const s of [route.body, ...Object.values(route.responses).map((r) => r.schema)]) {
        if (s) expect(() => compileValidator(s)(null)).not.toThrow(); // validating compiles (lazily)
      }
  });

  it('describes auth, permissions, idempotency and the problem responses of each route', () => {
    const create = doc.paths['/v1/metrics']!['post'] as Record<string, unknown>;
    expect(create['security']).toEqual([{ bearerAuth: [] }]);
    expect(create['x-usageflow-permission']).toBe('catalog:manage');
    expect(Object.keys(create['responses'] as object).sort()).toEqual(['201', '400', '401', '403', '422', '500']);
    expect(create['parameters']).toEqual([expect.objectContaining({ name: 'Idempotency-Key', in: 'header' })]);
    const get = doc.paths['/v1/metrics/{key}']!['get'] as Record<string, unknown>;
    expect(get['security']).toEqual([{ bearerAuth: [] }, { apiKey: [] }]);
    expect(get['parameters']).toEqual([expect.objectContaining({ name: 'key', in: 'path', required: true })]);
    expect(Object.keys(get['responses'] as object)).toContain('404');
  });

  it('refuses the same operation declared twice', () => {
    expect(() => buildOpenApiDocument({ title: 't', version: '1', routes: [routes[0]!, routes[0]!] })).toThrow(
      /duplicate operationId createMetric/,
    );
  });

  it('maps OpenAPI paths to Express paths', () => {
    expect(toExpressPath('/v1/invoices/{id}/payments')).toBe('/v1/invoices/:id/payments');
  });
});
