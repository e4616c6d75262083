import type { Interval } from '@usageflow/contracts';
import {
  anchorPlus,
  billingAnchor,
  closingDueAt,
  isClosingDue,
  periodAt,
  periodsEndingIn,
  type BillingAnchorKind,
  type IndexedPeriod,
} from './periods';

const t = (iso: string) => new Date(iso);
const iso = (p: IndexedPeriod) => ({ start: p.start.toISOString(), end: p.end.toISOString(), index: p.index });

describe('billing anchor', () => {
  it('given an ANNIVERSARY anchor, then it is the start instant itself', () => {
    const startAt = t('2025-01-31T10:00:00.000Z');
    expect(billingAnchor(startAt, 'ANNIVERSARY', 'MONTHLY')).toEqual(startAt);
    expect(billingAnchor(startAt, 'ANNIVERSARY', 'YEARLY')).toEqual(startAt);
  });

  it('given a CALENDAR monthly anchor, then it is midnight UTC on the 1st of the start month', () => {
    expect(billingAnchor(t('2025-03-15T13:45:10.123Z'), 'CALENDAR', 'MONTHLY')).toEqual(t('2025-03-01T00:00:00.000Z'));
  });

  it('given a CALENDAR yearly anchor, then it is Jan 1 00:00 UTC of the start year', () => {
    expect(billingAnchor(t('2025-03-15T13:45:10.123Z'), 'CALENDAR', 'YEARLY')).toEqual(t('2025-01-01T00:00:00.000Z'));
  });

  it('given a start at 23:30 UTC on the last day of a month or year, then the anchor stays in that month/year', () => {
    expect(billingAnchor(t('2025-03-31T23:30:00.000Z'), 'CALENDAR', 'MONTHLY')).toEqual(t('2025-03-01T00:00:00.000Z'));
    expect(billingAnchor(t('2025-12-31T23:59:59.999Z'), 'CALENDAR', 'YEARLY')).toEqual(t('2025-01-01T00:00:00.000Z'));
  });

  it('given a start exactly on a calendar boundary, then the anchor is the start', () => {
    expect(billingAnchor(t('2025-04-01T00:00:00.000Z'), 'CALENDAR', 'MONTHLY')).toEqual(t('2025-04-01T00:00:00.000Z'));
  });
});

