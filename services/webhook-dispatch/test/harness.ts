// Runs the webhook-dispatch service in-process on real Postgres and Kafka, with a seeded identity
// projection (seedIdentityProjection) and, for endpoints, local receivers (startReceiver).
import { seedIdentityProjection, serviceAuthMigrations } from '@usageflow/auth';
import { messagingMigrations, migrate } from '@usageflow/db';
import { createHttpApp, idempotencyMigration, startHttpServer } from '@usageflow/http';
import { EventProducer } from '@usageflow/kafka';
import { httpCall, testDatabase, testKafka, testLogger, type HttpCallOptions } from '@usageflow/testkit';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webhookMigrations } from '../src/adapters/db/migrations';
import { DEFAULT_WEBHOOK_SETTINGS, type WebhookSettings } from '../src/config';
import { buildWebhookDispatch } from '../src/service';

export type WebhookDispatch = Awaited<ReturnType<typeof startWebhookDispatch>>;

/** Local receivers are allowed: http and loopback addresses (the tests' own endpoints). */
export const LOCAL_RECEIVERS: Partial<WebhookSettings> = {
  allowHttp: true,
  allowedAddresses: ['127.0.0.0/8', '::1/128'],
};

/** Starts the service with its own schema; `config` overrides the defaults (plus LOCAL_RECEIVERS). */
export async function startWebhookDispatch(options: { config?: Partial<WebhookSettings> } = {}) {
  const logger = testLogger('webhook-dispatch');
  const { db, schema, drop } = await testDatabase('webhook');
  await migrate(db, schema, [
    ...messagingMigrations,
    idempotencyMigration,
    ...serviceAuthMigrations,
    ...webhookMigrations,
  ]);
  const kafka = testKafka(logger);
  const producer = new EventProducer(kafka, { logger });
  await producer.connect();
  const service = buildWebhookDispatch({
    db,
    kafka,
    producer,
    logger,
    config: { ...DEFAULT_WEBHOOK_SETTINGS, ...LOCAL_RECEIVERS, ...options.config },
    identityProjection: false,
  });
  const app = createHttpApp({ logger, readiness: {}, routes: service.routes });
  const server = await startHttpServer(app, 0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${server.port}`;
  const { tokenFor, apiKeyFor } = await seedIdentityProjection(db);

  return {
    db,
    kafka,
    producer,
    ctx: service.ctx,
    service,
    api: (method: string, path: string, o?: HttpCallOptions) => httpCall(baseUrl, method, path, o),
    tokenFor,
    apiKeyFor,
    async stop() {
      await server.close(1000);
      for (const worker of [...service.workers].reverse()) await worker.stop();
      await producer.disconnect();
      await drop();
    },
  };
}

/** A request a receiver got. */
export interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * A local webhook receiver. `respond` decides each answer (default 204); what it received is in
 * `received`, in arrival order.
 */
export async function startReceiver(
  respond: (request: Received, index: number) => Promise<number> | number = () => 204,
) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request = { at: Date.now(), headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(request);
      void Promise.resolve(respond(request, received.length - 1)).then(
        (status) => res.writeHead(status).end(),
        () => res.writeHead(500).end(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
