import { Type } from '@sinclair/typebox';
import { Closed, DecimalString, Nullable } from './common';
import { ContractViolationError } from './errors';
import { assertValid, compileValidator, fieldPath, validateBody } from './validate';

const Body = Closed({
  name: Type.String({ minLength: 1 }),
  price: DecimalString,
  tags: Type.Optional(Type.Array(Closed({ label: Type.String({ maxLength: 3 }) }))),
  note: Type.Optional(Nullable(Type.String({ maxLength: 5 }))),
});

describe('validateBody', () => {
  it('returns the typed value when valid', () => {
    const result = validateBody(Body, { name: 'Pro', price: '100.00' });
    expect(result).toEqual({ ok: true, value: { name: 'Pro', price: '100.00' } });
  });

  it('lists every problem with its field path, as lines and as {field, message}', () => {
    // given a body with three problems at different depths
    const body = { price: 100, tags: [{ label: 'ok' }, { label: 'toolong' }], extra: true };
    // when validated
    const result = validateBody(Body, body);
    // then each problem names its field
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      'name: is required',
      'extra: is not allowed',
      'price: must be string',
      'tags[1].label: must NOT have more than 3 characters',
    ]);
    expect(result.issues).toContainEqual({ field: 'tags[1].label', message: 'must NOT have more than 3 characters' });
    expect(result.issues).toContainEqual({ field: 'name', message: 'is required' });
  });

  it("reports the matching branch of a union, not every branch's errors", () => {
    const result = validateBody(Body, { name: 'Pro', price: '1', note: 'far too long' });
    expect(result.ok || result.errors).toEqual(['note: must NOT have more than 5 characters']);
  });

  it('reports a union matched by no branch as the types it accepts', () => {
    const result = validateBody(Body, { name: 'Pro', price: '1', note: 3 });
    expect(result.ok || result.errors).toEqual(['note: must be string or null']);
  });
});

describe('compileValidator', () => {
  it('compiles once and keeps the schema', () => {
    const validate = compileValidator(Body);
    expect(validate.schema).toBe(Body);
    expect(validate({ name: 'a', price: '0' }).ok).toBe(true);
    expect(validate({ name: 'a', price: '-0' }).ok).toBe(false);
  });
});

describe('assertValid', () => {
  it('throws a ContractViolationError naming what was validated', () => {
    expect(() => assertValid(Body, {}, 'plan body')).toThrow(/^invalid plan body: name: is required/);
    expect(() => assertValid(Body, {}, 'plan body')).toThrow(ContractViolationError);
  });
});

describe('fieldPath', () => {
  it.each([
    ['', ''],
    ['/data', 'data'],
    ['/data/lines/0/amount', 'data.lines[0].amount'],
    ['/properties/my key', 'properties["my key"]'],
    ['/a~1b/c~0d', '["a/b"]["c~d"]'],
  ])('%p -> %p', (pointer, path) => {
    expect(fieldPath(pointer)).toBe(path);
  });
});
