import { billingAnchor, type BillingSchedule } from './periods';
import {
  decideCancel,
  decideReactivate,
  decideSuspend,
  onPeriodClosed,
  type SubscriptionState,
  type SuspensionReason,
} from './subscription-status';

const t = (iso: string) => new Date(iso);

// A calendar-monthly subscription started Mar 1; "now" is mid-March.
const march = { start: t('2025-03-01T00:00:00.000Z'), end: t('2025-04-01T00:00:00.000Z') };
const april = { start: t('2025-04-01T00:00:00.000Z'), end: t('2025-05-01T00:00:00.000Z') };
const now = t('2025-03-20T15:00:00.000Z');
const schedule: BillingSchedule = {
  anchor: billingAnchor(march.start, 'CALENDAR', 'MONTHLY'),
  interval: 'MONTHLY',
  startAt: march.start,
};

const active: SubscriptionState = { status: 'ACTIVE', cancelAt: null, endedAt: null };
const suspended: SubscriptionState = { status: 'SUSPENDED', cancelAt: null, endedAt: null };
const activeScheduled: SubscriptionState = { ...active, cancelAt: march.end };
const suspendedScheduled: SubscriptionState = { ...suspended, cancelAt: march.end };
const cancelled: SubscriptionState = { status: 'CANCELLED', cancelAt: null, endedAt: t('2025-03-10T00:00:00.000Z') };

const cancelledError = expect.objectContaining({ code: 'SUBSCRIPTION_CANCELLED', status: 409 });
const reasons: SuspensionReason[] = ['PAYMENT_FAILED', 'MANUAL'];

describe('suspend', () => {
  it.each(reasons)('given ACTIVE, when suspended (%s), then SUSPENDED', (reason) => {
    expect(decideSuspend(active, reason)).toEqual({ state: suspended, changed: true });
  });

  it.each(reasons)('given SUSPENDED, when suspended again (%s), then nothing changes', (reason) => {
    expect(decideSuspend(suspended, reason)).toEqual({ state: suspended, changed: false });
  });

  it.each(reasons)('given CANCELLED, when suspended (%s), then SUBSCRIPTION_CANCELLED', (reason) => {
    expect(() => decideSuspend(cancelled, reason)).toThrow(cancelledError);
  });

  it('given ACTIVE with a scheduled cancellation, when suspended, then the schedule is kept', () => {
    expect(decideSuspend(activeScheduled, 'PAYMENT_FAILED')).toEqual({ state: suspendedScheduled, changed: true });
  });

  it('given a redelivered invoice.failed, when applied twice, then only the first changes anything', () => {
    const first = decideSuspend(active, 'PAYMENT_FAILED');
    const second = decideSuspend(first.state, 'PAYMENT_FAILED');
    expect([first.changed, second.changed]).toEqual([true, false]);
    expect(second.state).toEqual(first.state);
  });
});

describe('reactivate', () => {
  it('given SUSPENDED, when reactivated, then ACTIVE', () => {
    expect(decideReactivate(suspended)).toEqual({ state: active, changed: true });
  });

  it('given ACTIVE, when reactivated, then nothing changes', () => {
    expect(decideReactivate(active)).toEqual({ state: active, changed: false });
  });

  it('given CANCELLED, when reactivated, then SUBSCRIPTION_CANCELLED', () => {
    expect(() => decideReactivate(cancelled)).toThrow(cancelledError);
  });

  it('given SUSPENDED with a scheduled cancellation, when reactivated, then ACTIVE and still scheduled', () => {
    expect(decideReactivate(suspendedScheduled)).toEqual({ state: activeScheduled, changed: true });
  });
});

describe('cancel at PERIOD_END', () => {
  const atPeriodEnd = { at: 'PERIOD_END' } as const;

  it.each([
    ['ACTIVE', active],
    ['SUSPENDED', suspended],
  ])('given %s, when cancelled at period end, then the status stays and it ends at the period end', (_, state) => {
    expect(decideCancel(state, atPeriodEnd, now, march)).toEqual({
      state: { ...state, cancelAt: march.end },
      changed: true,
      endsAt: march.end,
      shortLastPeriod: null,
    });
  });

  it.each([
    ['ACTIVE', activeScheduled],
    ['SUSPENDED', suspendedScheduled],
  ])('given %s already scheduled, when cancelled at period end again, then nothing changes', (_, state) => {
    expect(decideCancel(state, atPeriodEnd, now, march)).toEqual({
      state,
      changed: false,
      endsAt: march.end,
      shortLastPeriod: null,
    });
  });

  it('given CANCELLED, when cancelled at period end, then nothing changes', () => {
    expect(decideCancel(cancelled, atPeriodEnd, now, march)).toEqual({
      state: cancelled,
      changed: false,
      endsAt: cancelled.endedAt,
      shortLastPeriod: null,
    });
  });

  it('given a period that is already over, when cancelled at its end, then INVALID_TRANSITION', () => {
    expect(() => decideCancel(active, atPeriodEnd, march.end, march)).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION', status: 409 }),
    );
  });
});

