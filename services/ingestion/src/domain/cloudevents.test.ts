import { fromCloudEvent, normalizeCloudEvent, normalizeCloudEventBatch } from './cloudevents';
import type { NormalizeOptions } from './normalize';
import { accepted, errorsOf, options as baseOptions, RECEIVED_AT } from './testing';

/** A CloudEvent always has an id: none is ever generated. */
function options(overrides: Partial<NormalizeOptions> = {}): NormalizeOptions {
  return baseOptions({
    newId: () => {
      throw new Error('a CloudEvent always has an id');
    },
    ...overrides,
  });
}

/** An OpenMeter-style usage CloudEvent. */
const event = {
  specversion: '1.0',
  id: 'evt-0001',
  source: 'my-api',
  type: 'API_CALL',
  subject: 'user_123',
  time: '2025-03-14T11:59:00.000Z',
  data: { amount: '2.5', model: 'gpt-4', cached: false },
};

describe('fromCloudEvent', () => {
  it('maps the attributes onto our body', () => {
    const mapped = fromCloudEvent(event);
    expect(mapped.ok && mapped.body).toStrictEqual({
      id: 'evt-0001',
      customerId: 'user_123',
      metric: 'API_CALL',
      amount: '2.5',
      timestamp: '2025-03-14T11:59:00.000Z',
      properties: { model: 'gpt-4', cached: false },
    });
  });

  it('counts one for an event without data, and leaves out an absent or null time', () => {
    const { data: _data, time: _time, ...bare } = event;
    for (const ce of [bare, { ...bare, data: null, time: null }]) {
      const mapped = fromCloudEvent(ce);
      expect(mapped.ok && mapped.body).toStrictEqual({
        id: 'evt-0001',
        customerId: 'user_123',
        metric: 'API_CALL',
        amount: 1,
        properties: {},
      });
    }
  });

  it('keeps a "__proto__" member of data as a property instead of losing it', () => {
    const data = JSON.parse('{"amount": 1, "__proto__": "x"}') as unknown;
    const mapped = fromCloudEvent({ ...event, data });
    expect(mapped.ok && Object.keys(mapped.body['properties'] as object)).toEqual(['__proto__']);
  });
});