describe('anchorPlus', () => {
  const jan31 = t('2025-01-31T10:00:00.000Z');

  it('given n = 0, then the boundary is the anchor', () => {
    expect(anchorPlus(jan31, 'MONTHLY', 0)).toEqual(jan31);
    expect(anchorPlus(jan31, 'YEARLY', 0)).toEqual(jan31);
  });

  it('given a monthly anchor on Jan 31, then short months end on their last day and the time is kept', () => {
    expect(anchorPlus(jan31, 'MONTHLY', 1)).toEqual(t('2025-02-28T10:00:00.000Z'));
    expect(anchorPlus(jan31, 'MONTHLY', 2)).toEqual(t('2025-03-31T10:00:00.000Z'));
    expect(anchorPlus(jan31, 'MONTHLY', 3)).toEqual(t('2025-04-30T10:00:00.000Z'));
  });

  it('given a monthly anchor on Jan 31 of a leap year, then February ends on the 29th', () => {
    expect(anchorPlus(t('2024-01-31T10:00:00.000Z'), 'MONTHLY', 1)).toEqual(t('2024-02-29T10:00:00.000Z'));
  });

  it('given an anchor on Aug 31, then Sep 30 and Oct 31 (counted from the anchor, not from Sep 30)', () => {
    const aug31 = t('2025-08-31T00:00:00.000Z');
    expect(anchorPlus(aug31, 'MONTHLY', 1)).toEqual(t('2025-09-30T00:00:00.000Z'));
    expect(anchorPlus(aug31, 'MONTHLY', 2)).toEqual(t('2025-10-31T00:00:00.000Z'));
  });

  it('given a monthly anchor late in the year, then the boundary rolls into the next years', () => {
    const dec31 = t('2024-12-31T23:59:59.999Z');
    expect(anchorPlus(dec31, 'MONTHLY', 2)).toEqual(t('2025-02-28T23:59:59.999Z'));
    expect(anchorPlus(dec31, 'MONTHLY', 14)).toEqual(t('2026-02-28T23:59:59.999Z'));
    expect(anchorPlus(dec31, 'MONTHLY', 12)).toEqual(t('2025-12-31T23:59:59.999Z'));
  });

  it('given a yearly anchor on Feb 29, then Feb 28 in non-leap years and Feb 29 again in leap years', () => {
    const feb29 = t('2024-02-29T00:00:00.000Z');
    expect(anchorPlus(feb29, 'YEARLY', 1)).toEqual(t('2025-02-28T00:00:00.000Z'));
    expect(anchorPlus(feb29, 'YEARLY', 3)).toEqual(t('2027-02-28T00:00:00.000Z'));
    expect(anchorPlus(feb29, 'YEARLY', 4)).toEqual(t('2028-02-29T00:00:00.000Z'));
  });

  it('given century years, then only those divisible by 400 are leap', () => {
    const feb29 = t('2096-02-29T00:00:00.000Z');
    expect(anchorPlus(feb29, 'YEARLY', 4)).toEqual(t('2100-02-28T00:00:00.000Z'));
    expect(anchorPlus(t('1996-02-29T00:00:00.000Z'), 'YEARLY', 4)).toEqual(t('2000-02-29T00:00:00.000Z'));
  });

  it('given a negative or fractional n, then it is refused as a programming error', () => {
    expect(() => anchorPlus(jan31, 'MONTHLY', -1)).toThrow(RangeError);
    expect(() => anchorPlus(jan31, 'MONTHLY', 1.5)).toThrow(RangeError);
    expect(() => anchorPlus(jan31, 'MONTHLY', Number.NaN)).toThrow(RangeError);
  });

  it('given an invalid Date, then it is refused', () => {
    expect(() => anchorPlus(new Date('nope'), 'MONTHLY', 1)).toThrow(TypeError);
  });
});

