import { UsageRecordedData as UsageRecordedDataSchema, validateBody } from '@usageflow/contracts';
import { normalizeBatch, normalizeUsageEvent, prefixErrors, prefixField } from './normalize';
import { accepted, DAY, errorsOf, MINUTE, options, RECEIVED_AT } from './testing';

const noNewId = () => {
  throw new Error('an id was generated for an event that has one');
};

/** The product documentation's example body. */
const docsBody = { metric: 'API_CALL', amount: 1, customerId: 'user_123' };

function at(offsetMs: number): string {
  return new Date(Date.parse(RECEIVED_AT) + offsetMs).toISOString();
}

describe('normalizeUsageEvent', () => {
  it('turns the documented body into usage.recorded data with a generated id and defaults', () => {
    const result = accepted(normalizeUsageEvent(docsBody, options()));

    expect(result.generatedId).toBe(true);
    expect(result.data).toStrictEqual({
      eventId: 'generated-1',
      customerId: 'user_123',
      metric: 'API_CALL',
      amount: '1',
      timestamp: RECEIVED_AT,
      properties: {},
      receivedAt: RECEIVED_AT,
    });
    expect(validateBody(UsageRecordedDataSchema, result.data).ok).toBe(true);
  });

  it("keeps the sender's id, timestamp and properties, and records the API key", () => {
    const apiKeyId = 'a3c1d6a0-1f7e-4c1b-9f57-3d1b8f0a6e21';
    const body = {
      ...docsBody,
      id: 'req_8f2a1c',
      timestamp: '2025-03-14T11:59:00Z',
      properties: { model: 'gpt-4', tokens: 12, cached: false },
    };

    const result = accepted(normalizeUsageEvent(body, options({ newId: noNewId, apiKeyId })));

    expect(result.generatedId).toBe(false);
    expect(result.data).toStrictEqual({
      eventId: 'req_8f2a1c',
      customerId: 'user_123',
      metric: 'API_CALL',
      amount: '1',
      timestamp: '2025-03-14T11:59:00.000Z',
      properties: { model: 'gpt-4', tokens: 12, cached: false },
      receivedAt: RECEIVED_AT,
      apiKeyId,
    });
    expect(validateBody(UsageRecordedDataSchema, result.data).ok).toBe(true);
  });

  it.each([
    [0.1, '0.1'],
    [1e-7, '0.0000001'],
    [0, '0'],
    [12.345, '12.345'],
    [1e21, '1000000000000000000000'],
    ['2.50', '2.50'],
    ['0.1', '0.1'],
    ['123456789012345678901234567890.123456789', '123456789012345678901234567890.123456789'],
  ])('converts the amount %p exactly to %p', (amount, expected) => {
    expect(accepted(normalizeUsageEvent({ ...docsBody, amount }, options())).data.amount).toBe(expected);
  });

  it.each([
    [-1, 'must be >= 0'],
    ['-1', 'must match pattern "^(0|[1-9]\\d*)(\\.\\d+)?$"'],
    ['NaN', 'must match pattern "^(0|[1-9]\\d*)(\\.\\d+)?$"'],
    ['1e5', 'must match pattern "^(0|[1-9]\\d*)(\\.\\d+)?$"'],
    ['', 'must match pattern "^(0|[1-9]\\d*)(\\.\\d+)?$"'],
    [Number.NaN, 'must be number or string'],
    [Number.POSITIVE_INFINITY, 'must be number or string'],
    [null, 'must be number or string'],
    [1e31, 'must be <= 1e+30'],
    ['1'.repeat(65), 'must NOT have more than 64 characters'],
    // Valid for the schema, but its exact decimal is 300+ digits long.
    [5e-324, 'must NOT have more than 64 characters as a decimal'],
  ])('refuses the amount %p on the field amount', (amount, message) => {
    expect(errorsOf(normalizeUsageEvent({ ...docsBody, amount }, options()))).toEqual([{ field: 'amount', message }]);
  });

  it('refuses a body missing its required fields, naming each', () => {
    expect(errorsOf(normalizeUsageEvent({}, options()))).toEqual([
      { field: 'customerId', message: 'is required' },
      { field: 'metric', message: 'is required' },
      { field: 'amount', message: 'is required' },
    ]);
  });

  it.each([[null], [[docsBody]], ['{"metric":"API_CALL"}'], [42]])('refuses the non-object %p', (input) => {
    expect(errorsOf(normalizeUsageEvent(input, options()))).toEqual([{ field: '', message: 'must be object' }]);
  });

  it('refuses fields the contract does not know, such as an organization', () => {
    expect(errorsOf(normalizeUsageEvent({ ...docsBody, organizationId: 'org_1' }, options()))).toEqual([
      { field: 'organizationId', message: 'is not allowed' },
    ]);
  });

  it('refuses a metric, customer or id the contract does not allow', () => {
    const body = { ...docsBody, metric: 'api_call', customerId: '', id: 'a\nb' };
    expect(errorsOf(normalizeUsageEvent(body, options()))).toEqual([
      { field: 'id', message: 'must match pattern "^[^\\u0000-\\u001F\\u007F]*$"' },
      { field: 'customerId', message: 'must NOT have fewer than 1 characters' },
      { field: 'metric', message: 'must match pattern "^[A-Z][A-Z0-9_]{0,63}$"' },
    ]);
  });

  describe('properties', () => {
    const many = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, i]));

    it('accepts up to 32 flat properties', () => {
      const result = accepted(normalizeUsageEvent({ ...docsBody, properties: many(32) }, options()));
      expect(Object.keys(result.data.properties)).toHaveLength(32);
    });

    it('refuses a 33rd property', () => {
      expect(errorsOf(normalizeUsageEvent({ ...docsBody, properties: many(33) }, options()))).toEqual([
        { field: 'properties', message: 'must NOT have more than 32 properties' },
      ]);
    });

    it.each([[{ b: 1 }], [[1, 2]], [null]])('refuses the nested or empty value %p', (value) => {
      expect(errorsOf(normalizeUsageEvent({ ...docsBody, properties: { userId: value } }, options()))).toEqual([
        { field: 'properties.userId', message: 'must be string or number or boolean' },
      ]);
    });

    it('refuses a string longer than 1024 characters and a name longer than 64', () => {
      expect(errorsOf(normalizeUsageEvent({ ...docsBody, properties: { note: 'x'.repeat(1025) } }, options()))).toEqual(
        [{ field: 'properties.note', message: 'must NOT have more than 1024 characters' }],
      );
      expect(errorsOf(normalizeUsageEvent({ ...docsBody, properties: { ['k'.repeat(65)]: 1 } }, options()))).toEqual([
        { field: 'properties', message: `has an invalid property name "${'k'.repeat(65)}"` },
      ]);
    });
  });

  describe('timestamp', () => {
    const bounds = { maxFutureMs: 5 * MINUTE, maxPastMs: 30 * DAY };

    it('accepts a timestamp exactly at either bound', () => {
      for (const offset of [bounds.maxFutureMs, -bounds.maxPastMs]) {
        const result = accepted(normalizeUsageEvent({ ...docsBody, timestamp: at(offset) }, options(bounds)));
        expect(result.data.timestamp).toBe(at(offset));
      }
    });

    it('refuses a timestamp one millisecond beyond the future bound', () => {
      expect(
        errorsOf(normalizeUsageEvent({ ...docsBody, timestamp: at(bounds.maxFutureMs + 1) }, options(bounds))),
      ).toEqual([
        {
          field: 'timestamp',
          message: `is too far in the future: more than 300000 ms after the event was received (${RECEIVED_AT})`,
        },
      ]);
    });

    it('refuses a timestamp one millisecond beyond the past bound', () => {
      expect(
        errorsOf(normalizeUsageEvent({ ...docsBody, timestamp: at(-bounds.maxPastMs - 1) }, options(bounds))),
      ).toEqual([
        {
          field: 'timestamp',
          message: `is too far in the past: more than 2592000000 ms before the event was received (${RECEIVED_AT})`,
        },
      ]);
    });

    it('prints the timestamp as Date#toISOString does (milliseconds, Z)', () => {
      const cases = [
        ['2025-03-14T12:00:00Z', '2025-03-14T12:00:00.000Z'],
        ['2025-03-14T12:00:00.5Z', '2025-03-14T12:00:00.500Z'],
        ['2025-03-14T12:00:00.123456789Z', '2025-03-14T12:00:00.123Z'],
      ];
      for (const [timestamp, expected] of cases) {
        expect(accepted(normalizeUsageEvent({ ...docsBody, timestamp }, options())).data.timestamp).toBe(expected);
      }
    });

    it('refuses an offset or an impossible date through the contract', () => {
      expect(errorsOf(normalizeUsageEvent({ ...docsBody, timestamp: '2025-03-14T13:00:00+01:00' }, options()))).toEqual(
        [{ field: 'timestamp', message: expect.stringMatching(/^must match pattern/) }],
      );
      expect(errorsOf(normalizeUsageEvent({ ...docsBody, timestamp: '2025-02-30T12:00:00Z' }, options()))).toEqual([
        { field: 'timestamp', message: 'must match format "date-time"' },
      ]);
    });

    it('reports a bad amount and a bad timestamp together', () => {
      const body = { ...docsBody, amount: 5e-324, timestamp: at(DAY) };
      expect(errorsOf(normalizeUsageEvent(body, options())).map((e) => e.field)).toEqual(['amount', 'timestamp']);
    });
  });

  it('reads receivedAt on every call, even from a Date changed in place', () => {
    const receivedAt = new Date(RECEIVED_AT);
    expect(accepted(normalizeUsageEvent(docsBody, options({ receivedAt }))).data.receivedAt).toBe(RECEIVED_AT);

    receivedAt.setTime(receivedAt.getTime() + 1000);

    const data = accepted(normalizeUsageEvent(docsBody, options({ receivedAt }))).data;
    expect(data.receivedAt).toBe('2025-03-14T12:00:01.120Z');
    expect(data.timestamp).toBe('2025-03-14T12:00:01.120Z');
  });
});

