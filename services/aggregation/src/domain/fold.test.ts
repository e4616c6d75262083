import {
  canonicalDecimal,
  compareEventIds,
  emptyFold,
  foldEvent,
  foldUniqueValue,
  lateIncrease,
  mergeFolds,
  quantityOf,
} from './fold';

const T0 = Date.parse('2025-03-14T12:00:00.000Z');
const ev = (eventId: string, amount: string, ts = T0) => ({ eventId, amount, ts });
const fold = (...events: ReturnType<typeof ev>[]) => events.reduce(foldEvent, emptyFold());

describe('folding usage events', () => {
  it('SUM adds the exact decimal amounts (no floating point)', () => {
    const f = fold(ev('a', '0.1'), ev('b', '0.2'), ev('c', '2.5'));
    expect(quantityOf('SUM', f)).toBe('2.8');
    expect(quantityOf('SUM', fold(ev('a', '12345678901234567890.000000001'), ev('b', '1')))).toBe(
      '12345678901234567891.000000001',
    );
  });

  it('COUNT counts the events whatever their amounts', () => {
    expect(quantityOf('COUNT', fold(ev('a', '5'), ev('b', '0'), ev('c', '2.5')))).toBe('3');
  });

  it('MAX keeps the greatest amount, compared as decimals', () => {
    expect(quantityOf('MAX', fold(ev('a', '9.9'), ev('b', '10'), ev('c', '2')))).toBe('10');
  });

  it('LATEST takes the amount of the latest timestamp, whatever the arrival order', () => {
    const inOrder = fold(ev('a', '1', T0), ev('b', '2', T0 + 1000), ev('c', '3', T0 + 2000));
    const outOfOrder = fold(ev('c', '3', T0 + 2000), ev('a', '1', T0), ev('b', '2', T0 + 1000));
    expect(quantityOf('LATEST', inOrder)).toBe('3');
    expect(quantityOf('LATEST', outOfOrder)).toBe('3');
  });

  it('LATEST breaks a timestamp tie by the greater event id, bytewise as Postgres collate "C"', () => {
    expect(quantityOf('LATEST', fold(ev('evt_b', '7'), ev('evt_a', '5')))).toBe('7');
    expect(quantityOf('LATEST', fold(ev('evt_a', '5'), ev('evt_b', '7')))).toBe('7');
    // U+1F600 is a surrogate pair starting 0xD83D in UTF-16, below U+FF5E; in UTF-8 its lead byte
    // 0xF0 is above U+FF5E's 0xEF, and Postgres compares the UTF-8 bytes.
    expect(compareEventIds('\u{1F600}', '\uFF5E')).toBeGreaterThan(0);
    expect(quantityOf('LATEST', fold(ev('\u{1F600}', '9'), ev('\uFF5E', '1')))).toBe('9');
  });

  it('an empty period is "0" for every aggregation', () => {
    for (const a of ['SUM', 'COUNT', 'MAX', 'LATEST'] as const) expect(quantityOf(a, emptyFold())).toBe('0');
    expect(quantityOf('UNIQUE_COUNT', emptyFold(), new Set())).toBe('0');
  });

  it('merging the folds of two halves equals folding all the events, in any split', () => {
    const events = [ev('a', '3', T0 + 5), ev('b', '1.5', T0 + 9), ev('c', '8', T0), ev('d', '2', T0 + 9)];
    const whole = fold(...events);
    for (let cut = 0; cut <= events.length; cut++) {
      const merged = mergeFolds(fold(...events.slice(0, cut)), fold(...events.slice(cut)));
      for (const a of ['SUM', 'COUNT', 'MAX', 'LATEST'] as const)
        expect(quantityOf(a, merged)).toBe(quantityOf(a, whole));
    }
    expect(quantityOf('LATEST', whole)).toBe('2'); // tie at T0+9: 'd' > 'b'
  });

  it('UNIQUE_COUNT counts distinct values once however often they repeat, and 1 and "1" apart', () => {
    const values = new Set<string>();
    for (const v of ['u1', 'u2', 'u1', 'u1', 1, '1', true, undefined]) foldUniqueValue(values, v);
    expect(quantityOf('UNIQUE_COUNT', emptyFold(), values)).toBe('5');
    expect(() => quantityOf('UNIQUE_COUNT', emptyFold())).toThrow(/distinct values/);
  });

  it('canonical decimals drop trailing zeros and never use exponents', () => {
    expect(canonicalDecimal('2.50')).toBe('2.5');
    expect(canonicalDecimal('100.00')).toBe('100');
    expect(canonicalDecimal('0.0000001')).toBe('0.0000001');
    expect(canonicalDecimal('1000000000000000000000000')).toBe('1000000000000000000000000');
    // a sum the default big.js would print as 1e+21 stays plain
    expect(canonicalDecimal(quantityOf('SUM', fold(ev('a', '999999999999999999999'), ev('b', '1'))))).toBe(
      '1000000000000000000000',
    );
  });

  it('a late arrival bills only the increase, never a negative one', () => {
    expect(lateIncrease('12000', '12003')).toBe('3');
    expect(lateIncrease('10', '7')).toBe('0');
    expect(lateIncrease('2.5', '2.75')).toBe('0.25');
  });
});