describe('periodAt', () => {
  const calendar = (startIso: string, interval: Interval = 'MONTHLY') => {
    const startAt = t(startIso);
    return { anchor: billingAnchor(startAt, 'CALENDAR', interval), startAt, interval };
  };
  const at = (s: { anchor: Date; startAt: Date; interval: Interval }, instant: string) =>
    iso(periodAt(s.anchor, s.interval, s.startAt, t(instant)));

  it('given a calendar monthly subscription started mid-month, then the first period is a stub to the 1st', () => {
    const sub = calendar('2025-03-15T00:00:00.000Z');
    expect(at(sub, '2025-03-15T00:00:00.000Z')).toEqual({
      start: '2025-03-15T00:00:00.000Z',
      end: '2025-04-01T00:00:00.000Z',
      index: 0,
    });
    expect(at(sub, '2025-04-20T08:00:00.000Z')).toEqual({
      start: '2025-04-01T00:00:00.000Z',
      end: '2025-05-01T00:00:00.000Z',
      index: 1,
    });
  });

  it('given a calendar yearly subscription started mid-year, then the first period is a stub to Jan 1', () => {
    const sub = calendar('2025-03-15T12:00:00.000Z', 'YEARLY');
    expect(at(sub, '2025-12-31T23:59:59.999Z')).toEqual({
      start: '2025-03-15T12:00:00.000Z',
      end: '2026-01-01T00:00:00.000Z',
      index: 0,
    });
    expect(at(sub, '2026-01-01T00:00:00.000Z')).toEqual({
      start: '2026-01-01T00:00:00.000Z',
      end: '2027-01-01T00:00:00.000Z',
      index: 1,
    });
  });

  it('given an instant exactly on a boundary, then it belongs to the next period (half-open)', () => {
    const sub = calendar('2025-03-01T00:00:00.000Z');
    expect(at(sub, '2025-03-31T23:59:59.999Z').index).toBe(0);
    expect(at(sub, '2025-04-01T00:00:00.000Z')).toEqual({
      start: '2025-04-01T00:00:00.000Z',
      end: '2025-05-01T00:00:00.000Z',
      index: 1,
    });
  });

  it('given 23:30 UTC on the last day of a month, then the instant stays in that month', () => {
    const sub = calendar('2025-01-01T00:00:00.000Z');
    expect(at(sub, '2025-01-31T23:30:00.000Z')).toEqual({
      start: '2025-01-01T00:00:00.000Z',
      end: '2025-02-01T00:00:00.000Z',
      index: 0,
    });
    expect(at(sub, '2025-02-28T23:30:00.000Z').end).toBe('2025-03-01T00:00:00.000Z');
  });

  it('given an anniversary on the 31st, then periods end on short months last day at the anchor time', () => {
    const startAt = t('2025-01-31T10:00:00.000Z');
    const p = (instant: string) => iso(periodAt(startAt, 'MONTHLY', startAt, t(instant)));
    expect(p('2025-02-28T09:59:59.999Z')).toEqual({
      start: '2025-01-31T10:00:00.000Z',
      end: '2025-02-28T10:00:00.000Z',
      index: 0,
    });
    expect(p('2025-02-28T10:00:00.000Z')).toEqual({
      start: '2025-02-28T10:00:00.000Z',
      end: '2025-03-31T10:00:00.000Z',
      index: 1,
    });
    expect(p('2025-04-15T00:00:00.000Z')).toEqual({
      start: '2025-03-31T10:00:00.000Z',
      end: '2025-04-30T10:00:00.000Z',
      index: 2,
    });
  });

  it('given an anchor on Jan 31, then period 12 starts on Jan 31 of the next year (no drift)', () => {
    const startAt = t('2025-01-31T10:00:00.000Z');
    const p12 = periodAt(startAt, 'MONTHLY', startAt, t('2026-02-01T00:00:00.000Z'));
    expect(iso(p12)).toEqual({ start: '2026-01-31T10:00:00.000Z', end: '2026-02-28T10:00:00.000Z', index: 12 });
  });

  it('given a yearly anniversary on Feb 29, then periods run Feb 28 to Feb 28 until the next leap year', () => {
    const startAt = t('2024-02-29T00:00:00.000Z');
    const p = (instant: string) => iso(periodAt(startAt, 'YEARLY', startAt, t(instant)));
    expect(p('2025-02-27T23:59:59.999Z').index).toBe(0);
    expect(p('2025-02-28T00:00:00.000Z')).toEqual({
      start: '2025-02-28T00:00:00.000Z',
      end: '2026-02-28T00:00:00.000Z',
      index: 1,
    });
    expect(p('2027-06-01T00:00:00.000Z')).toEqual({
      start: '2027-02-28T00:00:00.000Z',
      end: '2028-02-29T00:00:00.000Z',
      index: 3,
    });
  });

  it('given an instant a century after the anchor, then it answers directly (index 1200)', () => {
    const startAt = t('2025-01-31T10:00:00.000Z');
    expect(iso(periodAt(startAt, 'MONTHLY', startAt, t('2125-02-10T00:00:00.000Z')))).toEqual({
      start: '2125-01-31T10:00:00.000Z',
      end: '2125-02-28T10:00:00.000Z',
      index: 1200,
    });
  });

  it('given an instant before the start, then it is refused', () => {
    const sub = calendar('2025-03-15T00:00:00.000Z');
    expect(() => at(sub, '2025-03-14T23:59:59.999Z')).toThrow(RangeError);
  });

  it('given an anchor after the start, then it is refused', () => {
    expect(() =>
      periodAt(t('2025-04-01T00:00:00Z'), 'MONTHLY', t('2025-03-15T00:00:00Z'), t('2025-03-20T00:00:00Z')),
    ).toThrow(RangeError);
  });

  it('agrees with walking the boundaries one by one, for many anchors and instants', () => {
    // A deterministic generator (no Math.random: a failure must reproduce).
    let seed = 42;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const base = t('2023-01-01T00:00:00.000Z').getTime();
    for (let i = 0; i < 300; i += 1) {
      const interval: Interval = i % 3 === 0 ? 'YEARLY' : 'MONTHLY';
      const kind: BillingAnchorKind = i % 2 === 0 ? 'CALENDAR' : 'ANNIVERSARY';
      const startAt = new Date(base + Math.floor(next() * 3 * 365 * 86_400_000));
      const anchor = billingAnchor(startAt, kind, interval);
      const instant = new Date(startAt.getTime() + Math.floor(next() * 6 * 365 * 86_400_000));
      // Oracle: the slow walk over every boundary.
      let k = 0;
      while (anchorPlus(anchor, interval, k + 1) <= startAt) k += 1;
      const first = k;
      while (anchorPlus(anchor, interval, k + 1) <= instant) k += 1;
      const expected = {
        start: k === first ? startAt : anchorPlus(anchor, interval, k),
        end: anchorPlus(anchor, interval, k + 1),
        index: k - first,
      };
      expect(periodAt(anchor, interval, startAt, instant)).toEqual(expected);
    }
  });
});

