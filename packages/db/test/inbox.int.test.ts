import { claimInbox, messagingMigrations, migrate, type Knex } from '@usageflow/db';
import { ConsumerRunner, encodeEvent, EventProducer, type ConsumedEvent, type Kafka } from '@usageflow/kafka';
import { sampleEvent, testDatabase, testKafka, testLogger, testTopic, uniqueName, waitFor } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';

const CONSUMER = 'usage-totals';

/** A projection of usage totals per customer, applied through the inbox. */
function totalsRunner(kafka: Kafka, producer: EventProducer, db: Knex, topic: string, groupId: string) {
  return new ConsumerRunner<ConsumedEvent>({
    kafka,
    producer,
    groupId,
    topics: [topic],
    logger: testLogger(),
    handle: async (messages) => {
      await db.transaction(async (trx) => {
        const fresh = await claimInbox(
          trx,
          CONSUMER,
          messages.map((m) => ({ eventId: m.event.id, topic: m.topic, partition: m.partition, offset: m.offset, m })),
        );
        for (const { m } of fresh) {
          if (m.event.type !== 'usage.recorded') continue;
          await trx.raw(
            `insert into usage_totals (customer_id, total, events) values (?, ?::numeric, 1)
             on conflict (customer_id) do update set total = usage_totals.total + excluded.total, events = usage_totals.events + 1`,
            [m.event.data.customerId, m.event.data.amount],
          );
        }
      });
    },
  });
}

describe('inbox', () => {
  let db: Knex;
  let drop: () => Promise<void>;
  let kafka: Kafka;
  let producer: EventProducer;

  beforeAll(async () => {
    const t = await testDatabase('inbox');
    ({ db, drop } = t);
    await migrate(db, t.schema, [
      ...messagingMigrations,
      {
        name: '001_usage_totals',
        up: (k) =>
          k.raw(
            'create table usage_totals (customer_id text primary key, total numeric not null, events int not null)',
          ),
      },
    ]);
    kafka = testKafka();
    producer = new EventProducer(kafka, { logger: testLogger() });
    await producer.connect();
  });
  afterAll(async () => {
    await producer.disconnect();
    await drop();
  });

  const snapshot = async () => ({
    totals: await db('usage_totals').select().orderBy('customer_id'),
    inbox: Number((await db('inbox').count<{ count: string }[]>('* as count'))[0]!.count),
  });

  it('applies a redelivered batch once: the projection is unchanged the second time', async () => {
    // given 60 usage events (decimal amounts) for 3 customers, one of them sent twice
    const topic = await testTopic(kafka, 'inbox', 3);
    const organizationId = randomUUID();
    const events = Array.from({ length: 60 }, (_, i) =>
      sampleEvent('usage.recorded', {
        organizationId,
        data: { customerId: `cust_${i % 3}`, amount: '2.5', eventId: randomUUID() },
      }),
    );
    await producer.send(
      topic,
      [...events, events[0]!].map((e) => encodeEvent(e).message),
    );

    // when the projection consumes them
    const groupId = uniqueName('group');
    let runner = totalsRunner(kafka, producer, db, topic, groupId);
    await runner.start();
    await waitFor('all applied', async () => (await snapshot()).inbox === 60, { timeoutMs: 60_000 });
    await runner.stop();
    const first = await snapshot();
    expect(first.totals).toEqual([
      { customer_id: 'cust_0', total: '50.0', events: 20 },
      { customer_id: 'cust_1', total: '50.0', events: 20 },
      { customer_id: 'cust_2', total: '50.0', events: 20 },
    ]);

    // and the whole topic is delivered again (the group's offsets reset to the beginning)
    const admin = kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId, topic, earliest: true });
    await admin.disconnect();
    let redelivered = 0;
    runner = totalsRunner(kafka, producer, db, topic, groupId);
    const original = (runner as unknown as { options: { handle: (...a: unknown[]) => Promise<void> } }).options;
    const handle = original.handle;
    original.handle = async (...args: unknown[]) => {
      redelivered += (args[0] as unknown[]).length;
      return handle(...args);
    };
    await runner.start();
    await waitFor('the redelivery handled', () => redelivered >= 61, { timeoutMs: 60_000 });
    await runner.stop();

    // then nothing changed
    expect(await snapshot()).toEqual(first);
  });
});
