// Runs the gateway in-process on real Kafka, with topics of the run's own: its identity and
// catalog feeds (seeded here with the events identity and subscription would publish) and the
// usage topic it produces to. No database anywhere: the gateway has none.
import { apiKeyDigest } from '@usageflow/auth';
import type { ApiKeyScope, DomainEvent } from '@usageflow/contracts';
import { createHttpApp, startHttpServer } from '@usageflow/http';
import { createKafkaClient, encodeEvent, EventProducer } from '@usageflow/kafka';
import { startTelemetry } from '@usageflow/telemetry';
import {
  httpCall,
  sampleEvent,
  testKafka,
  testInfra,
  testLogger,
  testTopic,
  uniqueName,
  waitFor,
  type HttpCallOptions,
} from '@usageflow/testkit';
import { randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_INGESTION_SETTINGS, type IngestionSettings } from '../src/config';
import { buildIngestion } from '../src/service';

export type Ingestion = Awaited<ReturnType<typeof startIngestion>>;

/** A record of the usage topic as the tests read it. */
export interface UsageRecord {
  partition: number;
  key: string | null;
  headers: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, checked by each test
  event: any;
}

/** Starts a gateway; `brokers` points it at another broker (the outage test's own). */
export async function startIngestion(options: { config?: Partial<IngestionSettings>; brokers?: string[] } = {}) {
  const logger = testLogger('ingestion');
  // the W3C propagator, so the records carry the request's trace as in production
  const telemetry = startTelemetry({ serviceName: 'ingestion-test' });
  const kafka = options.brokers
    ? createKafkaClient({ brokers: options.brokers, clientId: 'ingestion-test', logger })
    : testKafka(logger);
  const producer = new EventProducer(kafka, { logger });
  await producer.connect();
  const identityTopic = await testTopic(kafka, 'identity');
  const catalogTopic = await testTopic(kafka, 'catalog');
  const usageTopic = await testTopic(kafka, 'usage', 3);
  const service = buildIngestion({
    brokers: options.brokers ?? testInfra().kafkaBrokers,
    kafka,
    producer,
    logger,
    config: { ...DEFAULT_INGESTION_SETTINGS, usageTopic, ...options.config },
    projectionTopics: [identityTopic, catalogTopic],
  });
  for (const client of service.clients) await client.start();
  for (const worker of service.workers) await worker.start();

  // Everything that reaches the usage topic, read as it arrives by one consumer for the run.
  const usage: UsageRecord[] = [];
  const reader = kafka.consumer({ groupId: uniqueName('usage-reader'), allowAutoTopicCreation: false });
  await reader.connect();
  await reader.subscribe({ topic: usageTopic, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ partition, message }) => {
      usage.push({
        partition,
        key: message.key?.toString() ?? null,
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        event: JSON.parse(message.value!.toString()),
      });
    },
  });
  await waitFor('the projection to catch up', () => service.ctx.ready());
  const app = createHttpApp({
    logger,
    readiness: service.readiness,
    routes: service.routes,
    jsonLimit: service.jsonLimit,
  });
  const server = await startHttpServer(app, 0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${server.port}`;

  const publish = (topic: string, events: DomainEvent[]) =>
    producer.send(
      topic,
      events.map((e) => encodeEvent(e).message),
    );

  /** An API key of `organizationId`, announced on the identity feed and known to the gateway. */
  async function apiKey(
    organizationId: string,
    { scopes = ['events:write'] as ApiKeyScope[], mode = 'live' as 'live' | 'test' } = {},
  ) {
    const key = `uf_${mode}_${randomBytes(32).toString('base64url')}`;
    const apiKeyId = randomUUID();
    const digest = apiKeyDigest(key);
    await publish(identityTopic, [
      sampleEvent('api_key.created', {
        organizationId,
        data: { apiKeyId, digest, scopes, mode, prefix: key.slice(0, 16) },
      }),
    ]);
    await waitFor(`key ${apiKeyId} to be known`, () => service.projection.keyByDigest(digest));
    return { key, apiKeyId };
  }

  /** Revokes a key on the identity feed (the gateway learns it asynchronously). */
  const revoke = (organizationId: string, apiKeyId: string) =>
    publish(identityTopic, [sampleEvent('api_key.revoked', { organizationId, data: { apiKeyId } })]);

  /** Defines metric `key` in `organizationId` on the catalog feed and waits for the gateway to know it. */
  async function metric(organizationId: string, key: string) {
    await publish(catalogTopic, [
      sampleEvent('metric.created', { organizationId, data: { key, name: key, unit: 'units', aggregation: 'SUM' } }),
    ]);
    await waitFor(`metric ${key} to be known`, () => service.projection.acceptsMetric(organizationId, key));
  }

  /** Sets the organization's unknownMetrics mode on the identity feed and waits for it to apply. */
  async function unknownMetrics(organizationId: string, mode: 'ACCEPT' | 'REFUSE') {
    await publish(identityTopic, [
      sampleEvent('organization.updated', {
        organizationId,
        data: { name: 'CloudAI', settings: { unknownMetrics: mode } },
      }),
    ]);
    const probe = `PROBE_${randomBytes(4).toString('hex').toUpperCase()}`;
    await waitFor(
      `unknownMetrics ${mode}`,
      () => service.projection.acceptsMetric(organizationId, probe) === (mode === 'ACCEPT'),
    );
  }

  /** An organization with an events:write key and the API_CALL metric. */
  async function organization(options: { mode?: 'live' | 'test' } = {}) {
    const org = randomUUID();
    const { key, apiKeyId } = await apiKey(org, { mode: options.mode });
    await metric(org, 'API_CALL');
    return { org, key, apiKeyId };
  }

  /**
   * The usage topic's records whose data.eventId is in `ids`, once at least `expected` of them
   * arrived; then a moment more, so an extra one (a record that should not be there) shows too.
   */
  async function recordsFor(ids: readonly string[], expected = ids.length, settleMs = 500) {
    const wanted = new Set(ids);
    const mine = () => usage.filter((r) => wanted.has(r.event.data.eventId));
    await waitFor(`${expected} records on the usage topic`, () => mine().length >= expected, { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, settleMs));
    return mine();
  }

  return {
    kafka,
    producer,
    usageTopic,
    service,
    baseUrl,
    api: (method: string, path: string, o?: HttpCallOptions) => httpCall(baseUrl, method, path, o),
    apiKey,
    revoke,
    metric,
    unknownMetrics,
    organization,
    usage,
    recordsFor,
    async stop() {
      await server.close(1000);
      await reader.disconnect();
      for (const worker of [...service.workers].reverse()) await worker.stop();
      for (const client of service.clients) await client.stop();
      await producer.disconnect();
      await telemetry.shutdown();
    },
  };
}