describe('periodsEndingIn', () => {
  const jan1 = t('2025-01-01T00:00:00.000Z');

  it('given a test clock advanced from Jan 15 to Apr 15, then it closes January, February and March', () => {
    const closed = periodsEndingIn(jan1, 'MONTHLY', jan1, t('2025-01-15T00:00:00Z'), t('2025-04-15T00:00:00Z'));
    expect(closed.map(iso)).toEqual([
      { start: '2025-01-01T00:00:00.000Z', end: '2025-02-01T00:00:00.000Z', index: 0 },
      { start: '2025-02-01T00:00:00.000Z', end: '2025-03-01T00:00:00.000Z', index: 1 },
      { start: '2025-03-01T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z', index: 2 },
    ]);
  });

  it('given from on a boundary, then the period ending there is not closed again; to on a boundary closes it', () => {
    const closed = periodsEndingIn(jan1, 'MONTHLY', jan1, t('2025-02-01T00:00:00Z'), t('2025-04-01T00:00:00Z'));
    expect(closed.map((p) => p.index)).toEqual([1, 2]);
  });

  it('given a move within one period, then nothing closes', () => {
    expect(periodsEndingIn(jan1, 'MONTHLY', jan1, t('2025-01-02T00:00:00Z'), t('2025-01-31T23:59:59.999Z'))).toEqual(
      [],
    );
  });

  it('given from === to, then nothing closes', () => {
    const at = t('2025-02-01T00:00:00Z');
    expect(periodsEndingIn(jan1, 'MONTHLY', jan1, at, at)).toEqual([]);
  });

  it('given a stub first period, then it is the first one closed', () => {
    const startAt = t('2025-03-15T00:00:00Z');
    const anchor = billingAnchor(startAt, 'CALENDAR', 'MONTHLY');
    const closed = periodsEndingIn(anchor, 'MONTHLY', startAt, startAt, t('2025-05-01T00:00:00Z'));
    expect(closed.map(iso)).toEqual([
      { start: '2025-03-15T00:00:00.000Z', end: '2025-04-01T00:00:00.000Z', index: 0 },
      { start: '2025-04-01T00:00:00.000Z', end: '2025-05-01T00:00:00.000Z', index: 1 },
    ]);
  });

  it('given from before the start (a clock created earlier), then the first period is included', () => {
    const startAt = t('2025-03-15T00:00:00Z');
    const anchor = billingAnchor(startAt, 'CALENDAR', 'MONTHLY');
    const closed = periodsEndingIn(anchor, 'MONTHLY', startAt, t('2025-01-01T00:00:00Z'), t('2025-04-10T00:00:00Z'));
    expect(closed.map((p) => p.index)).toEqual([0]);
  });

  it('given to before from, then it is refused (a clock never moves backwards)', () => {
    expect(() => periodsEndingIn(jan1, 'MONTHLY', jan1, t('2025-03-01T00:00:00Z'), t('2025-02-01T00:00:00Z'))).toThrow(
      RangeError,
    );
  });
});

