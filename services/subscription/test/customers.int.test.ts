// Customers over HTTP: the organization's own ids, unique per organization, scoped to it.
import { randomUUID } from 'node:crypto';
import { startSubscription, type Subscription } from './harness';

let s: Subscription;
beforeAll(async () => {
  s = await startSubscription();
});
afterAll(() => s?.stop());

describe('customers', () => {
  it('are created under the organization’s own id, once, and announced on the catalog topic', async () => {
    const org = randomUUID();
    const admin = await s.tokenFor(org, 'ADMIN');
    const body = { customerId: 'user_123', name: 'Ada', email: 'ada@example.com' };
    const created = await s.api('POST', '/v1/customers', { token: admin, body });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...body, testClockId: null });
    const again = await s.api('POST', '/v1/customers', { token: admin, body });
    expect([again.status, again.body.code]).toEqual([409, 'CUSTOMER_ID_TAKEN']);
    expect((await s.api('GET', '/v1/customers/user_123', { token: admin })).body).toEqual(created.body);
    const events = await s.db('outbox').where({ key: org });
    expect(events.map((e) => [e.payload.type, e.payload.data])).toEqual([['customer.created', body]]);
  });

  it('update name and e-mail (null clears it); a no-op writes nothing', async () => {
    const org = randomUUID();
    const owner = await s.tokenFor(org, 'OWNER');
    await s.api('POST', '/v1/customers', {
      token: owner,
      body: { customerId: 'c1', name: 'C', email: 'c@example.com' },
    });
    const cleared = await s.api('PATCH', '/v1/customers/c1', { token: owner, body: { email: null } });
    expect(cleared.body).toMatchObject({ name: 'C', email: null });
    await s.api('PATCH', '/v1/customers/c1', { token: owner, body: { name: 'C' } });
    const types = (await s.db('outbox').where({ key: org }).orderBy('seq')).map((e) => e.payload.type);
    expect(types).toEqual(['customer.created', 'customer.updated']);
  });

  it("another organization's customer is 404; ids with URL characters round-trip", async () => {
    const a = await s.tokenFor(randomUUID(), 'OWNER');
    const b = await s.tokenFor(randomUUID(), 'OWNER');
    await s.api('POST', '/v1/customers', { token: b, body: { customerId: 'acct/42 x', name: 'B' } });
    expect((await s.api('GET', `/v1/customers/${encodeURIComponent('acct/42 x')}`, { token: b })).status).toBe(200);
    expect((await s.api('GET', `/v1/customers/${encodeURIComponent('acct/42 x')}`, { token: a })).status).toBe(404);
    expect((await s.api('GET', '/v1/customers', { token: a })).body.data).toEqual([]);
  });

  it('a VIEWER reads but cannot create; bad input names the field; an unknown test clock is 404', async () => {
    const org = randomUUID();
    const viewer = await s.tokenFor(org, 'VIEWER');
    const owner = await s.tokenFor(org, 'OWNER');
    expect((await s.api('POST', '/v1/customers', { token: viewer, body: { customerId: 'v', name: 'V' } })).status).toBe(
      403,
    );
    expect((await s.api('GET', '/v1/customers', { token: viewer })).status).toBe(200);
    const bad = await s.api('POST', '/v1/customers', {
      token: owner,
      body: { customerId: '', name: 'X', email: 'no' },
    });
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['customerId', 'email']);
    const clock = await s.api('POST', '/v1/customers', {
      token: owner,
      body: { customerId: 'tc', name: 'T', testClockId: randomUUID() },
    });
    expect([clock.status, clock.body.code]).toEqual([404, 'TEST_CLOCK_NOT_FOUND']);
  });
});

describe('test clocks', () => {
  it('are created frozen at a time, read back in-tenant only, and a customer can run on one', async () => {
    const org = randomUUID();
    const owner = await s.tokenFor(org, 'OWNER');
    const clock = await s.api('POST', '/v1/test-clocks', {
      token: owner,
      body: { name: 'March run', frozenTime: '2025-03-01T00:00:00.000Z' },
    });
    expect(clock.status).toBe(201);
    expect(clock.body).toMatchObject({ name: 'March run', frozenTime: '2025-03-01T00:00:00.000Z' });
    expect((await s.api('GET', `/v1/test-clocks/${clock.body.id}`, { token: owner })).body).toEqual(clock.body);
    const stranger = await s.tokenFor(randomUUID(), 'OWNER');
    expect((await s.api('GET', `/v1/test-clocks/${clock.body.id}`, { token: stranger })).status).toBe(404);
    const onStrangersClock = await s.api('POST', '/v1/customers', {
      token: stranger,
      body: { customerId: 'x', name: 'X', testClockId: clock.body.id },
    });
    expect(onStrangersClock.status).toBe(404);
    const customer = await s.api('POST', '/v1/customers', {
      token: owner,
      body: { customerId: 'user_123', name: 'Test user', testClockId: clock.body.id },
    });
    expect([customer.status, customer.body.testClockId]).toEqual([201, clock.body.id]);
    const bad = await s.api('POST', '/v1/test-clocks', {
      token: owner,
      body: { frozenTime: '2025-03-01T00:00:00+02:00' },
    });
    expect([bad.status, bad.body.errors[0].field]).toEqual([400, 'frozenTime']);
  });
});
