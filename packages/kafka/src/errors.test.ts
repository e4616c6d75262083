import { ContractViolationError } from '@usageflow/contracts';
import { backoffDelay, classifyError, NonRetriableError } from './errors';

describe('classifyError', () => {
  it.each([
    [new ContractViolationError(['data: bad'], 'event'), 'poison'],
    [new NonRetriableError('invariant'), 'poison'],
    [Object.assign(new Error('dup'), { code: '23505' }), 'poison'],
    [Object.assign(new Error('bad numeric'), { code: '22P02' }), 'poison'],
    [Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'transient'],
    [Object.assign(new Error('deadlock'), { code: '40P01' }), 'transient'],
    [Object.assign(new Error('admin shutdown'), { code: '57P01' }), 'transient'],
    [Object.assign(new Error('kafka leader moved'), { retriable: true }), 'transient'],
    [new TypeError('x is undefined'), 'unknown'],
    ['a string', 'unknown'],
  ])('%p is %s', (err, expected) => {
    expect(classifyError(err)).toBe(expected);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, scaled by jitter', () => {
    expect(backoffDelay(0, 100, 5_000, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 100, 5_000, () => 0.999)).toBe(799);
    expect(backoffDelay(20, 100, 5_000, () => 0.999)).toBe(4995);
    expect(backoffDelay(5, 100, 5_000, () => 0)).toBe(0);
  });
});
