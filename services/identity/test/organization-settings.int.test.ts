// The organization's settings over HTTP on real Postgres and Kafka: how ingestion treats unknown
// metric keys (unknownMetrics), who may change it, and the organization.updated events a change
// (and only a change) puts in the outbox. Each test signs up its own organization.
import { TOPICS } from '@usageflow/contracts';
import type { HttpCallResult } from '@usageflow/testkit';
import { waitFor } from '@usageflow/testkit';
import { startIdentity, type Identity } from './harness';

let id: Identity;
beforeAll(async () => {
  id = await startIdentity();
});
afterAll(() => id?.stop());

interface OutboxRow {
  topic: string;
  key: string;
  payload: { type: string; organizationId: string; producer: string; data: unknown };
  published_at: Date | null;
}

/** The organization.updated rows the outbox holds for one organization, in append order. */
const updatesOf = (organizationId: string): Promise<OutboxRow[]> =>
  id
    .db('outbox')
    .whereRaw(`payload->>'type' = 'organization.updated'`)
    .andWhereRaw(`payload->>'organizationId' = ?`, [organizationId])
    .orderBy('seq')
    .select('topic', 'key', 'payload', 'published_at');

const getOrganization = (token: string) => id.api('GET', '/v1/organization', { token });
const patchOrganization = (token: string, body: unknown) => id.api('PATCH', '/v1/organization', { token, body });

function expectProblem(res: HttpCallResult, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
}

describe('a new organization', () => {
  it('refuses unknown metric keys by default', async () => {
    const owner = await id.signup('defaults');
    const org = await getOrganization(owner.token);
    expect(org.status).toBe(200);
    expect(org.body).toEqual({
      id: owner.organizationId,
      name: 'defaults Inc.',
      settings: { unknownMetrics: 'REFUSE' },
      createdAt: expect.any(String),
    });
    expect(await updatesOf(owner.organizationId)).toEqual([]);
  });
});

