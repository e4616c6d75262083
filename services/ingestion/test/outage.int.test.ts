// Kafka goes away under the gateway and comes back. While it is gone every request is refused
// with 503 + Retry-After within the ack timeout (never a 2xx: a 2xx means acks=all), and once it
// is back events are accepted again without a gateway restart. Nothing acknowledged is lost.
// The broker is a scratch one of this test's own: the shared broker must never be stopped.
// The first case stops the broker cleanly (SIGTERM); the second kills it (SIGKILL) three times
// while eight clients keep sending, the crash that once made KafkaJS's rolled-back idempotent
// sequence numbers turn a later send into an acknowledged "duplicate" that was never stored (see
// EventProducer.renew in packages/kafka/src/producer.ts).
import { highWaterMarks, type Kafka } from '@usageflow/kafka';
import { readTopic, testLogger, waitFor, type HttpCallResult } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';
import { startIngestion, type Ingestion } from './harness';

interface ScratchBroker {
  brokers: string[];
  pid: number | null;
  stop(): Promise<void>;
  restart(): Promise<void>;
  destroy(): Promise<void>;
}
// infra/local is plain JS that runs before the build.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startScratchBroker } = require('../../../infra/local/kafka.cjs') as {
  startScratchBroker: (o?: { heap?: string; log?: (line: string) => void }) => Promise<ScratchBroker>;
};

const ACK_TIMEOUT_MS = 2_000;
/** A refusal must come about when the ack timeout fires; 2 s of slack for a loaded CI machine. */
const ANSWER_BOUND_MS = ACK_TIMEOUT_MS + 2_000;
/** How long the gateway may take to accept events again once the broker answers. */
const RECOVERY_BOUND_MS = 30_000;

const log = testLogger('outage');
let broker: ScratchBroker | undefined;
let h: Ingestion | undefined;
/** The gateway's consumer group members before the outage (see afterAll). */
let membersBefore = new Set<string>();

/** Every consumer group on the scratch broker: its state and member ids. */
async function consumerGroups(kafka: Kafka) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    if (groups.length === 0) return [];
    const described = await admin.describeGroups(groups.map((g) => g.groupId));
    return described.groups.map((g) => ({ state: g.state, members: g.members.map((m) => m.memberId) }));
  } finally {
    await admin.disconnect();
  }
}
const rebalancing = (groups: Awaited<ReturnType<typeof consumerGroups>>) =>
  groups.some((g) => g.state !== 'Stable' && g.state !== 'Empty' && g.state !== 'Dead');

beforeAll(async () => {
  broker = await startScratchBroker({ log: (line) => log.info(line) });
  h = await startIngestion({ brokers: broker.brokers, config: { ackTimeoutMs: ACK_TIMEOUT_MS } });
}, 120_000);

