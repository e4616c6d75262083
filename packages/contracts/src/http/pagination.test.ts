import { Type } from '@sinclair/typebox';
import { validateBody } from '../validate';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, Page, parsePageQuery } from './pagination';

describe('parsePageQuery', () => {
  it('defaults the limit and has no cursor on the first page', () => {
    expect(parsePageQuery({})).toEqual({ ok: true, value: { limit: DEFAULT_PAGE_LIMIT, cursor: null } });
  });

  it('reads the string parameters of a query', () => {
    expect(parsePageQuery({ limit: '200', cursor: 'abc', status: 'PAID' })).toEqual({
      ok: true,
      value: { limit: 200, cursor: 'abc' },
    });
  });

  it.each([
    [{ limit: '0' }, 'limit: must be >= 1'],
    [{ limit: String(MAX_PAGE_LIMIT + 1) }, `limit: must be <= ${MAX_PAGE_LIMIT}`],
    [{ limit: 'ten' }, 'limit: must be integer'],
    [{ limit: '1.5' }, 'limit: must be integer'],
    [{ limit: ['1', '2'] }, 'limit: must be integer'],
  ])('rejects %p', (query, error) => {
    const result = parsePageQuery(query);
    expect(result.ok || result.errors).toEqual([error]);
  });
});

describe('Page', () => {
  const InvoicePage = Page(Type.Object({ id: Type.String() }));

  it('is data plus a nullable next cursor', () => {
    expect(validateBody(InvoicePage, { data: [{ id: 'a' }], nextCursor: 'b' }).ok).toBe(true);
    expect(validateBody(InvoicePage, { data: [], nextCursor: null }).ok).toBe(true);
  });

  it('always carries nextCursor', () => {
    const result = validateBody(InvoicePage, { data: [] });
    expect(result.ok || result.errors).toEqual(['nextCursor: is required']);
  });
});
