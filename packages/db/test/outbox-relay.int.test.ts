import { appendToOutbox, messagingMigrations, migrate, type Knex } from '@usageflow/db';
import type { Kafka } from '@usageflow/kafka';
import { readTopic, sampleEvent, testDatabase, testInfra, testKafka, testTopic, waitFor } from '@usageflow/testkit';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { highWaterMarks } from '@usageflow/kafka';

const RELAY = path.join(__dirname, 'relay-process.cjs');
const EVENTS = 1_200;
const KEYS = 12;

const children = new Set<ChildProcess>();

/** A relay child process and the "SENT n" lines it prints after each acknowledged batch. */
function startRelay(schema: string, env: Record<string, string>) {
  const { kafkaBrokers, databaseUrl } = testInfra();
  const child = spawn(process.execPath, [RELAY], {
    env: { ...process.env, SCHEMA: schema, KAFKA_BROKERS: kafkaBrokers.join(','), DATABASE_URL: databaseUrl, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let sent = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.startsWith('SENT')) continue;
      sent++;
      for (const w of waiters.filter((x) => sent >= x.n)) w.resolve();
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    exited,
    /** Resolves once the n-th batch was acknowledged by Kafka. */
    sentBatches: (n: number) => new Promise<void>((resolve) => (sent >= n ? resolve() : waiters.push({ n, resolve }))),
  };
}

async function kill(child: ChildProcess, exited: Promise<void>) {
  child.kill('SIGKILL');
  await exited;
}

describe('outbox relay under crashes', () => {
  let db: Knex;
  let drop: () => Promise<void>;
  let schema: string;
  let kafka: Kafka;
  let topic: string;

  beforeEach(async () => {
    ({ db, drop, schema } = await testDatabase('outbox'));
    await migrate(db, schema, messagingMigrations);
    kafka = testKafka();
    topic = await testTopic(kafka, 'outbox', 4);
  });
  afterEach(async () => {
    for (const child of children) child.kill('SIGKILL');
    await drop();
  });

  /** Reads the topic and checks each outbox row is on it exactly once, each key in append order. */
  async function expectExactlyOnceInOrder(seqOf: Map<string, bigint>) {
    const records = await readTopic(kafka, topic, { count: seqOf.size, settleMs: 2_000 });
    const ids = records.map((r) => r.headers['event-id']!);
    expect(records.length).toBe(seqOf.size);
    expect(new Set(ids).size).toBe(seqOf.size);
    expect(new Set(ids)).toEqual(new Set(seqOf.keys()));
    const byKey = new Map<string, bigint[]>();
    for (const r of records) {
      const list = byKey.get(r.key!) ?? [];
      list.push(seqOf.get(r.headers['event-id']!)!);
      byKey.set(r.key!, list);
    }
    expect(byKey.size).toBe(KEYS);
    for (const seqs of byKey.values()) {
      expect(seqs).toEqual([...seqs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return records;
  }

  /** Appends EVENTS events for KEYS subscriptions in transactions of 50; returns id -> seq. */
  async function appendEvents(): Promise<Map<string, bigint>> {
    const organizationId = randomUUID();
    const subscriptions = Array.from({ length: KEYS }, () => randomUUID());
    for (let tx = 0; tx < EVENTS / 50; tx++) {
      await db.transaction((trx) =>
        appendToOutbox(
          trx,
          Array.from({ length: 50 }, (_, i) =>
            sampleEvent('invoice.paid', {
              organizationId,
              data: { subscriptionId: subscriptions[(tx * 50 + i) % KEYS]!, invoiceId: randomUUID() },
            }),
          ),
          { topic },
        ),
      );
    }
    return new Map(
      (await db('outbox').select('id', 'seq')).map((r: { id: string; seq: string }) => [r.id, BigInt(r.seq)]),
    );
  }

  const unpublished = async () =>
    (await db('outbox').whereNull('published_at').count<{ count: string }[]>('* as count'))[0]!.count;

  it('publishes every row exactly once, in append order per key, though killed mid-publish', async () => {
    // given 1,200 events for 12 subscriptions appended in 24 transactions
    const seqOf = await appendEvents();

    // when a relay is SIGKILLed three times right after Kafka acknowledged a batch and before
    // the batch was marked published, and once at an arbitrary moment
    let inDoubtSeen = 0;
    for (let round = 0; round < 3; round++) {
      const relay = startRelay(schema, { PAUSE_AFTER_SEND_MS: '60000', BATCH_SIZE: '100' });
      await relay.sentBatches(1); // each run recovers, sends one batch, then hangs before marking it
      const onTopic = [...(await highWaterMarks(kafka, topic)).values()].reduce((a, b) => a + b, 0n);
      const marked = BigInt(
        (await db('outbox').whereNotNull('published_at').count<{ count: string }[]>('* as count'))[0]!.count,
      );
      if (onTopic > marked) inDoubtSeen++;
      await kill(relay.child, relay.exited);
    }
    {
      const relay = startRelay(schema, { BATCH_SIZE: '50' });
      await relay.sentBatches(2);
      await kill(relay.child, relay.exited);
    }
    // and a last relay runs to the end
    const relay = startRelay(schema, { BATCH_SIZE: '100' });
    await waitFor(
      'every outbox row published',
      async () =>
        (await db('outbox').whereNull('published_at').count<{ count: string }[]>('* as count'))[0]!.count === '0',
      { timeoutMs: 60_000 },
    );
    relay.child.kill('SIGTERM');
    await relay.exited;

    // then the crashes really hit the window between acknowledgement and marking
    expect(inDoubtSeen).toBe(3);
    // and the topic holds each row exactly once, in append order per key
    const records = await expectExactlyOnceInOrder(seqOf);
    // and each record is the appended event byte for byte
    const sample = records[0]!;
    expect(JSON.parse(sample.value!).id).toBe(sample.headers['event-id']);
  });

  it('publishes each row once and in order with two relays (two replicas) running at once', async () => {
    // given the events, and two relay processes on the same schema
    const seqOf = await appendEvents();
    const relays = [startRelay(schema, { BATCH_SIZE: '40' }), startRelay(schema, { BATCH_SIZE: '40' })];
    // when both run until the outbox is empty
    await waitFor('every outbox row published', async () => (await unpublished()) === '0', { timeoutMs: 60_000 });
    for (const r of relays) r.child.kill('SIGTERM');
    await Promise.all(relays.map((r) => r.exited));
    // then the advisory lock let one publish at a time: each row once, each key in order
    await expectExactlyOnceInOrder(seqOf);
  });
});