afterAll(async () => {
  try {
    // The gateway is stopped against a live broker and with its consumers settled. Its KafkaJS
    // consumers (the projection feed, the harness's usage reader) crash within seconds of the
    // outage and restart as new group members; the restarted broker keeps their old members
    // until the session timeout (30 s) and holds the new ones' JoinGroup until then. A
    // disconnect in that window fails the pending join, and KafkaJS then restarts the consumer
    // after the disconnect: it would retry forever against the destroyed broker and jest would
    // not exit. So: broker up, old members gone, no rebalance in progress; then stop.
    if (broker && broker.pid === null) await broker.restart();
    if (h) {
      const kafka = h.kafka;
      await waitFor(
        "the gateway's consumers to be back in their groups",
        async () => {
          const groups = await consumerGroups(kafka);
          return !rebalancing(groups) && groups.every((g) => g.members.every((m) => !membersBefore.has(m)));
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      ).catch((err: unknown) => log.warn({ err }, 'stopping the gateway with its consumers unsettled'));
      await h.stop();
    }
  } finally {
    await broker?.destroy();
  }
}, 120_000);

/** One answer of the gateway, the ids it carried and how long it took. */
interface Answer {
  ids: string[];
  status: number;
  retryAfter: string | null;
  ms: number;
}

it('refuses with 503 + Retry-After in bounded time while Kafka is down, recovers, and loses nothing acknowledged', async () => {
  const gw = h!;
  const { org, key } = await gw.organization();
  const run = randomUUID().slice(0, 8);
  const sent = new Set<string>();
  const answers: Answer[] = [];

  const usage = (id: string) => ({ id, customerId: 'cust_outage', metric: 'API_CALL', amount: 1 });
  const call = async (ids: string[], request: () => Promise<HttpCallResult>): Promise<Answer> => {
    for (const id of ids) sent.add(id);
    const t0 = Date.now();
    const res = await request();
    const answer = { ids, status: res.status, retryAfter: res.headers.get('retry-after'), ms: Date.now() - t0 };
    answers.push(answer);
    return answer;
  };
  const sendOne = (id: string) => call([id], () => gw.api('POST', '/v1/events', { apiKey: key, body: usage(id) }));
  const sendBatch = (ids: string[]) =>
    call(ids, () => gw.api('POST', '/v1/events/batch', { apiKey: key, body: { events: ids.map(usage) } }));
  const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${run}-${prefix}-${i}`);
  /** The usage topic read from the beginning by a reader of its own, as `data.eventId`s. */
  const eventIdsOnTopic = async (count: number, settleMs: number) => {
    const records = await readTopic(gw.kafka, gw.usageTopic, { count, settleMs, timeoutMs: 30_000 });
    return records.map((r) => {
      const event = JSON.parse(r.value!) as { organizationId: string; data: { eventId: string } };
      expect(event.organizationId).toBe(org);
      return event.data.eventId;
    });
  };

  // given a gateway whose broker is up: events are accepted and on the usage topic
  const up = [await sendOne(`${run}-up-0`), await sendOne(`${run}-up-1`), await sendBatch(ids('up-batch', 3))];
  expect(up.map((a) => a.status)).toEqual([202, 202, 202]);
  const upIds = up.flatMap((a) => a.ids);
  expect((await eventIdsOnTopic(upIds.length, 0)).sort()).toEqual([...upIds].sort());

  // (the gateway's consumer groups, settled, as they were before the outage: see afterAll)
  const groupsBefore = await waitFor('the consumer groups to settle', async () => {
    const groups = await consumerGroups(gw.kafka);
    return !rebalancing(groups) && groups.some((g) => g.members.length > 0) && groups;
  });
  membersBefore = new Set(groupsBefore.flatMap((g) => g.members));

  // when the broker stops
  const tStop = Date.now();
  await broker!.stop();
  const stopMs = Date.now() - tStop;

  // then every request is refused, singles and batches, one after another and several at once
  const down: Answer[] = [];
  for (let i = 0; i < 2; i++) {
    down.push(await sendOne(`${run}-down-${i}`));
    down.push(await sendBatch(ids(`down-batch-${i}`, 3)));
  }
  down.push(
    ...(await Promise.all([...ids('down-concurrent', 4).map(sendOne), sendBatch(ids('down-concurrent-batch', 5))])),
  );
  for (const a of down) {
    expect({ ids: a.ids, status: a.status }).toEqual({ ids: a.ids, status: 503 });
    expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(a.ms).toBeLessThan(ANSWER_BOUND_MS);
  }

  // when the broker is back
  const tRestart = Date.now();
  await broker!.restart();
  const restartMs = Date.now() - tRestart;

  // then events are accepted again, without restarting the gateway: retry like a client would,
  // until the first 202 (the refusals meanwhile are 503 + Retry-After, in bounded time too)
  const tBack = Date.now();
  let attempt = 0;
  await waitFor(
    'the gateway to accept events again',
    async () => {
      const a = await sendOne(`${run}-back-${attempt++}`);
      if (a.status !== 202) {
        expect(a.status).toBe(503);
        expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(a.ms).toBeLessThan(ANSWER_BOUND_MS);
      }
      return a.status === 202;
    },
    { timeoutMs: RECOVERY_BOUND_MS, intervalMs: 250 },
  );
  const recoveryMs = Date.now() - tBack;
  // and it keeps accepting them straight away
  const after = [await sendOne(`${run}-after-0`), await sendBatch(ids('after-batch', 3))];
  expect(after.map((a) => a.status)).toEqual([202, 202]);

  // Every request was answered, one produce at a time in arrival order: nothing is pending in the
  // gateway now, so the topic up to its high-water marks is all that will ever be on it.
  let total = 0;
  for (const mark of (await highWaterMarks(gw.kafka, gw.usageTopic)).values()) total += Number(mark);
  const onTopic = await eventIdsOnTopic(total, 1_000);
  expect(onTopic).toHaveLength(total);

  const acked = answers.filter((a) => a.status >= 200 && a.status < 300).flatMap((a) => a.ids);
  const refused = answers.filter((a) => a.status === 503).flatMap((a) => a.ids);
  // Only 202 or 503 were ever answered.
  expect(answers.filter((a) => a.status !== 202 && a.status !== 503)).toEqual([]);
  // Nothing acknowledged was lost: every id answered 2xx is on the topic.
  expect(acked.filter((id) => !onTopic.includes(id))).toEqual([]);
  // Nothing appeared that was never sent.
  expect(onTopic.filter((id) => !sent.has(id))).toEqual([]);
  // NOTE: an id answered 503 may or may not be on the topic: the produce that carried it goes on
  // after the timeout and lands once Kafka is back, unless KafkaJS gave up on it first (its
  // connection retries run out after some seconds). Not a double count either way: the sender
  // retries with the same id and aggregation counts each id once. So nothing is asserted about
  // them beyond having been sent; how many landed is reported.
  const refusedLanded = refused.filter((id) => onTopic.includes(id));

  log.info(
    {
      stopMs,
      refusals: down.map((a) => a.ms),
      restartMs,
      recoveryMs,
      recoveryAttempts: attempt,
      acked: acked.length,
      refused: refused.length,
      refusedLanded: refusedLanded.length,
      records: total,
    },
    'outage timings',
  );
});

it('a broker killed (SIGKILL) under load, three times: every id answered 2xx is on the topic', async () => {
  const gw = h!;
  const { key } = await gw.organization();
  const run = randomUUID().slice(0, 8);
  const acked = new Set<string>();
  const sent = new Set<string>();
  const statuses: Record<number, number> = {};
  let n = 0;
  let running = true;
  const client = async (c: number) => {
    while (running) {
      const ids = Array.from({ length: 20 }, () => `${run}-c${c}-${n++}`);
      ids.forEach((id) => sent.add(id));
      const res = await gw.api('POST', '/v1/events/batch', {
        apiKey: key,
        body: { events: ids.map((id) => ({ id, customerId: `cu${c}`, metric: 'API_CALL', amount: 1 })) },
      });
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status === 202) ids.forEach((id) => acked.add(id));
    }
  };

  const groupsBefore = await waitFor('the consumer groups to settle', async () => {
    const groups = await consumerGroups(gw.kafka);
    return !rebalancing(groups) && groups.some((g) => g.members.length > 0) && groups;
  });
  membersBefore = new Set(groupsBefore.flatMap((g) => g.members));

  const clients = Array.from({ length: 8 }, (_, c) => client(c));
  for (let kill = 0; kill < 3; kill++) {
    await new Promise((r) => setTimeout(r, 1_500));
    process.kill(broker!.pid!, 'SIGKILL');
    await broker!.stop();
    await new Promise((r) => setTimeout(r, 3_000));
    await broker!.restart();
    const before = acked.size;
    await waitFor('the gateway to acknowledge again', () => acked.size > before + 100, { timeoutMs: 60_000 });
  }
  running = false;
  await Promise.all(clients);

  let total = 0;
  for (const mark of (await highWaterMarks(gw.kafka, gw.usageTopic)).values()) total += Number(mark);
  const records = await readTopic(gw.kafka, gw.usageTopic, { count: total, settleMs: 1_000, timeoutMs: 60_000 });
  const onTopic = new Set(records.map((r) => (JSON.parse(r.value!) as { data: { eventId: string } }).data.eventId));
  const lost = [...acked].filter((id) => !onTopic.has(id));
  log.info({ statuses, sent: sent.size, acked: acked.size, records: total, lost: lost.length }, 'kill -9 under load');
  expect(statuses[202]).toBeGreaterThan(0);
  expect(lost).toEqual([]);
  expect([...onTopic].filter((id) => id.startsWith(run) && !sent.has(id))).toEqual([]);
}, 240_000);
