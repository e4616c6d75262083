import { Type } from '@sinclair/typebox';
import { ProblemError } from './problem';
import { decodeCursor, encodeCursor, pageRequest, parseBody, toPage } from './request';

const Body = Type.Object(
  { key: Type.String({ pattern: '^[A-Z_]+$' }), name: Type.String() },
  { additionalProperties: false },
);

function problemOf(fn: () => unknown): ProblemError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProblemError) return err;
    throw err;
  }
  throw new Error('expected a ProblemError');
}

describe('parseBody', () => {
  it('returns a valid body typed', () => {
    expect(parseBody(Body, { key: 'API_CALL', name: 'API calls' })).toEqual({ key: 'API_CALL', name: 'API calls' });
  });

  it('refuses with VALIDATION_FAILED naming every wrong field', () => {
    const problem = problemOf(() => parseBody(Body, { key: 'api call', extra: 1 }));
    expect(problem.status).toBe(400);
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.extensions.errors).toEqual(
      expect.arrayContaining([
        { field: 'key', message: expect.stringContaining('pattern') },
        { field: 'name', message: 'is required' },
        { field: 'extra', message: 'is not allowed' },
      ]),
    );
    expect(problem.detail).toContain('key');
  });
});

describe('pagination', () => {
  it('defaults and bounds the limit', () => {
    expect(pageRequest({})).toEqual({ limit: 50, cursor: null });
    expect(pageRequest({ limit: '10', cursor: 'abc' })).toEqual({ limit: 10, cursor: 'abc' });
    expect(problemOf(() => pageRequest({ limit: '0' })).code).toBe('VALIDATION_FAILED');
    expect(problemOf(() => pageRequest({ limit: '201' })).code).toBe('VALIDATION_FAILED');
    expect(problemOf(() => pageRequest({ limit: 'ten' })).code).toBe('VALIDATION_FAILED');
  });

  it('round-trips a keyset position through an opaque cursor', () => {
    const cursor = encodeCursor(['2026-03-01T00:00:00.000Z', 'inv_123']);
    expect(cursor).not.toContain('inv_123');
    expect(decodeCursor(cursor, 2)).toEqual(['2026-03-01T00:00:00.000Z', 'inv_123']);
  });

  it.each([['not base64 json'], [encodeCursor(['only-one'])], [Buffer.from('{"a":1}').toString('base64url')]])(
    'refuses a cursor it did not issue (%s) with INVALID_CURSOR',
    (cursor) => {
      const problem = problemOf(() => decodeCursor(cursor, 2));
      expect([problem.status, problem.code]).toEqual([400, 'INVALID_CURSOR']);
    },
  );

  it('pages rows fetched with limit + 1', () => {
    const rows = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
    const first = toPage(rows, 2, (r) => [r.id]);
    expect(first.data).toEqual([{ id: 'a' }, { id: 'b' }]);
    expect(decodeCursor(first.nextCursor!, 1)).toEqual(['b']);
    expect(toPage(rows.slice(2), 2, (r) => [r.id])).toEqual({ data: [{ id: 'c' }], nextCursor: null });
    expect(toPage([], 2, (r: { id: string }) => [r.id])).toEqual({ data: [], nextCursor: null });
  });
});
