import { dlqTopic, type DomainEvent } from '@usageflow/contracts';
import {
  ConsumerRunner,
  DLQ_HEADERS,
  encodeEvent,
  EventProducer,
  NonRetriableError,
  type ConsumedEvent,
  type Kafka,
} from '@usageflow/kafka';
import { readTopic, sampleEvent, testKafka, testLogger, testTopic, uniqueName, waitFor } from '@usageflow/testkit';

describe('ConsumerRunner', () => {
  let kafka: Kafka;
  let producer: EventProducer;
  const runners: ConsumerRunner[] = [];

  beforeAll(async () => {
    kafka = testKafka();
    producer = new EventProducer(kafka, { logger: testLogger() });
    await producer.connect();
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await producer.disconnect();
  });

  async function committedOffset(groupId: string, topic: string): Promise<string> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return entry!.partitions[0]!.offset;
    } finally {
      await admin.disconnect();
    }
  }

  it('dead-letters poison messages with their error, retries transient failures, applies the rest in order', async () => {
    // given one partition holding: good, undecodable bytes, an invalid event, good, a message
    // whose handler fails for good, and one whose handler fails transiently twice
    const topic = await testTopic(kafka, 'runner', 1);
    const good = [sampleEvent('usage.recorded'), sampleEvent('usage.recorded'), sampleEvent('usage.recorded')];
    const poisonByHandler = sampleEvent('usage.recorded');
    const transient = sampleEvent('usage.recorded');
    const invalid = { ...sampleEvent('usage.recorded'), data: { amount: '-1' } };
    const raw = (e: DomainEvent) => encodeEvent(e).message;
    await producer.send(topic, [
      raw(good[0]!),
      { key: 'k', value: 'not json at all' },
      { key: 'k', value: JSON.stringify(invalid) },
      raw(good[1]!),
      raw(poisonByHandler),
      raw(transient),
      raw(good[2]!),
    ]);

    // when a runner consumes it
    const applied: string[] = [];
    let transientFailures = 0;
    const groupId = uniqueName('group');
    const runner = new ConsumerRunner<ConsumedEvent>({
      kafka,
      producer,
      groupId,
      topics: [topic],
      logger: testLogger(),
      retry: { initialMs: 10, maxMs: 50 },
      handle: async (messages) => {
        for (const m of messages) {
          if (m.event.id === poisonByHandler.id) throw new NonRetriableError('customer user_123 has no subscription');
          if (m.event.id === transient.id && transientFailures < 2) {
            transientFailures++;
            throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
          }
        }
        // all-or-nothing per call, like a transaction: record only when the call succeeds
        applied.push(...messages.map((m) => m.event.id));
      },
    });
    runners.push(runner);
    await runner.start();

    // then every offset is committed once all seven were handled or dead-lettered
    await waitFor('offsets committed to the end', async () => (await committedOffset(groupId, topic)) === '7', {
      timeoutMs: 60_000,
    });
    // and the good ones and the transiently failing one were applied, each exactly once, in order
    expect(applied).toEqual([good[0]!.id, good[1]!.id, transient.id, good[2]!.id]);
    expect(transientFailures).toBe(2);
    // and the three poison messages are in the DLQ with their error and origin
    // (the DLQ is partitioned by the original key, so order holds per key: sort by source offset)
    const dead = (await readTopic(kafka, dlqTopic(topic), { count: 3, settleMs: 1_000 })).sort(
      (a, b) => Number(a.headers[DLQ_HEADERS.offset]) - Number(b.headers[DLQ_HEADERS.offset]),
    );
    expect(dead).toHaveLength(3);
    expect(dead.map((d) => d.headers[DLQ_HEADERS.offset])).toEqual(['1', '2', '4']);
    expect(dead.map((d) => d.headers[DLQ_HEADERS.topic])).toEqual([topic, topic, topic]);
    expect(dead[0]!.value).toBe('not json at all');
    expect(dead[0]!.headers[DLQ_HEADERS.error]).toMatch(/JSON/i);
    expect(dead[1]!.headers[DLQ_HEADERS.error]).toContain('data.amount');
    expect(dead[2]!.headers[DLQ_HEADERS.error]).toBe('customer user_123 has no subscription');
    expect(dead[2]!.headers[DLQ_HEADERS.group]).toBe(groupId);
    expect(JSON.parse(dead[2]!.value!).id).toBe(poisonByHandler.id);
  });
});
