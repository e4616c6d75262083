import { derivedEventId } from './derived-id';

describe('derivedEventId', () => {
  it('derives ids from names: stable, distinct per name and per split, shaped as UUIDs', () => {
    const start = '2025-03-01T00:00:00.000Z';
    const id = derivedEventId('usage.period_summarized', 'sub-1', start);
    expect(derivedEventId('usage.period_summarized', 'sub-1', start)).toBe(id);
    expect(derivedEventId('usage.period_summarized', 'sub-2', start)).not.toBe(id);
    expect(derivedEventId('usage.period_summarized', 'sub-1' + start)).not.toBe(id);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