describe('contiguity over 36 periods', () => {
  const cases: Array<[string, BillingAnchorKind, Interval]> = [
    ['2025-03-15T08:30:00.000Z', 'CALENDAR', 'MONTHLY'],
    ['2025-01-31T10:00:00.000Z', 'ANNIVERSARY', 'MONTHLY'],
    ['2024-01-30T23:30:00.000Z', 'ANNIVERSARY', 'MONTHLY'],
    ['2024-02-29T00:00:00.000Z', 'ANNIVERSARY', 'YEARLY'],
    ['2024-07-04T12:00:00.000Z', 'CALENDAR', 'YEARLY'],
  ];

  it.each(cases)(
    'given a start at %s (%s %s), then each end is the next start, no gaps, no overlaps',
    (s, kind, iv) => {
      const startAt = t(s);
      const anchor = billingAnchor(startAt, kind, iv);
      const firstBoundary = boundaryAtOrBefore(anchor, iv, startAt);
      const walked: IndexedPeriod[] = [periodAt(anchor, iv, startAt, startAt)];
      for (let i = 1; i < 36; i += 1) walked.push(periodAt(anchor, iv, startAt, walked[i - 1]!.end));

      expect(walked[0]!.start).toEqual(startAt);
      walked.forEach((p, i) => {
        expect(p.index).toBe(i);
        expect(p.start.getTime()).toBeLessThan(p.end.getTime());
        // Every end is a boundary counted from the anchor itself: no drift.
        expect(p.end).toEqual(anchorPlus(anchor, iv, firstBoundary + i + 1));
        if (i > 0) expect(p.start).toEqual(walked[i - 1]!.end);
        // Its last millisecond is still in it: the next period does not overlap it.
        expect(periodAt(anchor, iv, startAt, new Date(p.end.getTime() - 1))).toEqual(p);
      });
      // The same periods come out of one big clock jump.
      expect(periodsEndingIn(anchor, iv, startAt, startAt, walked[35]!.end)).toEqual(walked);
    },
  );

  // The slow way: the last boundary at or before the start.
  function boundaryAtOrBefore(anchor: Date, iv: Interval, startAt: Date): number {
    let k = 0;
    while (anchorPlus(anchor, iv, k + 1) <= startAt) k += 1;
    return k;
  }
});

describe('closing due', () => {
  const march = { start: t('2025-03-01T00:00:00Z'), end: t('2025-04-01T00:00:00Z') };
  const hour = 3_600_000;

  it('given a grace window, then the closing is due at end + grace, not a millisecond earlier', () => {
    expect(closingDueAt(march, hour)).toEqual(t('2025-04-01T01:00:00Z'));
    expect(isClosingDue(march, hour, t('2025-04-01T00:59:59.999Z'))).toBe(false);
    expect(isClosingDue(march, hour, t('2025-04-01T01:00:00Z'))).toBe(true);
    expect(isClosingDue(march, hour, t('2025-05-01T00:00:00Z'))).toBe(true);
  });

  it('given no grace, then the closing is due at the end itself', () => {
    expect(isClosingDue(march, 0, t('2025-03-31T23:59:59.999Z'))).toBe(false);
    expect(isClosingDue(march, 0, t('2025-04-01T00:00:00Z'))).toBe(true);
  });

  it('given a negative or non-finite grace, then it is refused', () => {
    expect(() => closingDueAt(march, -1)).toThrow(RangeError);
    expect(() => closingDueAt(march, Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});
