import { SYSTEM_ORGANIZATION_ID, type DataOf, type DomainEvent, type EventOf } from '@usageflow/contracts';
import { messagingMigrations, migrate, type Knex } from '@usageflow/db';
import { encodeEvent, EventProducer, type Kafka } from '@usageflow/kafka';
import { sampleEvent, testDatabase, testKafka, testLogger, testTopic, uniqueName, waitFor } from '@usageflow/testkit';
import { exportJWK, generateKeyPair, type KeyLike } from 'jose';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  apiKeyDigest,
  Authenticator,
  createIdentityProjectionConsumer,
  identityProjectionMigration,
  ProjectionAuthStore,
  signAccessToken,
  type Principal,
} from '../src';

type PublicJwk = DataOf<'signing_key.published'>['publicJwk'];

const HOUR = 3_600_000;
const iso = (ms = 0) => new Date(Date.now() + ms).toISOString();

/** A service's schema with the projection, a consumer keeping it, and an authenticator reading it. */
async function projectionService(kafka: Kafka, producer: EventProducer, topic: string) {
  const t = await testDatabase('auth_projection');
  await migrate(t.db, t.schema, [...messagingMigrations, identityProjectionMigration]);
  const authenticator = new Authenticator({ store: new ProjectionAuthStore(t.db) });
  const groupId = uniqueName('auth_projection');
  const runner = createIdentityProjectionConsumer({
    kafka,
    producer,
    db: t.db,
    logger: testLogger(),
    groupId,
    topic,
    onApplied: () => authenticator.invalidate(),
  });
  await runner.start();
  return { ...t, authenticator, groupId, runner };
}

