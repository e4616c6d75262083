import { assertValidEvent } from '@usageflow/contracts';
import type { AcceptedAt } from '../domain/normalize';
import { toRecords } from './ingest';

describe('toRecords', () => {
  const organizationId = '2a53f096-5115-4b80-8205-6621e87546c3';
  const receivedAt = new Date('2026-03-01T10:00:00.123Z');
  const accepted: AcceptedAt[] = [
    {
      index: 0,
      generatedId: false,
      data: {
        eventId: 'req_"quoted"\\ü',
        customerId: 'user_1',
        metric: 'API_CALL',
        amount: '2.5',
        timestamp: '2026-03-01T09:59:00.000Z',
        properties: { model: 'gpt "4"\n' },
        receivedAt: receivedAt.toISOString(),
        apiKeyId: '5c1f0a4e-2b7d-4c1e-9a3f-0e8d7c6b5a49',
      },
    },
    {
      index: 3,
      generatedId: true,
      data: {
        eventId: '0b0e6f6e-9d51-4f47-8f53-4f3f3a2f1e0d',
        customerId: 'user_2',
        metric: 'API_CALL',
        amount: '1',
        timestamp: '2026-03-01T10:00:00.123Z',
        properties: {},
        receivedAt: receivedAt.toISOString(),
      },
    },
  ];
  let n = 0;
  const newId = () => `e0000000-0000-4000-8000-00000000000${++n}`;

  it('writes one valid usage.recorded envelope per event, keyed by org + customer', () => {
    const records = toRecords(organizationId, accepted, receivedAt, newId);
    expect(records.map((r) => r.key)).toEqual([`${organizationId}:user_1`, `${organizationId}:user_2`]);
    records.forEach((record, i) => {
      const envelope = {
        id: `e0000000-0000-4000-8000-00000000000${i + 1}`,
        type: 'usage.recorded',
        version: 1,
        organizationId,
        occurredAt: '2026-03-01T10:00:00.123Z',
        producer: 'ingestion',
        data: accepted[i]!.data,
      };
      expect(record.value).toBe(JSON.stringify(envelope));
      expect(assertValidEvent(JSON.parse(record.value as string))).toEqual(envelope);
    });
  });
});
