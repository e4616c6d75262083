// Runs the subscription service in-process on real Postgres and Kafka. Credentials come from
// its identity projection, seeded here directly (in production identity's topic fills it): a
// signing key whose private half signs test tokens, members with roles, API keys with scopes.
import { apiKeyDigest, serviceAuthMigrations, signAccessToken } from '@usageflow/auth';
import type { Role, ApiKeyScope } from '@usageflow/contracts';
import { messagingMigrations, migrate, OutboxRelay } from '@usageflow/db';
import { createHttpApp, idempotencyMigration, startHttpServer } from '@usageflow/http';
import { EventProducer } from '@usageflow/kafka';
import {
  httpCall,
  testDatabase,
  testKafka,
  testLogger,
  testTopic,
  uniqueName,
  type HttpCallOptions,
} from '@usageflow/testkit';
import { exportJWK, generateKeyPair } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import { subscriptionMigrations } from '../src/adapters/db/migrations';
import { DEFAULT_SUBSCRIPTION_SETTINGS, type SubscriptionSettings } from '../src/config';
import { buildSubscription } from '../src/service';

export type Subscription = Awaited<ReturnType<typeof startSubscription>>;

/**
 * Starts the service with its own schema and a seeded identity projection. The real-time closer
 * does not tick: tests sweep with `ctx`; invoice.failed is read from a topic of the run's own.
 */
export async function startSubscription(options: { config?: Partial<SubscriptionSettings>; clock?: () => Date } = {}) {
  const logger = testLogger('subscription');
  const { db, schema, drop } = await testDatabase('subscription');
  await migrate(db, schema, [
    ...messagingMigrations,
    idempotencyMigration,
    ...serviceAuthMigrations,
    ...subscriptionMigrations,
  ]);
  const kafka = testKafka(logger);
  const producer = new EventProducer(kafka, { logger });
  await producer.connect();
  const invoicesTopic = await testTopic(kafka, 'invoices');
  const service = buildSubscription({
    db,
    kafka,
    producer,
    logger,
    clock: options.clock,
    config: { ...DEFAULT_SUBSCRIPTION_SETTINGS, ...options.config },
    identityProjection: false,
    periodCloser: false,
    invoiceFailed: { topic: invoicesTopic, groupId: uniqueName('subscription-invoice-failed') },
  });
  for (const worker of service.workers) await worker.start();
  const relay = new OutboxRelay({ db, kafka, producer, logger, idleMs: 50 });
  relay.start();
  const app = createHttpApp({ logger, readiness: {}, routes: service.routes });
  const server = await startHttpServer(app, 0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${server.port}`;

  const kid = `test-${randomUUID()}`;
  const { publicKey, privateKey } = await generateKeyPair('EdDSA');
  const now = Date.now();
  await db('auth_signing_keys').insert({
    kid,
    alg: 'EdDSA',
    public_jwk: JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }),
    not_before: new Date(now - 60_000),
    expires_at: new Date(now + 86_400_000),
  });

  /** A token for a member with `role` in `organizationId` (recorded in the projection). */
  async function tokenFor(organizationId: string, role: Role): Promise<string> {
    const userId = randomUUID();
    const issuedAt = new Date();
    await db('auth_members').insert({ organization_id: organizationId, user_id: userId, role, updated_at: issuedAt });
    return signAccessToken({
      key: privateKey,
      kid,
      alg: 'EdDSA',
      organizationId,
      userId,
      role,
      tokenId: randomUUID(),
      issuedAt,
      expiresAt: new Date(issuedAt.getTime() + 900_000),
    });
  }

  /** An API key of `organizationId` with `scopes`. */
  async function apiKeyFor(organizationId: string, scopes: ApiKeyScope[]): Promise<string> {
    const key = `uf_live_${randomBytes(32).toString('base64url')}`;
    await db('auth_api_keys').insert({
      api_key_id: randomUUID(),
      digest: apiKeyDigest(key),
      organization_id: organizationId,
      scopes,
      mode: 'live',
      created_at: new Date(),
    });
    return key;
  }

  const api = (method: string, path: string, o?: HttpCallOptions) => httpCall(baseUrl, method, path, o);

  return {
    db,
    kafka,
    producer,
    ctx: service.ctx,
    invoicesTopic,
    api,
    tokenFor,
    apiKeyFor,
    async stop() {
      await server.close(1000);
      for (const worker of [...service.workers].reverse()) await worker.stop();
      await relay.stop();
      await producer.disconnect();
      await drop();
    },
  };
}

/** The reference plan: Pro, $100/month, 10,000 API calls included, $0.01 per call beyond. */
export const PRO_PLAN = {
  code: 'pro',
  name: 'Pro',
  currency: 'USD',
  interval: 'MONTHLY',
  basePrice: '100.00',
  planMetrics: [{ metricKey: 'API_CALL', includedUnits: '10000', overageUnitPrice: '0.01' }],
};
