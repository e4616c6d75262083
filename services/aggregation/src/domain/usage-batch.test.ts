import { quantityOf } from './fold';
import {
  eventKey,
  firstArrivals,
  hourOf,
  monthOf,
  rollupDeltas,
  uniqueValueRows,
  type UsageRecord,
} from './usage-batch';

const ORG = '0b9b4c3e-8a43-4f0e-9a55-4fd3a3c0d3a1';
const OTHER = '7c0e0f53-1a4b-4d51-8f4e-2b9d1d0c6e77';

function record(over: Partial<UsageRecord> & { eventId: string }): UsageRecord {
  const base = {
    organizationId: ORG,
    customerId: 'user_123',
    metric: 'API_CALL',
    amount: '1',
    timestamp: '2025-03-14T12:30:00.000Z',
    properties: {},
    receivedAt: '2025-03-14T12:30:00.100Z',
    partition: 0,
    offset: '0',
    ...over,
  };
  return { ...base, ts: Date.parse(base.timestamp), key: eventKey(base.organizationId, base.eventId) };
}

describe('a batch of usage records', () => {
  it('keys an event by organization and event id: the same id in another organization is another event', () => {
    expect(eventKey(ORG, 'req_1')).toBe(eventKey(ORG, 'req_1'));
    expect(eventKey(ORG, 'req_1')).not.toBe(eventKey(OTHER, 'req_1'));
    expect(eventKey(ORG, 'req_1')).not.toBe(eventKey(ORG, 'req_2'));
    expect(eventKey(ORG, 'req_1')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('keeps the first arrival of a key repeated inside the batch', () => {
    const batch = [
      record({ eventId: 'a', amount: '1' }),
      record({ eventId: 'b' }),
      record({ eventId: 'a', amount: '9' }),
    ];
    expect(firstArrivals(batch).map((r) => [r.eventId, r.amount])).toEqual([
      ['a', '1'],
      ['b', '1'],
    ]);
  });

  it('groups rollup deltas by customer, metric and UTC hour', () => {
    const deltas = rollupDeltas([
      record({ eventId: 'a', amount: '2', timestamp: '2025-03-14T12:00:00.000Z' }),
      record({ eventId: 'b', amount: '3', timestamp: '2025-03-14T12:59:59.999Z' }),
      record({ eventId: 'c', amount: '5', timestamp: '2025-03-14T13:00:00.000Z' }),
      record({ eventId: 'd', amount: '7', customerId: 'user_9' }),
      record({ eventId: 'e', amount: '1', metric: 'TOKENS' }),
    ]);
    const view = deltas.map((d) => [
      d.customerId,
      d.metric,
      new Date(d.hour).toISOString(),
      quantityOf('SUM', d.fold),
      d.fold.count,
    ]);
    expect(view).toEqual([
      ['user_123', 'API_CALL', '2025-03-14T12:00:00.000Z', '5', 2],
      ['user_123', 'API_CALL', '2025-03-14T13:00:00.000Z', '5', 1],
      ['user_9', 'API_CALL', '2025-03-14T12:00:00.000Z', '7', 1],
      ['user_123', 'TOKENS', '2025-03-14T12:00:00.000Z', '1', 1],
    ]);
  });

  it('records each distinct UNIQUE_COUNT value once per hour, only for metrics that count one', () => {
    const rows = uniqueValueRows(
      [
        record({ eventId: 'a', metric: 'ACTIVE_USERS', properties: { userId: 'u1' } }),
        record({ eventId: 'b', metric: 'ACTIVE_USERS', properties: { userId: 'u1' } }),
        record({ eventId: 'c', metric: 'ACTIVE_USERS', properties: { userId: 7 } }),
        record({ eventId: 'd', metric: 'ACTIVE_USERS', properties: {} }),
        record({ eventId: 'e', metric: 'API_CALL', properties: { userId: 'u2' } }),
      ],
      new Map([[`${ORG}:ACTIVE_USERS`, 'userId']]),
    );
    expect(rows.map((r) => r.value)).toEqual(['"u1"', '7']);
  });

  it('finds the UTC hour and month of an instant', () => {
    expect(new Date(hourOf(Date.parse('2025-03-14T12:34:56.789Z'))).toISOString()).toBe('2025-03-14T12:00:00.000Z');
    const m = monthOf(Date.parse('2025-12-31T23:59:59.999Z'));
    expect([m.start.toISOString(), m.end.toISOString()]).toEqual([
      '2025-12-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
    ]);
  });
});
