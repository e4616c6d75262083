import { EventProducer, type Kafka } from '@usageflow/kafka';
import { readTopic, sampleEvent, testKafka, testLogger, testTopic } from '@usageflow/testkit';

describe('EventProducer', () => {
  let kafka: Kafka;
  let producer: EventProducer;

  beforeAll(async () => {
    kafka = testKafka();
    producer = new EventProducer(kafka, { logger: testLogger() });
    await producer.connect();
  });
  afterAll(() => producer.disconnect());

  it('keeps per-key order across concurrent sends (they are serialized)', async () => {
    // given 20 sends of 25 records each for 5 keys, all started at once
    const topic = await testTopic(kafka, 'producer', 3);
    const sends = Array.from({ length: 20 }, (_, s) =>
      producer.send(
        topic,
        Array.from({ length: 25 }, (_, i) => ({ key: `key-${i % 5}`, value: String(s * 25 + i) })),
      ),
    );
    // when they all resolve
    await Promise.all(sends);
    // then each key's values appear in send order, each once
    const records = await readTopic(kafka, topic, { count: 500 });
    expect(records).toHaveLength(500);
    for (let k = 0; k < 5; k++) {
      const values = records.filter((r) => r.key === `key-${k}`).map((r) => Number(r.value));
      expect(values).toEqual([...values].sort((a, b) => a - b));
      expect(values).toHaveLength(100);
    }
  });

  it('refuses an invalid event before anything is sent', async () => {
    const event = sampleEvent('usage.recorded', { data: { amount: '-1' } });
    await expect(producer.publish([event])).rejects.toThrow(/data\.amount/);
  });
});
