import { EVENT_CATALOG } from './event-catalog';
import { ContractViolationError } from './errors';
import { assertValidEvent, parseEvent, validateEvent } from './validate-event';

// A mutable deep copy of a catalog example, to break one thing at a time.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary fields
function exampleOf(type: keyof typeof EVENT_CATALOG, index = 0): Record<string, any> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return JSON.parse(JSON.stringify(EVENT_CATALOG[type].examples[index])) as Record<string, any>;
}

function errorsOf(value: unknown): string[] {
  const result = validateEvent(value);
  if (result.ok) throw new Error('expected the event to be rejected');
  return result.errors;
}

describe('validateEvent', () => {
  it('accepts a valid event and returns it typed', () => {
    // given a valid usage.recorded
    const event = exampleOf('usage.recorded');
    // when validated
    const result = validateEvent(event);
    // then it is accepted as is
    expect(result.ok).toBe(true);
    if (result.ok && result.event.type === 'usage.recorded') expect(result.event.data.amount).toBe('1');
  });

  describe('names the field of what is wrong', () => {
    it('a missing data field', () => {
      const event = exampleOf('usage.recorded');
      delete event['data'].customerId;
      expect(errorsOf(event)).toEqual(['data.customerId: is required']);
    });

    it('a field of the wrong type', () => {
      const event = exampleOf('invoice.created');
      event['data'].amountCents = '12000';
      expect(errorsOf(event)).toEqual(['data.amountCents: must be integer']);
    });

    it.each([['1e5'], ['-1'], ['1.'], ['.5'], ['01'], ['1,5'], [' 1'], ['NaN']])(
      'a usage amount that is not a plain non-negative decimal string: %p',
      (amount) => {
        const event = exampleOf('usage.recorded');
        event['data'].amount = amount;
        expect(errorsOf(event)).toEqual([expect.stringMatching(/^data\.amount: must match pattern "/)]);
      },
    );

    it('a usage amount given as a JSON number (money and quantities are never floats on the wire)', () => {
      const event = exampleOf('usage.recorded');
      event['data'].amount = 2.5;
      expect(errorsOf(event)).toEqual(['data.amount: must be string']);
    });

    it('a price that is not a decimal string', () => {
      const event = exampleOf('plan.created');
      event['data'].planMetrics[0].overageUnitPrice = '-0.01';
      expect(errorsOf(event)).toEqual([
        expect.stringMatching(/^data\.planMetrics\[0\]\.overageUnitPrice: must match pattern/),
      ]);
    });

    it('fractional minor units', () => {
      const event = exampleOf('invoice.created');
      event['data'].lines[0].amountCents = 10000.5;
      expect(errorsOf(event)).toEqual(['data.lines[0].amountCents: must be integer']);
    });

    it.each([
      ['2025-03-14T12:00:00+02:00'],
      ['2025-03-14T12:00:00'],
      ['2025-03-14 12:00:00Z'],
      ['2025-03-14T12:00:00z'],
    ])('a timestamp that is not UTC with a Z suffix: %p', (occurredAt) => {
      const event = exampleOf('usage.recorded');
      event['occurredAt'] = occurredAt;
      expect(errorsOf(event)).toEqual([expect.stringMatching(/^occurredAt: must match (pattern|format)/)]);
    });

    it('a date that does not exist', () => {
      const event = exampleOf('usage.recorded');
      event['data'].timestamp = '2025-02-30T00:00:00Z';
      expect(errorsOf(event)).toEqual(['data.timestamp: must match format "date-time"']);
    });

    it('an unknown event type', () => {
      const event = exampleOf('usage.recorded');
      event['type'] = 'foo.bar';
      expect(errorsOf(event)).toEqual(['type: unknown event type "foo.bar"']);
    });

    it('an unknown type together with other envelope problems', () => {
      const event = exampleOf('usage.recorded');
      event['type'] = 'Foo';
      event['id'] = 'not-a-uuid';
      expect(errorsOf(event)).toEqual(['type: unknown event type "Foo"', 'id: must match format "uuid"']);
    });

    it('an extra envelope field', () => {
      const event = exampleOf('usage.recorded');
      event['traceId'] = 'abc';
      expect(errorsOf(event)).toEqual(['traceId: is not allowed']);
    });

    it('an extra data field', () => {
      const event = exampleOf('customer.created');
      event['data'].phone = '+1 555 0100';
      expect(errorsOf(event)).toEqual(['data.phone: is not allowed']);
    });

    it('an uppercase uuid', () => {
      const event = exampleOf('invoice.paid');
      event['organizationId'] = event['organizationId'].toUpperCase();
      expect(errorsOf(event)).toEqual([expect.stringMatching(/^organizationId: must match pattern/)]);
    });

    it('a version this contract does not know', () => {
      const event = exampleOf('invoice.paid');
      event['version'] = 2;
      expect(errorsOf(event)).toEqual([
        'version: unsupported version 2 of "invoice.paid" (this contract knows version 1)',
      ]);
    });

    it('a missing envelope field', () => {
      const event = exampleOf('invoice.paid');
      delete event['producer'];
      expect(errorsOf(event)).toEqual(['producer: is required']);
    });

    it('every problem at once', () => {
      const event = exampleOf('usage.recorded');
      event['data'].amount = '-1';
      event['data'].metric = 'api_call';
      delete event['data'].receivedAt;
      expect(errorsOf(event)).toEqual(
        expect.arrayContaining([
          'data.receivedAt: is required',
          expect.stringMatching(/^data\.metric: must match pattern/),
          expect.stringMatching(/^data\.amount: must match pattern/),
        ]),
      );
    });

    it('a usage property that is not a flat scalar', () => {
      const event = exampleOf('usage.recorded');
      event['data'].properties = { nested: { a: 1 } };
      expect(errorsOf(event)).toEqual(['data.properties.nested: must be string or number or boolean']);
    });

    it('an invoice line of an unknown kind', () => {
      const event = exampleOf('invoice.created');
      event['data'].lines[1].kind = 'discount';
      expect(errorsOf(event)).toEqual(['data.lines[1].kind: must be one of: base, usage, late_usage']);
    });

    it('a usage line without its metric', () => {
      const event = exampleOf('invoice.created');
      delete event['data'].lines[1].metricKey;
      expect(errorsOf(event)).toEqual(['data.lines[1].metricKey: is required']);
    });

    it('a late usage line without the period it belongs to', () => {
      const event = exampleOf('invoice.created', 1);
      delete event['data'].lines[2].period;
      expect(errorsOf(event)).toEqual(['data.lines[2].period: is required']);
    });

    it('a UNIQUE_COUNT metric without the property it counts', () => {
      const event = exampleOf('metric.created', 1);
      delete event['data'].uniqueProperty;
      expect(errorsOf(event)).toEqual(['data.uniqueProperty: is required']);
    });

    it('a private key in a published JWK', () => {
      const event = exampleOf('signing_key.published');
      event['data'].publicJwk.d = 'c2VjcmV0';
      expect(errorsOf(event)).toEqual(['data.publicJwk.d: is not allowed']);
    });

    it('a nullable period given a wrong type', () => {
      const event = exampleOf('subscription.period_closed');
      event['data'].nextPeriod = 'next';
      expect(errorsOf(event)).toEqual(['data.nextPeriod: must be object or null']);
    });
  });

  it.each([[null], ['invoice.created'], [[]], [42]])('rejects a non-object: %p', (value) => {
    expect(errorsOf(value)).toEqual(['must be object']);
  });

  it('accepts a period_closed that ends the subscription (no next period)', () => {
    const event = exampleOf('subscription.period_closed');
    event['data'].nextPeriod = null;
    expect(validateEvent(event).ok).toBe(true);
  });
});

describe('assertValidEvent', () => {
  it('returns a valid event', () => {
    const event = exampleOf('invoice.paid');
    expect(assertValidEvent(event)).toEqual(event);
  });

  it('throws a non-retriable ContractViolationError listing every problem', () => {
    // given an event with two problems
    const event = exampleOf('invoice.paid');
    event['data'].currency = 'usd';
    delete event['data'].paidAt;
    // when asserted
    let thrown: unknown;
    try {
      assertValidEvent(event);
    } catch (error) {
      thrown = error;
    }
    // then the error carries both, readable
    expect(thrown).toBeInstanceOf(ContractViolationError);
    const violation = thrown as ContractViolationError;
    expect(violation.retriable).toBe(false);
    expect(violation.errors).toEqual(['data.paidAt: is required', 'data.currency: must match pattern "^[A-Z]{3}$"']);
    expect(violation.message).toBe(`invalid event: ${violation.errors.join('; ')}`);
  });
});

describe('parseEvent', () => {
  it('parses a Kafka message value', () => {
    const event = exampleOf('usage.recorded');
    expect(parseEvent(Buffer.from(JSON.stringify(event)))).toEqual(event);
    expect(parseEvent(JSON.stringify(event))).toEqual(event);
  });

  it.each([[null], ['{not json'], ['{"type":"usage.recorded"}']])('rejects %p as a contract violation', (raw) => {
    expect(() => parseEvent(raw)).toThrow(ContractViolationError);
  });
});