describe('cancel IMMEDIATELY', () => {
  const immediately = { at: 'IMMEDIATELY' } as const;
  const ended = { status: 'CANCELLED', cancelAt: null, endedAt: now };

  it.each([
    ['ACTIVE', active],
    ['SUSPENDED', suspended],
    ['ACTIVE scheduled at period end', activeScheduled],
    ['SUSPENDED scheduled at period end', suspendedScheduled],
  ])('given %s, when cancelled immediately, then CANCELLED now and the period is cut short', (_, state) => {
    expect(decideCancel(state, immediately, now, march)).toEqual({
      state: ended,
      changed: true,
      endsAt: now,
      shortLastPeriod: { start: march.start, end: now },
    });
  });

  it('given CANCELLED, when cancelled immediately, then nothing changes', () => {
    expect(decideCancel(cancelled, immediately, now, march)).toEqual({
      state: cancelled,
      changed: false,
      endsAt: cancelled.endedAt,
      shortLastPeriod: null,
    });
  });

  it('given now exactly at the period start, when cancelled immediately, then there is no empty last period', () => {
    expect(decideCancel(active, immediately, april.start, april).shortLastPeriod).toBeNull();
  });
});

describe('period closing', () => {
  it('given ACTIVE without a scheduled cancellation, when March closes, then April opens', () => {
    expect(onPeriodClosed({ ...active, ...schedule }, march)).toEqual({
      state: active,
      changed: false,
      nextPeriod: { ...april, index: 1 },
    });
  });

  it('given SUSPENDED, when March closes, then April opens and it stays SUSPENDED', () => {
    expect(onPeriodClosed({ ...suspended, ...schedule }, march)).toEqual({
      state: suspended,
      changed: false,
      nextPeriod: { ...april, index: 1 },
    });
  });

  it.each([
    ['ACTIVE', active],
    ['SUSPENDED', suspended],
  ])('given %s cancelled at period end, when that period closes, then CANCELLED and no next period', (_, state) => {
    const scheduled = decideCancel(state, { at: 'PERIOD_END' }, now, march).state;
    expect(onPeriodClosed({ ...scheduled, ...schedule }, march)).toEqual({
      state: { status: 'CANCELLED', cancelAt: march.end, endedAt: march.end },
      changed: true,
      nextPeriod: null,
    });
  });

  it('given a cancellation scheduled for April end, when March closes, then April still opens', () => {
    const aprilEnd = { ...active, cancelAt: april.end };
    expect(onPeriodClosed({ ...aprilEnd, ...schedule }, march)).toEqual({
      state: aprilEnd,
      changed: false,
      nextPeriod: { ...april, index: 1 },
    });
  });

  it('given a period-end cancellation, when the flow runs to its end, then nothing is allowed afterwards', () => {
    // given ACTIVE, when cancelled at period end during March
    const scheduled = decideCancel(active, { at: 'PERIOD_END' }, now, march);
    // and then suspended for a failed payment before March ends (the schedule survives)
    const suspendedNow = decideSuspend(scheduled.state, 'PAYMENT_FAILED');
    // when March closes
    const closed = onPeriodClosed({ ...suspendedNow.state, ...schedule }, march);
    // then the subscription ended with March, and a later reactivation is refused
    expect(closed.state).toEqual({ status: 'CANCELLED', cancelAt: march.end, endedAt: march.end });
    expect(closed.nextPeriod).toBeNull();
    expect(() => decideReactivate(closed.state)).toThrow(cancelledError);
    expect(decideCancel(closed.state, { at: 'IMMEDIATELY' }, april.start, april).changed).toBe(false);
  });

  it('given CANCELLED immediately inside its last period, when that short period closes, then no next period', () => {
    const cut = decideCancel(active, { at: 'IMMEDIATELY' }, now, march);
    expect(onPeriodClosed({ ...cut.state, ...schedule }, cut.shortLastPeriod!)).toEqual({
      state: cut.state,
      changed: false,
      nextPeriod: null,
    });
  });

  it('given CANCELLED immediately during the grace window of March, when March closes, then April is open up to the end', () => {
    const inGrace = t('2025-04-01T00:30:00.000Z');
    const cut = decideCancel(active, { at: 'IMMEDIATELY' }, inGrace, april);
    const closed = onPeriodClosed({ ...cut.state, ...schedule }, march);
    expect(closed).toEqual({
      state: cut.state,
      changed: false,
      nextPeriod: { start: april.start, end: inGrace, index: 1 },
    });
    expect(closed.nextPeriod).toEqual({ ...cut.shortLastPeriod, index: 1 });
  });
});
