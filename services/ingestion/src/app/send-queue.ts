// Group commit for the hot path. Requests do not each produce: they queue their records, and one
// produce request at a time carries everything queued so far (up to a bound), acks=all. A request
// is answered once the produce that carried its records was acknowledged, and not before. While
// one produce is in flight the next one fills up, so the batch size follows the load by itself
// (small and fast when idle, large under pressure) without a fixed linger on every request.
import type { OutgoingMessage } from '@usageflow/kafka';

/** What the queue produces with: one produce request, resolved when every record is acknowledged. */
export interface RecordSender {
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<unknown>;
}

/** More records are waiting for Kafka than the gateway holds: come back shortly. */
export class QueueFullError extends Error {
  constructor(readonly waiting: number) {
    super(`${waiting} records are already waiting for Kafka`);
    this.name = 'QueueFullError';
  }
}

interface Pending {
  messages: readonly OutgoingMessage[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface SendQueueOptions {
  sender: RecordSender;
  topic: string;
  /** The most records one produce request carries (a request's records are never split). */
  maxRecordsPerSend: number;
  /** The most records queued or in flight; beyond it `enqueue` refuses with QueueFullError. */
  maxRecordsWaiting: number;
  /** Wait this long before a produce to gather more (0: gather only while one is in flight). */
  lingerMs: number;
}

export class SendQueue {
  private queue: Pending[] = [];
  private waiting = 0;
  private sending = false;
  private lingering = false;

  constructor(private readonly options: SendQueueOptions) {}

  /** Records queued or in flight right now. */
  get size(): number {
    return this.waiting;
  }

  /** Resolves when Kafka acknowledged every record; rejects when the produce carrying them failed. */
  enqueue(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.waiting + messages.length > this.options.maxRecordsWaiting) throw new QueueFullError(this.waiting);
    this.waiting += messages.length;
    const done = new Promise<void>((resolve, reject) => this.queue.push({ messages, resolve, reject }));
    this.pump();
    return done;
  }

  /** Resolves once nothing is queued or in flight (graceful shutdown). */
  async drain(): Promise<void> {
    while (this.waiting > 0) await new Promise((r) => setTimeout(r, 10));
  }

  private pump(): void {
    if (this.sending || this.lingering || this.queue.length === 0) return;
    if (this.options.lingerMs > 0) {
      this.lingering = true;
      setTimeout(() => {
        this.lingering = false;
        this.sendNext();
      }, this.options.lingerMs);
      return;
    }
    this.sendNext();
  }

  private sendNext(): void {
    if (this.sending || this.queue.length === 0) return;
    // Whole requests, in arrival order, up to the bound (always at least one request).
    let count = 0;
    let take = 0;
    while (take < this.queue.length) {
      const next = this.queue[take]!.messages.length;
      if (take > 0 && count + next > this.options.maxRecordsPerSend) break;
      count += next;
      take += 1;
    }
    const batch = this.queue.slice(0, take);
    this.queue = this.queue.slice(take);
    const records = batch.length === 1 ? batch[0]!.messages : batch.flatMap((p) => p.messages);
    this.sending = true;
    this.options.sender.send(this.options.topic, records).then(
      () => this.settle(batch, count, (p) => p.resolve()),
      (err: unknown) => this.settle(batch, count, (p) => p.reject(err)),
    );
  }

  private settle(batch: Pending[], count: number, answer: (p: Pending) => void): void {
    this.waiting -= count;
    this.sending = false;
    for (const p of batch) answer(p);
    this.pump();
  }
}
