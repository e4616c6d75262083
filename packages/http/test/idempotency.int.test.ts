import { migrate, type Knex } from '@usageflow/db';
import { idempotencyMigration, ProblemError, withIdempotency } from '@usageflow/http';
import { testDatabase } from '@usageflow/testkit';
import { randomUUID } from 'node:crypto';

describe('withIdempotency', () => {
  let db: Knex;
  let drop: () => Promise<void>;
  const scope = randomUUID();

  beforeAll(async () => {
    const t = await testDatabase('idem');
    ({ db, drop } = t);
    await migrate(db, t.schema, [
      idempotencyMigration,
      { name: '001_things', up: (k) => k.raw('create table things (id uuid primary key, name text not null)') },
    ]);
  });
  afterAll(() => drop());

  /** A creating handler: inserts a thing and answers 201 with it. */
  const create = (name: string, calls: { n: number }) => async (trx: Knex.Transaction) => {
    calls.n++;
    const id = randomUUID();
    await trx('things').insert({ id, name });
    return { status: 201, body: { id, name } };
  };
  const count = async (name: string) =>
    Number((await db('things').where({ name }).count<{ count: string }[]>('* as c'))[0]!.c);

  it('replays the first response for a retried request and creates once', async () => {
    const calls = { n: 0 };
    const request = { scope, key: 'key-replay', fingerprint: 'f1' };
    const first = await withIdempotency(db, request, create('replay', calls));
    const second = await withIdempotency(db, request, create('replay', calls));
    expect(first.replayed).toBe(false);
    expect(second).toEqual({ status: 201, body: first.body, replayed: true });
    expect(calls.n).toBe(1);
    expect(await count('replay')).toBe(1);
  });

  it('refuses the same key for a different request with IDEMPOTENCY_KEY_REUSED, writing nothing', async () => {
    const calls = { n: 0 };
    await withIdempotency(db, { scope, key: 'key-reuse', fingerprint: 'f1' }, create('reuse', calls));
    const attempt = withIdempotency(db, { scope, key: 'key-reuse', fingerprint: 'f2' }, create('reuse-2', calls));
    await expect(attempt).rejects.toBeInstanceOf(ProblemError);
    await expect(attempt).rejects.toMatchObject({ status: 422, code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await count('reuse-2')).toBe(0);
  });

  it('runs concurrent twins once: the second waits and replays', async () => {
    const calls = { n: 0 };
    const request = { scope, key: 'key-race', fingerprint: 'f1' };
    const results = await Promise.all(
      Array.from({ length: 5 }, () => withIdempotency(db, request, create('race', calls))),
    );
    expect(calls.n).toBe(1);
    expect(await count('race')).toBe(1);
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
  });

  it('stores nothing when the handler fails, so a retry runs again', async () => {
    const request = { scope, key: 'key-fail', fingerprint: 'f1' };
    await expect(
      withIdempotency(db, request, async (trx) => {
        await trx('things').insert({ id: randomUUID(), name: 'failed' });
        throw new Error('payment provider down');
      }),
    ).rejects.toThrow('payment provider down');
    expect(await count('failed')).toBe(0);
    const calls = { n: 0 };
    const retry = await withIdempotency(db, request, create('failed', calls));
    expect(retry.replayed).toBe(false);
    expect(await count('failed')).toBe(1);
  });

  it('keeps keys apart per scope (tenant)', async () => {
    const calls = { n: 0 };
    await withIdempotency(db, { scope, key: 'shared-key', fingerprint: 'f1' }, create('scoped', calls));
    const other = await withIdempotency(
      db,
      { scope: randomUUID(), key: 'shared-key', fingerprint: 'f1' },
      create('scoped', calls),
    );
    expect(other.replayed).toBe(false);
    expect(calls.n).toBe(2);
  });
});
