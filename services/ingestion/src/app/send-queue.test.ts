import type { OutgoingMessage } from '@usageflow/kafka';
import { QueueFullError, SendQueue } from './send-queue';

/** A sender whose produce requests the test acknowledges or fails by hand. */
function manualSender() {
  const sends: Array<{ records: readonly OutgoingMessage[]; ack: () => void; fail: (err: Error) => void }> = [];
  return {
    sends,
    send(_topic: string, records: readonly OutgoingMessage[]) {
      return new Promise<void>((resolve, reject) => sends.push({ records, ack: resolve, fail: reject }));
    },
  };
}

const records = (tag: string, n: number): OutgoingMessage[] =>
  Array.from({ length: n }, (_, i) => ({ key: tag, value: `${tag}${i}` }));
const values = (rs: readonly OutgoingMessage[]) => rs.map((r) => r.value);
const flush = () => new Promise((resolve) => setImmediate(resolve));

function queue(
  sender: ReturnType<typeof manualSender>,
  o: { maxRecordsPerSend?: number; maxRecordsWaiting?: number } = {},
) {
  return new SendQueue({
    sender,
    topic: 't',
    maxRecordsPerSend: o.maxRecordsPerSend ?? 100,
    maxRecordsWaiting: o.maxRecordsWaiting ?? 1_000,
    lingerMs: 0,
  });
}

describe('SendQueue (group commit)', () => {
  it('sends the first request at once and gathers the next ones while it is in flight', async () => {
    const sender = manualSender();
    const q = queue(sender);
    const answered: string[] = [];
    const a = q.enqueue(records('a', 2)).then(() => answered.push('a'));
    const b = q.enqueue(records('b', 1)).then(() => answered.push('b'));
    const c = q.enqueue(records('c', 3)).then(() => answered.push('c'));
    expect(sender.sends.map((s) => values(s.records))).toEqual([['a0', 'a1']]);
    expect(q.size).toBe(6);

    sender.sends[0]!.ack();
    await a;
    await flush();
    expect(answered).toEqual(['a']); // b and c wait for their own produce's acknowledgement
    expect(sender.sends.map((s) => values(s.records))).toEqual([
      ['a0', 'a1'],
      ['b0', 'c0', 'c1', 'c2'],
    ]);
    sender.sends[1]!.ack();
    await Promise.all([b, c]);
    expect(answered).toEqual(['a', 'b', 'c']);
    expect(q.size).toBe(0);
  });

  it('never splits a request and keeps to the bound, but always sends at least one request', async () => {
    const sender = manualSender();
    const q = queue(sender, { maxRecordsPerSend: 4 });
    void q.enqueue(records('a', 1));
    void q.enqueue(records('b', 3));
    void q.enqueue(records('c', 2));
    void q.enqueue(records('d', 9)); // over the bound on its own
    sender.sends[0]!.ack();
    await flush();
    sender.sends[1]!.ack();
    await flush();
    sender.sends[2]!.ack();
    await flush();
    expect(sender.sends.map((s) => values(s.records).length)).toEqual([1, 3, 2, 9]);
  });

  it('refuses with QueueFullError beyond the records it may hold, and takes more once they are acknowledged', async () => {
    const sender = manualSender();
    const q = queue(sender, { maxRecordsWaiting: 5 });
    const first = q.enqueue(records('a', 3));
    expect(() => q.enqueue(records('b', 3))).toThrow(QueueFullError);
    expect(q.size).toBe(3);
    sender.sends[0]!.ack();
    await first;
    await expect(Promise.race([q.enqueue(records('b', 3)), flush().then(() => 'pending')])).resolves.toBe('pending');
  });

  it('rejects every request of a failed produce, and goes on with the next ones', async () => {
    const sender = manualSender();
    const q = queue(sender);
    const a = q.enqueue(records('a', 1));
    const b = q.enqueue(records('b', 1));
    const c = q.enqueue(records('c', 1));
    sender.sends[0]!.ack();
    await a;
    await flush();
    sender.sends[1]!.fail(new Error('broker gone'));
    await expect(b).rejects.toThrow('broker gone');
    await expect(c).rejects.toThrow('broker gone'); // b and c travelled together
    const d = q.enqueue(records('d', 1));
    expect(values(sender.sends[2]!.records)).toEqual(['d0']);
    sender.sends[2]!.ack();
    await d;
    expect(q.size).toBe(0);
  });

  it('drain resolves once nothing is queued or in flight', async () => {
    const sender = manualSender();
    const q = queue(sender);
    void q.enqueue(records('a', 1));
    void q.enqueue(records('b', 1));
    let drained = false;
    const draining = q.drain().then(() => (drained = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(drained).toBe(false);
    sender.sends[0]!.ack();
    await flush();
    sender.sends[1]!.ack();
    await draining;
    expect(drained).toBe(true);
  });
});
