// Runs the identity service in-process on real Postgres and Kafka (the same wiring as main.ts)
// and talks to it over HTTP, as a client would.
import { messagingMigrations, migrate, OutboxRelay, type Knex } from '@usageflow/db';
import { createHttpApp, idempotencyMigration, startHttpServer } from '@usageflow/http';
import { EventProducer, type Kafka } from '@usageflow/kafka';
import { httpCall, testDatabase, testKafka, testLogger, uniqueName, type HttpCallOptions } from '@usageflow/testkit';
import { identityMigrations } from '../src/adapters/db/migrations';
import type { EndpointDisabledMessage, InvitationMessage, Mailer } from '../src/adapters/mail/mailer';
import { identityConfig } from '../src/config';
import { buildIdentity } from '../src/service';

/** A clock tests move by hand. */
export class TestClock {
  private offsetMs = 0;
  now = (): Date => new Date(Date.now() + this.offsetMs);
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

/** Keeps sent invitations so tests can read the accept token, as the invitee would from the e-mail. */
export class CapturingMailer implements Mailer {
  readonly sent: InvitationMessage[] = [];
  readonly notices: EndpointDisabledMessage[] = [];
  async sendInvitation(m: InvitationMessage): Promise<void> {
    this.sent.push(m);
  }
  async sendEndpointDisabled(m: EndpointDisabledMessage): Promise<void> {
    this.notices.push(m);
  }
  async close(): Promise<void> {}
  tokenFor(email: string): string {
    const m = [...this.sent].reverse().find((s) => s.to === email);
    if (!m) throw new Error(`no invitation was sent to ${email}`);
    return m.token;
  }
}

export type Identity = Awaited<ReturnType<typeof startIdentity>>;

/** Starts identity with its own schema; `env` overrides settings (bcrypt cost 4 by default). */
export async function startIdentity(options: { env?: Record<string, string>; kafka?: Kafka } = {}) {
  const logger = testLogger('identity');
  const { db, schema, drop } = await testDatabase('identity');
  await migrate(db, schema, [...messagingMigrations, idempotencyMigration, ...identityMigrations]);
  const kafka = options.kafka ?? testKafka(logger);
  const producer = new EventProducer(kafka, { logger });
  await producer.connect();
  const config = identityConfig({
    BCRYPT_COST: '4',
    API_KEY_LAST_USED: 'false',
    ENDPOINT_NOTICES: 'false',
    ...options.env,
  });
  const clock = new TestClock();
  const mailer = new CapturingMailer();
  const identity = await buildIdentity({ db, kafka, producer, logger, config, clock: clock.now, mailer });
  const relay = new OutboxRelay({ db, kafka, producer, logger, idleMs: 50 });
  relay.start();
  const app = createHttpApp({ logger, readiness: identity.readiness, routes: identity.routes });
  const server = await startHttpServer(app, 0, '127.0.0.1');
  const baseUrl = `http://127.0.0.1:${server.port}`;

  const api = (method: string, path: string, o?: HttpCallOptions) => httpCall(baseUrl, method, path, o);

  /** Signs up a new person with a new organization; returns their tokens. */
  async function signup(label = 'org') {
    const email = `${uniqueName(label)}@example.com`;
    const password = 'correct horse battery';
    const res = await api('POST', '/v1/auth/signup', {
      body: { email, password, organizationName: `${label} Inc.` },
    });
    if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
    return { email, password, token: res.body.accessToken as string, ...res.body };
  }

  /** Invites `role` into the owner's organization and accepts as a new person; returns their session. */
  async function addMember(ownerToken: string, role: 'ADMIN' | 'DEVELOPER' | 'VIEWER') {
    const email = `${uniqueName(role.toLowerCase())}@example.com`;
    const invited = await api('POST', '/v1/invitations', { token: ownerToken, body: { email, role } });
    if (invited.status !== 201) throw new Error(`invite failed: ${invited.status} ${JSON.stringify(invited.body)}`);
    const accepted = await api('POST', '/v1/invitations/accept', {
      body: { token: mailer.tokenFor(email), password: 'another good password' },
    });
    if (accepted.status !== 200) throw new Error(`accept failed: ${accepted.status} ${JSON.stringify(accepted.body)}`);
    return { email, token: accepted.body.accessToken as string, ...accepted.body };
  }

  return {
    baseUrl,
    db: db as Knex,
    kafka,
    producer,
    logger,
    clock,
    mailer,
    identity,
    api,
    signup,
    addMember,
    async stop() {
      await server.close(1000);
      await relay.stop();
      await producer.disconnect();
      await drop();
    },
  };
}
