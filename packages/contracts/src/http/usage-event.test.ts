import { openApi31Errors } from '../../test/oas31';
import { validateBody } from '../validate';
import { ContractViolationError } from '../errors';
import { buildOpenApiDocument } from './openapi';
import {
  INGESTION_ROUTES,
  MAX_BATCH_SIZE,
  UsageEventBatchAccepted,
  UsageEventBatchBody,
  UsageEventBody,
  normalizeUsageAmount,
} from './usage-event';

const valid = { metric: 'API_CALL', amount: 1, customerId: 'user_123' };

describe('usage event body', () => {
  it.each([
    [valid],
    [{ ...valid, amount: '2.5' }],
    [{ ...valid, amount: 0 }],
    [
      {
        ...valid,
        id: 'req_1',
        timestamp: '2025-03-14T12:00:00.000Z',
        properties: { model: 'gpt-4', tokens: 12, cached: true },
      },
    ],
  ])('accepts %p', (body) => {
    expect(validateBody(UsageEventBody, body).ok).toBe(true);
  });

  it.each([
    [{ ...valid, amount: -1 }, 'amount: must be >= 0'],
    [{ ...valid, amount: '-1' }, 'amount: must match pattern "^(0|[1-9]\\d*)(\\.\\d+)?$"'],
    [{ ...valid, amount: '1e5' }, 'amount: must match pattern "^(0|[1-9]\\d*)(\\.\\d+)?$"'],
    [{ ...valid, amount: null }, 'amount: must be number or string'],
    [{ ...valid, metric: 'api_call' }, 'metric: must match pattern "^[A-Z][A-Z0-9_]{0,63}$"'],
    [{ ...valid, customerId: '' }, 'customerId: must NOT have fewer than 1 characters'],
    [{ ...valid, timestamp: '2025-03-14T12:00:00+01:00' }, expect.stringMatching(/^timestamp: must match pattern/)],
    [{ ...valid, organizationId: 'x' }, 'organizationId: is not allowed'],
    [{ metric: 'API_CALL', amount: 1 }, 'customerId: is required'],
  ])('rejects %p with a line naming the field', (body, error) => {
    const result = validateBody(UsageEventBody, body);
    expect(result.ok || result.errors).toEqual([error]);
  });

  it('validates a batch all together, pointing at the bad event', () => {
    const result = validateBody(UsageEventBatchBody, { events: [valid, { ...valid, amount: '-3' }] });
    expect(result.ok || result.errors).toEqual([expect.stringMatching(/^events\[1\]\.amount: must match pattern/)]);
  });

  it('bounds a batch', () => {
    expect(validateBody(UsageEventBatchBody, { events: [] }).ok).toBe(false);
    expect(validateBody(UsageEventBatchBody, { events: Array(MAX_BATCH_SIZE).fill(valid) }).ok).toBe(true);
    expect(validateBody(UsageEventBatchBody, { events: Array(MAX_BATCH_SIZE + 1).fill(valid) }).ok).toBe(false);
  });
});

describe('normalizeUsageAmount', () => {
  it.each([
    ['2.50', '2.50'],
    [2.5, '2.5'],
    [0, '0'],
    [-0, '0'],
    [0.1, '0.1'],
    [12000, '12000'],
    [1e21, '1000000000000000000000'],
    [1.5e-7, '0.00000015'],
    [123456789.123, '123456789.123'],
  ])('%p -> %p, exactly', (amount, expected) => {
    expect(normalizeUsageAmount(amount)).toBe(expected);
  });

  it.each([[-1], [Number.NaN], [Number.POSITIVE_INFINITY], ['-1'], ['1e5'], [5e-324]])('refuses %p', (amount) => {
    expect(() => normalizeUsageAmount(amount)).toThrow(ContractViolationError);
  });
});

describe('ingestion routes', () => {
  it('are the architecture paths, for API keys with events:write, in a valid OpenAPI 3.1 document with CloudEvents bodies', () => {
    expect(INGESTION_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`)).toEqual([
      'POST /v1/events',
      'POST /v1/events/batch',
    ]);
    expect(INGESTION_ROUTES.every((r) => r.auth === 'apiKey' && r.scope === 'events:write')).toBe(true);
    const doc = buildOpenApiDocument({ title: 'ingestion', version: '1', routes: INGESTION_ROUTES });
    expect(openApi31Errors(doc)).toEqual([]);
    const single = doc.paths['/v1/events']!['post'] as {
      requestBody: { content: Record<string, unknown> };
      responses: Record<string, unknown>;
    };
    expect(Object.keys(single.requestBody.content).sort()).toEqual([
      'application/cloudevents+json',
      'application/cloudevents-batch+json',
      'application/json',
    ]);
    expect(Object.keys(single.responses)).toEqual(expect.arrayContaining(['202', '413', '422', '429', '503']));
  });

  it('a batch answer lists each event as accepted with its id or refused with its fields', () => {
    const answer = {
      accepted: 1,
      refused: 1,
      results: [
        { index: 0, id: 'req_1' },
        { index: 1, errors: [{ field: 'amount', message: 'must be >= 0' }] },
      ],
    };
    expect(validateBody(UsageEventBatchAccepted, answer).ok).toBe(true);
    expect(validateBody(UsageEventBatchAccepted, { ...answer, results: [{ index: 1, errors: [] }] }).ok).toBe(false);
  });
});