describe('PATCH /v1/organization', () => {
  it('OWNER switches unknownMetrics to ACCEPT: 200, GET shows it, one organization.updated with the full state', async () => {
    const owner = await id.signup('lenient');

    const res = await patchOrganization(owner.token, { settings: { unknownMetrics: 'ACCEPT' } });

    expect({ status: res.status, body: res.body }).toEqual({
      status: 200,
      body: {
        id: owner.organizationId,
        name: 'lenient Inc.',
        settings: { unknownMetrics: 'ACCEPT' },
        createdAt: expect.any(String),
      },
    });
    expect((await getOrganization(owner.token)).body).toEqual(res.body);
    const rows = await updatesOf(owner.organizationId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      topic: TOPICS.identity,
      key: owner.organizationId,
      payload: {
        type: 'organization.updated',
        organizationId: owner.organizationId,
        producer: 'identity',
        data: { name: 'lenient Inc.', settings: { unknownMetrics: 'ACCEPT' } },
      },
    });
    // and the relay publishes it
    await waitFor(
      'organization.updated published',
      async () => (await updatesOf(owner.organizationId))[0]!.published_at,
    );
  });

  it('repeating the same change writes and emits nothing', async () => {
    const owner = await id.signup('repeat');
    const body = { settings: { unknownMetrics: 'ACCEPT' } };
    expect((await patchOrganization(owner.token, body)).status).toBe(200);

    const again = await patchOrganization(owner.token, body);

    expect([again.status, again.body.settings]).toEqual([200, { unknownMetrics: 'ACCEPT' }]);
    expect(await updatesOf(owner.organizationId)).toHaveLength(1);
    // the same holds for a name it already has, and for the default it already has
    const other = await id.signup('repeat-default');
    expect((await patchOrganization(other.token, { name: 'repeat-default Inc.' })).status).toBe(200);
    expect((await patchOrganization(other.token, { settings: { unknownMetrics: 'REFUSE' } })).status).toBe(200);
    expect(await updatesOf(other.organizationId)).toEqual([]);
  });

  it('each change emits the complete current state: a rename carries the settings, and back to REFUSE', async () => {
    const owner = await id.signup('history');
    await patchOrganization(owner.token, { settings: { unknownMetrics: 'ACCEPT' } });
    const renamed = await patchOrganization(owner.token, { name: 'History Labs' });
    const back = await patchOrganization(owner.token, { settings: { unknownMetrics: 'REFUSE' } });

    expect([renamed.status, back.status]).toEqual([200, 200]);
    expect(back.body).toMatchObject({ name: 'History Labs', settings: { unknownMetrics: 'REFUSE' } });
    expect((await updatesOf(owner.organizationId)).map((r) => r.payload.data)).toEqual([
      { name: 'history Inc.', settings: { unknownMetrics: 'ACCEPT' } },
      { name: 'History Labs', settings: { unknownMetrics: 'ACCEPT' } },
      { name: 'History Labs', settings: { unknownMetrics: 'REFUSE' } },
    ]);
    // the new name is what the person's sessions list too
    expect((await id.api('GET', '/v1/me', { token: owner.token })).body.organization.name).toBe('History Labs');
  });

  it.each(['ADMIN', 'DEVELOPER', 'VIEWER'] as const)('%s → 403 FORBIDDEN, and nothing changes', async (role) => {
    const owner = await id.signup(`forbidden-${role.toLowerCase()}`);
    const member = await id.addMember(owner.token, role);
    const before = (await getOrganization(owner.token)).body;

    const res = await patchOrganization(member.token, { name: 'Taken over', settings: { unknownMetrics: 'ACCEPT' } });

    expectProblem(res, 403, 'FORBIDDEN');
    expect((await getOrganization(owner.token)).body).toEqual(before);
    expect(before.settings).toEqual({ unknownMetrics: 'REFUSE' });
    expect(await updatesOf(owner.organizationId)).toEqual([]);
  });

  it('an unknown mode → 400 VALIDATION_FAILED naming settings.unknownMetrics, nothing written', async () => {
    const owner = await id.signup('bad-value');

    const res = await patchOrganization(owner.token, { settings: { unknownMetrics: 'LENIENT' } });

    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(res.body.errors).toEqual([
      { field: 'settings.unknownMetrics', message: expect.stringMatching(/REFUSE, ACCEPT/) },
    ]);
    expect((await getOrganization(owner.token)).body.settings).toEqual({ unknownMetrics: 'REFUSE' });
    expect(await updatesOf(owner.organizationId)).toEqual([]);
  });

  it.each([
    ['an empty body', {}],
    ['empty settings', { settings: {} }],
    ['an unknown setting', { settings: { unknownMetrics: 'ACCEPT', unknownCustomers: 'ACCEPT' } }],
    ['a field the owner cannot change', { id: '2a53f096-5115-4b80-8205-6621e87546c3' }],
    ['an empty name', { name: '' }],
  ])('%s → 400 VALIDATION_FAILED, nothing written', async (_what, body) => {
    const owner = await id.signup('bad-body');

    const res = await patchOrganization(owner.token, body);

    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect((await getOrganization(owner.token)).body).toMatchObject({
      name: 'bad-body Inc.',
      settings: { unknownMetrics: 'REFUSE' },
    });
    expect(await updatesOf(owner.organizationId)).toEqual([]);
  });

  it('no body at all → 400 VALIDATION_FAILED', async () => {
    const owner = await id.signup('no-body');
    const res = await id.api('PATCH', '/v1/organization', { token: owner.token });
    expectProblem(res, 400, 'VALIDATION_FAILED');
    expect(await updatesOf(owner.organizationId)).toEqual([]);
  });

  it("changes only the caller's own organization", async () => {
    const a = await id.signup('tenant-a');
    const b = await id.signup('tenant-b');

    expect((await patchOrganization(a.token, { settings: { unknownMetrics: 'ACCEPT' } })).status).toBe(200);

    expect((await getOrganization(b.token)).body.settings).toEqual({ unknownMetrics: 'REFUSE' });
    expect(await updatesOf(b.organizationId)).toEqual([]);
  });
});