describe('normalizeCloudEvent', () => {
  it('turns a CloudEvent into usage.recorded data', () => {
    const result = accepted(normalizeCloudEvent(event, options({ apiKeyId: 'a3c1d6a0-1f7e-4c1b-9f57-3d1b8f0a6e21' })));
    expect(result.generatedId).toBe(false);
    expect(result.data).toStrictEqual({
      eventId: 'evt-0001',
      customerId: 'user_123',
      metric: 'API_CALL',
      amount: '2.5',
      timestamp: '2025-03-14T11:59:00.000Z',
      properties: { model: 'gpt-4', cached: false },
      receivedAt: RECEIVED_AT,
      apiKeyId: 'a3c1d6a0-1f7e-4c1b-9f57-3d1b8f0a6e21',
    });
  });

  it.each([
    [{ amount: 0.1 }, '0.1'],
    [{ amount: 1e-7 }, '0.0000001'],
    [{ value: 3 }, '3'],
    [{ value: '2.50' }, '2.50'],
    [{ tokens: 12 }, '1'],
  ])('reads the amount of data %p as %p', (data, amount) => {
    expect(accepted(normalizeCloudEvent({ ...event, data }, options())).data.amount).toBe(amount);
  });

  it('defaults the timestamp to receivedAt when time is absent', () => {
    const { time: _time, ...noTime } = event;
    expect(accepted(normalizeCloudEvent(noTime, options())).data.timestamp).toBe(RECEIVED_AT);
  });

  it.each([
    ['2025-03-14T13:59:00+02:00', '2025-03-14T11:59:00.000Z'],
    ['2025-03-14T06:29:00.123456-05:30', '2025-03-14T11:59:00.123Z'],
    ['2025-03-14t11:59:00z', '2025-03-14T11:59:00.000Z'],
    ['2025-03-14T23:30:00+12:00', '2025-03-14T11:30:00.000Z'],
  ])('converts the RFC 3339 time %p to UTC %p', (time, timestamp) => {
    expect(accepted(normalizeCloudEvent({ ...event, time }, options())).data.timestamp).toBe(timestamp);
  });

  it.each([['2025-02-30T12:00:00+01:00'], ['2025-03-14T24:00:00+01:00'], ['2025-03-14T12:00:00+24:00']])(
    'refuses the impossible time %p on time',
    (time) => {
      expect(errorsOf(normalizeCloudEvent({ ...event, time }, options()))).toEqual([
        { field: 'time', message: 'must match format "date-time"' },
      ]);
    },
  );

  it.each([['2025-03-14 12:00:00Z'], ['2025-03-14T12:00:00']])('refuses the time %p, not RFC 3339, on time', (time) => {
    expect(errorsOf(normalizeCloudEvent({ ...event, time }, options()))).toEqual([
      { field: 'time', message: expect.stringMatching(/^must match (pattern|format)/) },
    ]);
  });

  it('refuses a time beyond the bounds on time', () => {
    expect(errorsOf(normalizeCloudEvent({ ...event, time: '2025-03-14T12:05:00.121Z' }, options()))).toEqual([
      { field: 'time', message: expect.stringMatching(/^is too far in the future/) },
    ]);
  });

  it('names the CloudEvents attribute in the errors the contract finds', () => {
    const ce = {
      ...event,
      id: '',
      subject: 7,
      type: 'com.example.api_call',
      data: { amount: '-1', region: { name: 'eu' } },
    };
    expect(errorsOf(normalizeCloudEvent(ce, options()))).toEqual([
      { field: 'id', message: 'must NOT have fewer than 1 characters' },
      { field: 'subject', message: 'must be string' },
      { field: 'type', message: 'must match pattern "^[A-Z][A-Z0-9_]{0,63}$"' },
      { field: 'data.amount', message: expect.stringMatching(/^must match pattern/) },
      { field: 'data.region', message: 'must be string or number or boolean' },
    ]);
  });

  it('names data.value when the amount came from there', () => {
    expect(errorsOf(normalizeCloudEvent({ ...event, data: { value: -2 } }, options()))).toEqual([
      { field: 'data.value', message: 'must be >= 0' },
    ]);
  });

  it('names data when it has too many members', () => {
    const data = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`p${i}`, i]));
    expect(errorsOf(normalizeCloudEvent({ ...event, data }, options()))).toEqual([
      { field: 'data', message: 'must NOT have more than 32 properties' },
    ]);
  });

  it.each([
    [{ specversion: '0.3' }, { field: 'specversion', message: 'must be equal to "1.0"' }],
    [{ specversion: 1 }, { field: 'specversion', message: 'must be equal to "1.0"' }],
    [{ specversion: undefined }, { field: 'specversion', message: 'is required' }],
    [{ id: null }, { field: 'id', message: 'is required' }],
    [{ source: undefined }, { field: 'source', message: 'is required' }],
    [{ source: '' }, { field: 'source', message: 'must be a non-empty string' }],
    [{ type: undefined }, { field: 'type', message: 'is required: the metric, e.g. "API_CALL"' }],
    [{ subject: null }, { field: 'subject', message: 'is required: the customer the usage is billed to' }],
    [
      { datacontenttype: 'application/xml' },
      { field: 'datacontenttype', message: 'must be a JSON media type (application/json or */*+json)' },
    ],
    [
      { datacontenttype: 'text/plain' },
      { field: 'datacontenttype', message: 'must be a JSON media type (application/json or */*+json)' },
    ],
    [
      { datacontenttype: 'application/json-seq' },
      { field: 'datacontenttype', message: 'must be a JSON media type (application/json or */*+json)' },
    ],
    [
      { datacontenttype: 'application/x-json' },
      { field: 'datacontenttype', message: 'must be a JSON media type (application/json or */*+json)' },
    ],
    [{ data: 'I am a string' }, { field: 'data', message: 'must be object' }],
    [{ data: [1] }, { field: 'data', message: 'must be object' }],
    [{ data: 5 }, { field: 'data', message: 'must be object' }],
    [
      { data: undefined, data_base64: 'AAEC' },
      { field: 'data_base64', message: 'is not supported: send the data as a JSON object in `data`' },
    ],
    [{ data: { amount: 1, value: 2 } }, { field: 'data.value', message: 'must not be sent together with data.amount' }],
    [{ amount: 5 }, { field: 'amount', message: 'belongs in data (data.amount), not beside the attributes' }],
    [
      { customerId: 'user_123' },
      { field: 'customerId', message: 'is not a CloudEvents attribute (names are lowercase letters and digits)' },
    ],
  ])('refuses %p', (change, error) => {
    expect(errorsOf(normalizeCloudEvent({ ...event, ...change }, options()))).toEqual([error]);
  });

  it.each([
    ['application/json'],
    ['application/json; charset=utf-8'],
    ['text/json'],
    ['application/vnd.usage+json'],
    ['APPLICATION/JSON'],
  ])('accepts the JSON content type %p', (datacontenttype) => {
    expect(normalizeCloudEvent({ ...event, datacontenttype }, options()).ok).toBe(true);
  });

  it('ignores extension attributes', () => {
    const ce = { ...event, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', dataschema: 'x' };
    expect(normalizeCloudEvent(ce, options()).ok).toBe(true);
  });

  it('reports every structural problem at once', () => {
    expect(errorsOf(normalizeCloudEvent({ data: 'x' }, options())).map((e) => e.field)).toEqual([
      'specversion',
      'source',
      'id',
      'subject',
      'type',
      'data',
    ]);
  });

  it.each([[null], [[event]], ['{}']])('refuses the non-object %p', (ce) => {
    expect(errorsOf(normalizeCloudEvent(ce, options()))).toEqual([{ field: '', message: 'must be object' }]);
  });
});

describe('normalizeCloudEventBatch', () => {
  it('normalizes each event of the array, by index', () => {
    const batch = normalizeCloudEventBatch(
      [event, { ...event, subject: undefined }, { ...event, id: 'evt-0002' }],
      options(),
    );

    expect(batch.accepted.map((a) => [a.index, a.data.eventId])).toEqual([
      [0, 'evt-0001'],
      [2, 'evt-0002'],
    ]);
    expect(batch.refused).toEqual([{ index: 1, errors: [{ field: 'subject', message: expect.any(String) }] }]);
  });
});
