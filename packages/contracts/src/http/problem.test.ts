import { validateBody } from '../validate';
import { ProblemDetails } from './problem';

describe('problem details', () => {
  it('accepts a validation problem with field errors', () => {
    const problem = {
      type: 'https://docs.usageflow.dev/errors/VALIDATION_FAILED',
      title: 'The request is invalid',
      status: 400,
      detail: '1 field is invalid',
      code: 'VALIDATION_FAILED',
      instance: '/v1/events',
      requestId: 'req_01HQ',
      errors: [{ field: 'amount', message: 'must be >= 0' }],
    };
    expect(validateBody(ProblemDetails, problem).ok).toBe(true);
  });

  it('requires a stable UPPER_SNAKE code and an error status', () => {
    const result = validateBody(ProblemDetails, { type: 'about:blank', title: 'Oops', status: 200, code: 'oops' });
    expect(result.ok || result.errors).toEqual([
      'status: must be >= 400',
      'code: must match pattern "^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$"',
    ]);
  });
});
