// The gateway's hot-path producer: @platformatic/kafka instead of KafkaJS, for the usage topic
// only (every other record of UsageFlow, and the gateway's own consumers, stay on KafkaJS through
// @usageflow/kafka). The reason is measured: with the same records, serial produce requests of
// 800, idempotent and acks=all, KafkaJS spent 23–26 µs of CPU per record and this client 9–15;
// behind the whole gateway (bench:ingestion, batches of 100) accepted events/s went from about
// 21K to 47K. The guarantees are those of EventProducer, kept here the same way:
// - idempotent, acks=all, Java-compatible murmur2 partitioning (a key lands where a JVM client
//   would put it);
// - a failed send replaces the producer (new producer id, fresh sequences), so a batch the broker
//   may have written before failing can never make it take the next batch for a duplicate and
//   acknowledge it without storing it. That loss was reproduced with KafkaJS by the outage test;
//   with this client the test passed with and without the replacement (one run each), so here it
//   is a guard kept on purpose, not a measured fix;
// - bounded retries and timeouts, so the gateway answers 503 in bounded time.
// Sends are serialized by the caller (SendQueue: one produce request at a time).
import type { OutgoingMessage } from '@usageflow/kafka';
import type { Logger } from '@usageflow/telemetry';
import type { RecordSender } from '../../app/send-queue';

// NOTE: the package is ECMAScript-only and the services are CommonJS: Node (>= 20.19) loads it
// with require(esm); jest compiles it to CommonJS (jest.config.cjs). Loaded on first use only.
type PlatformaticKafka = typeof import('@platformatic/kafka', { with: { 'resolution-mode': 'import' } });
type Producer = InstanceType<PlatformaticKafka['Producer']>;

let loaded: PlatformaticKafka | undefined;
function platformatic(): PlatformaticKafka {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see the NOTE above
  loaded ??= require('@platformatic/kafka') as PlatformaticKafka;
  return loaded;
}

export interface UsageProducerOptions {
  brokers: readonly string[];
  clientId: string;
  logger: Logger;
  /** How long one produce request (and a connection attempt) may take before it fails. */
  timeoutMs: number;
  /** Retries of a failed request before the send fails (the gateway then answers 503). */
  retries: number;
}

const toBuffer = (v: string | Buffer | undefined): Buffer | undefined =>
  v === undefined ? undefined : typeof v === 'string' ? Buffer.from(v) : v;

/** Produces the gateway's records: one produce request per `send`, resolved once all are acknowledged. */
export class UsageProducer implements RecordSender {
  private producer: Producer;
  /** Set by a failed send: the next send first replaces the producer. */
  private stale = false;
  private readonly logger: Logger;

  constructor(private readonly options: UsageProducerOptions) {
    this.logger = options.logger.child({ component: 'usage-producer' });
    this.producer = this.create();
  }

  private create(): Producer {
    const { Producer, ProduceAcks, compatibilityPartitioner } = platformatic();
    return new Producer<string | undefined, string | Buffer, string | Buffer, string | Buffer>({
      clientId: this.options.clientId,
      bootstrapBrokers: [...this.options.brokers],
      idempotent: true,
      acks: ProduceAcks.ALL,
      partitioner: compatibilityPartitioner,
      autocreateTopics: false,
      timeout: this.options.timeoutMs,
      connectTimeout: this.options.timeoutMs,
      retries: this.options.retries,
      retryDelay: 100,
      serializers: { key: toBuffer, value: toBuffer, headerKey: toBuffer, headerValue: toBuffer },
    }) as unknown as Producer;
  }

  /** Fetches the topic's metadata, so the first request is not the one that connects. */
  async connect(topic: string): Promise<void> {
    await this.producer.metadata({ topics: [topic] });
  }

  async send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.stale) this.renew();
    const { murmur2 } = platformatic();
    // The records of one request share one headers object: it is converted once, not per record.
    let lastHeaders: OutgoingMessage['headers'];
    let headerMap: Map<Buffer, Buffer> | undefined;
    const records = messages.map((m) => {
      if (m.headers !== lastHeaders) {
        lastHeaders = m.headers;
        headerMap =
          m.headers === undefined
            ? undefined
            : new Map(Object.entries(m.headers).map(([k, v]) => [Buffer.from(k), toBuffer(v)!]));
      }
      const key = m.key ?? undefined;
      return {
        topic,
        key,
        value: m.value,
        headers: headerMap,
        // NOTE: the partition the compatibility partitioner would choose (Java's murmur2 of the key,
        // made positive; the client takes it modulo the partition count), from the string key
        // through the library's cache (the last 1,000 keys): hashing the key bytes each time
        // (BigInt arithmetic) cost 1.4 µs per record, as much as building the rest of it.
        partition: key === undefined ? undefined : murmur2(key, true) & 0x7fffffff,
      };
    });
    try {
      await this.producer.send({ messages: records });
    } catch (err) {
      this.stale = true;
      throw err;
    }
  }

  /** A new producer id and sequences after a failure (see the header comment). */
  private renew(): void {
    const old = this.producer;
    this.producer = this.create();
    this.stale = false;
    old.close(true, () => undefined);
    this.logger.warn('a send failed: the usage producer was replaced (new producer id)');
  }

  async close(): Promise<void> {
    await this.producer.close();
  }
}
