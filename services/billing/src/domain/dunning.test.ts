import { afterCharge, canTransition, parseDunningSchedule, type CollectionState } from './dunning';

const DAY = 86_400_000;
const schedule = [1 * DAY, 3 * DAY, 5 * DAY];
const t0 = new Date('2025-04-01T01:00:00.000Z');
const pending: CollectionState = { status: 'PENDING', dunningStep: 0, nextAttemptAt: t0 };

describe('invoice status', () => {
  it('moves only PENDING -> PAID, PENDING -> FAILED, FAILED -> PAID', () => {
    const all = ['PENDING', 'PAID', 'FAILED'] as const;
    const allowed = all.flatMap((a) => all.filter((b) => canTransition(a, b)).map((b) => `${a}->${b}`));
    expect(allowed).toEqual(['PENDING->PAID', 'PENDING->FAILED', 'FAILED->PAID']);
  });
});

describe('dunning', () => {
  it('parses a schedule of durations, and refuses nonsense', () => {
    expect(parseDunningSchedule('1d,3d,5d')).toEqual(schedule);
    expect(parseDunningSchedule(' 30s , 2h ,500ms')).toEqual([30_000, 7_200_000, 500]);
    expect(parseDunningSchedule('')).toEqual([]);
    expect(() => parseDunningSchedule('1d,soon')).toThrow('"soon"');
    expect(() => parseDunningSchedule('0d')).toThrow();
  });

  it('given declines all along, then retries after 1, 3 and 5 days and fails after the fourth charge', () => {
    let state: CollectionState = pending;
    const seen: Array<[string, string | null]> = [];
    let at = t0;
    for (let i = 0; i < 4; i++) {
      const d = afterCharge(state, 'declined', at, { scheduled: true, schedule });
      seen.push([d.status, d.nextAttemptAt?.toISOString() ?? null]);
      state = d;
      at = d.nextAttemptAt ?? at;
      if (i === 3) expect(d.failed).toBe(true);
    }
    expect(seen).toEqual([
      ['PENDING', '2025-04-02T01:00:00.000Z'],
      ['PENDING', '2025-04-05T01:00:00.000Z'],
      ['PENDING', '2025-04-10T01:00:00.000Z'],
      ['FAILED', null],
    ]);
  });

  it('given a success on a retry, then PAID and nothing scheduled', () => {
    const first = afterCharge(pending, 'error', t0, { scheduled: true, schedule });
    const second = afterCharge(first, 'succeeded', first.nextAttemptAt!, { scheduled: true, schedule });
    expect(second).toEqual({ status: 'PAID', dunningStep: 1, nextAttemptAt: null, paid: true, failed: false });
  });

  it('given a manual retry that is declined, then the dunning schedule is unchanged', () => {
    const first = afterCharge(pending, 'declined', t0, { scheduled: true, schedule });
    const manual = afterCharge(first, 'declined', new Date('2025-04-01T05:00:00.000Z'), { scheduled: false, schedule });
    expect(manual).toEqual({ ...first, paid: false, failed: false });
  });

  it('given a FAILED invoice, then a successful retry pays it and a declined one leaves it FAILED', () => {
    const failed: CollectionState = { status: 'FAILED', dunningStep: 4, nextAttemptAt: null };
    expect(afterCharge(failed, 'declined', t0, { scheduled: false, schedule })).toMatchObject({
      status: 'FAILED',
      failed: false,
    });
    expect(afterCharge(failed, 'succeeded', t0, { scheduled: false, schedule })).toMatchObject({
      status: 'PAID',
      paid: true,
    });
  });

  it('given no retries configured, then the first decline fails the invoice', () => {
    expect(afterCharge(pending, 'declined', t0, { scheduled: true, schedule: [] })).toMatchObject({
      status: 'FAILED',
      failed: true,
    });
  });
});