describe('normalizeBatch', () => {
  it('splits a batch into accepted and refused events, by index, in order', () => {
    const inputs = [
      docsBody,
      { ...docsBody, amount: -1 },
      { ...docsBody, id: 'req_2', amount: '2.5' },
      { ...docsBody, metric: 'nope' },
      docsBody,
    ];

    const batch = normalizeBatch(inputs, options());

    expect(batch.accepted.map((a) => [a.index, a.data.eventId, a.data.amount, a.generatedId])).toEqual([
      [0, 'generated-1', '1', true],
      [2, 'req_2', '2.5', false],
      [4, 'generated-2', '1', true],
    ]);
    expect(batch.refused).toEqual([
      { index: 1, errors: [{ field: 'amount', message: 'must be >= 0' }] },
      { index: 3, errors: [{ field: 'metric', message: expect.stringMatching(/^must match pattern/) }] },
    ]);
  });

  it('uses the given normalizer for each event', () => {
    const seen: unknown[] = [];
    const batch = normalizeBatch(['a', 'b'], options(), (input) => {
      seen.push(input);
      return { ok: false, errors: [{ field: 'x', message: String(input) }] };
    });

    expect(seen).toEqual(['a', 'b']);
    expect(batch.refused.map((r) => r.errors[0]?.message)).toEqual(['a', 'b']);
  });
});

describe('prefixing batch fields', () => {
  it.each([
    ['amount', 'events[3].amount'],
    ['properties.userId', 'events[3].properties.userId'],
    ['', 'events[3]'],
    ['[0]', 'events[3][0]'],
  ])('names %p of the fourth event %p', (field, expected) => {
    expect(prefixField('events[3]', field)).toBe(expected);
  });

  it('leaves a field alone under an empty prefix', () => {
    expect(prefixField('', 'amount')).toBe('amount');
  });

  it('prefixes every error of an event, keeping the messages', () => {
    const errors = [
      { field: 'amount', message: 'must be >= 0' },
      { field: 'metric', message: 'is required' },
      { field: '', message: 'must be object' },
    ];
    expect(prefixErrors('events[1]', errors)).toEqual([
      { field: 'events[1].amount', message: 'must be >= 0' },
      { field: 'events[1].metric', message: 'is required' },
      { field: 'events[1]', message: 'must be object' },
    ]);
  });
});
