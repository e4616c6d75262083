// When a key last sent usage comes from the usage stream, folded per batch: no write per request.
import { buildEvent } from '@usageflow/contracts';
import { encodeEvent } from '@usageflow/kafka';
import { testTopic, waitFor } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { apiKeyLastUsedConsumer } from '../src/adapters/kafka/api-key-last-used';
import { startIdentity, type Identity } from './harness';

let id: Identity;
beforeAll(async () => {
  id = await startIdentity();
});
afterAll(() => id?.stop());

it('records the latest receivedAt per key from usage.recorded, and never moves it back', async () => {
  const owner = await id.signup('lastused');
  const key = await id.api('POST', '/v1/api-keys', { token: owner.token, body: { name: 'k' } });
  const topic = await testTopic(id.kafka, 'usage', 3);
  const consumer = apiKeyLastUsedConsumer({
    kafka: id.kafka,
    producer: id.producer,
    db: id.db,
    logger: id.logger,
    groupId: `lastused-${randomUUID()}`,
    topic,
  });
  // the group starts at the end of the log: start it, then produce
  await consumer.start();
  try {
    const usage = (receivedAt: string) =>
      buildEvent('usage.recorded', {
        id: randomUUID(),
        organizationId: owner.organizationId,
        occurredAt: receivedAt,
        producer: 'ingestion',
        data: {
          eventId: randomUUID(),
          customerId: 'user_123',
          metric: 'API_CALL',
          amount: '1',
          timestamp: receivedAt,
          properties: {},
          receivedAt,
          apiKeyId: key.body.id,
        },
      });
    const times = ['2026-03-01T10:00:00.000Z', '2026-03-01T10:05:00.000Z', '2026-03-01T10:02:00.000Z'];
    await waitFor('the consumer to join', async () => {
      await id.producer.send(topic, [encodeEvent(usage(times[0]!)).message]);
      return (await id.db('api_keys').where({ id: key.body.id }).first()).last_used_at !== null;
    });
    await id.producer.send(
      topic,
      times.map((t) => encodeEvent(usage(t)).message),
    );
    const listed = await waitFor('last used to reach 10:05', async () => {
      const list = await id.api('GET', '/v1/api-keys', { token: owner.token });
      const k = list.body.data[0];
      return k.lastUsedAt === '2026-03-01T10:05:00.000Z' ? k : undefined;
    });
    expect(listed.id).toBe(key.body.id);
    // an older record later changes nothing: it is followed (same partition: same customer) by a
    // record of a second key, and once that one is applied the first key's time must be unchanged
    const other = await id.api('POST', '/v1/api-keys', { token: owner.token, body: { name: 'k2' } });
    const sentinel = usage('2026-03-02T00:00:00.000Z');
    sentinel.data.apiKeyId = other.body.id;
    await id.producer.send(topic, [
      encodeEvent(usage('2026-02-01T00:00:00.000Z')).message,
      encodeEvent(sentinel).message,
    ]);
    await waitFor('the sentinel to be applied', async () => {
      return (await id.db('api_keys').where({ id: other.body.id }).first()).last_used_at !== null;
    });
    const row = await id.db('api_keys').where({ id: key.body.id }).first();
    expect(new Date(row.last_used_at).toISOString()).toBe('2026-03-01T10:05:00.000Z');
  } finally {
    await consumer.stop();
  }
});