describe('identity projection', () => {
  let kafka: Kafka;
  let producer: EventProducer;
  let topic: string;
  let db: Knex;
  let groupId: string;
  let authenticator: Authenticator;
  const cleanup: Array<() => Promise<void>> = [];
  let privateKey: KeyLike;
  let signingKey: DomainEvent;
  const kid = uniqueName('kid');

  beforeAll(async () => {
    kafka = testKafka();
    producer = new EventProducer(kafka, { logger: testLogger() });
    await producer.connect();
    cleanup.push(() => producer.disconnect());
    topic = await testTopic(kafka, 'identity', 3);
    const service = await projectionService(kafka, producer, topic);
    ({ db, groupId, authenticator } = service);
    cleanup.push(service.drop, () => service.runner.stop());

    // identity publishes its verification key before signing with it
    let publicKey: KeyLike;
    ({ privateKey, publicKey } = await generateKeyPair('EdDSA'));
    signingKey = sampleEvent('signing_key.published', {
      organizationId: SYSTEM_ORGANIZATION_ID,
      data: {
        kid,
        alg: 'EdDSA',
        publicJwk: { ...(await exportJWK(publicKey)), kid, use: 'sig', alg: 'EdDSA' } as PublicJwk,
        notBefore: iso(-HOUR),
        expiresAt: iso(HOUR),
      },
    });
    await publish([signingKey]);
  });
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  const publish = (events: DomainEvent[]) =>
    producer.send(
      topic,
      events.map((e) => encodeEvent(e).message),
    );
  const at = <E extends DomainEvent>(event: E, occurredAt: string): E => ({ ...event, occurredAt });
  const joined = (organizationId: string, userId: string, role: 'ADMIN' | 'DEVELOPER', occurredAt = iso(-HOUR)) =>
    at(sampleEvent('member.joined', { organizationId, data: { userId, role } }), occurredAt);
  const bearer = async (organizationId: string, userId: string, role: 'ADMIN' | 'DEVELOPER') => ({
    authorization: `Bearer ${await signAccessToken({
      key: privateKey,
      kid,
      alg: 'EdDSA',
      organizationId,
      userId,
      role,
      tokenId: randomUUID(),
      issuedAt: new Date(),
      expiresAt: new Date(Date.now() + 15 * 60_000),
    })}`,
  });
  /** What authenticating gives: the principal, or the problem code. */
  const outcome = (p: Promise<Principal>) =>
    p.then(
      (principal) => principal,
      (err: { code?: string }) => err.code ?? String(err),
    );

  it('accepts a token signed with the published key, then refuses it once the member is removed', async () => {
    const org = randomUUID();
    const dev = randomUUID();
    await publish([joined(org, dev, 'DEVELOPER')]);
    const credentials = await bearer(org, dev, 'DEVELOPER');

    const principal = await waitFor('the token accepted', async () => {
      const result = await outcome(authenticator.authenticate(credentials, 'jwt'));
      return typeof result === 'string' ? undefined : result;
    });
    expect(principal).toMatchObject({ kind: 'user', organizationId: org, userId: dev, role: 'DEVELOPER' });

    // removed after the token was issued
    await publish([
      at(sampleEvent('member.removed', { organizationId: org, data: { userId: dev, role: 'DEVELOPER' } }), iso()),
    ]);
    await waitFor(
      'MEMBERSHIP_REVOKED',
      async () => (await outcome(authenticator.authenticate(credentials, 'jwt'))) === 'MEMBERSHIP_REVOKED',
    );
    expect(await db('auth_members').where({ organization_id: org }).select('role')).toEqual([{ role: null }]);
  });

  it('accepts an API key once created and refuses it once revoked', async () => {
    const org = randomUUID();
    const apiKeyId = randomUUID();
    const key = `uf_live_${randomBytes(32).toString('base64url')}`;
    await publish([
      sampleEvent('api_key.created', {
        organizationId: org,
        data: {
          apiKeyId,
          digest: apiKeyDigest(key),
          prefix: key.slice(0, 12),
          mode: 'live',
          scopes: ['events:write', 'usage:read'],
          createdAt: iso(),
        },
      }),
    ]);
    const principal = await waitFor('the key accepted', async () => {
      const result = await outcome(authenticator.authenticate({ apiKey: key }, 'apiKey'));
      return typeof result === 'string' ? undefined : result;
    });
    expect(principal).toEqual({
      kind: 'apiKey',
      organizationId: org,
      apiKeyId,
      scopes: ['events:write', 'usage:read'],
      mode: 'live',
    });

    await publish([sampleEvent('api_key.revoked', { organizationId: org, data: { apiKeyId, revokedAt: iso() } })]);
    await waitFor(
      'API_KEY_REVOKED',
      async () => (await outcome(authenticator.authenticate({ apiKey: key }, 'apiKey'))) === 'API_KEY_REVOKED',
    );
  });

  it('applies redelivered events once, and never lets an older event undo a newer one', async () => {
    const org = randomUUID();
    const [ada, bob] = [randomUUID(), randomUUID()];
    const apiKeyId = randomUUID();
    const events: DomainEvent[] = [
      joined(org, ada, 'ADMIN', iso(-3 * HOUR)),
      joined(org, bob, 'DEVELOPER', iso(-3 * HOUR)),
      at(
        sampleEvent('member.role_changed', {
          organizationId: org,
          data: { userId: ada, previousRole: 'ADMIN', role: 'VIEWER' },
        }),
        iso(-HOUR),
      ),
      at(sampleEvent('member.removed', { organizationId: org, data: { userId: bob, role: 'DEVELOPER' } }), iso(-HOUR)),
      sampleEvent('api_key.created', {
        organizationId: org,
        data: {
          apiKeyId,
          digest: apiKeyDigest(randomUUID()),
          mode: 'test',
          prefix: 'uf_test_x',
          createdAt: iso(-HOUR),
        },
      }),
      sampleEvent('api_key.revoked', { organizationId: org, data: { apiKeyId, revokedAt: iso(-HOUR) } }),
      sampleEvent('organization.created', { organizationId: org }),
      sampleEvent('organization.updated', { organizationId: org, data: { settings: { unknownMetrics: 'ACCEPT' } } }),
      sampleEvent('member.invited', { organizationId: org }),
    ];
    const rows = async () => ({
      members: await db('auth_members')
        .where({ organization_id: org })
        .orderBy('user_id')
        .select('user_id', 'role', 'updated_at'),
      apiKeys: await db('auth_api_keys').where({ organization_id: org }).select(),
      inbox: Number(
        (await db('inbox').where({ consumer: groupId }).count<{ count: string }[]>('* as count'))[0]!.count,
      ),
    });
    const seen = async (eventId: string) =>
      (await db('inbox').where({ consumer: groupId, event_id: eventId }).first()) !== undefined;

    // given the events applied once
    await publish(events);
    await waitFor('all applied', async () => (await Promise.all(events.map((e) => seen(e.id)))).every(Boolean));
    const first = await rows();
    expect(first.members).toEqual(
      [
        { user_id: ada, role: 'VIEWER', updated_at: new Date(events[2]!.occurredAt) },
        { user_id: bob, role: null, updated_at: new Date(events[3]!.occurredAt) },
      ].sort((a, b) => a.user_id.localeCompare(b.user_id)),
    );
    expect(first.apiKeys).toHaveLength(1);
    expect(first.apiKeys[0]).toMatchObject({
      api_key_id: apiKeyId,
      mode: 'test',
      revoked_at: new Date((events[5] as EventOf<'api_key.revoked'>).data.revokedAt),
    });

    // when every one is delivered again, followed on the same partition (same organization key) by
    // an older role change arriving late and a marker
    const late = at(
      sampleEvent('member.role_changed', {
        organizationId: org,
        data: { userId: ada, previousRole: 'ADMIN', role: 'OWNER' },
      }),
      iso(-2 * HOUR),
    );
    const lateRejoin = joined(org, bob, 'ADMIN', iso(-2 * HOUR));
    const marker = sampleEvent('organization.created', { organizationId: org });
    await publish([...events, late, lateRejoin, marker]);
    await waitFor('the marker applied', () => seen(marker.id));

    // then the projection is unchanged and the inbox holds only the three new events
    const second = await rows();
    expect(second.members).toEqual(first.members);
    expect(second.apiKeys).toEqual(first.apiKeys);
    expect(second.inbox).toBe(first.inbox + 3);
  });

  it('rebuilds the same projection from offset 0 in a fresh schema', async () => {
    // the topic now holds everything the tests above published; a new service replays it all
    const replica = await projectionService(kafka, producer, topic);
    cleanup.push(replica.drop, () => replica.runner.stop());
    const ids = async (k: Knex, consumer: string) =>
      (await k('inbox').where({ consumer }).orderBy('event_id').pluck('event_id')) as string[];
    const expected = await ids(db, groupId);
    await waitFor(
      'the replay caught up',
      async () => (await ids(replica.db, replica.groupId)).length === expected.length,
      {
        timeoutMs: 60_000,
      },
    );
    expect(await ids(replica.db, replica.groupId)).toEqual(expected);
    for (const table of ['auth_signing_keys', 'auth_members', 'auth_api_keys']) {
      const order =
        table === 'auth_signing_keys'
          ? ['kid']
          : table === 'auth_members'
            ? ['organization_id', 'user_id']
            : ['api_key_id'];
      expect(await replica.db(table).orderBy(order).select()).toEqual(await db(table).orderBy(order).select());
    }
  });
});
