// @ts-check
'use strict';
/**
 * bench:auth — what authenticating a request costs in a service (`@usageflow/auth` over the
 * service's own identity projection in Postgres), the path every ingestion request takes.
 *
 *   npm run bench:auth                                      (launcher: infra + build, then this file)
 *   DATABASE_URL=postgres://... node bench/auth/run.cjs     (Postgres up, packages built)
 *
 * Workloads, each for BENCH_RUNS rounds (median reported), requests awaited one after another:
 *   api-key (cached)   an API key, verified from the authenticator's cache (the steady state)
 *   api-key (no cache) the same with cacheTtlMs=0: one indexed Postgres lookup per request
 *   jwt (cached)       a bearer token: EdDSA signature check + cached key and member lookups
 * plus the price of one bcrypt hash at the default cost (what a login or sign-up spends), to show
 * why bcrypt stays off the per-request path. Prints ops/s, p50/p99 latency and peak RSS.
 *
 * Knobs (env): BENCH_RUNS=3, BENCH_KEY_REQUESTS=200000, BENCH_COLD_REQUESTS=5000,
 *              BENCH_JWT_REQUESTS=30000, BENCH_BCRYPT_COST=12
 */
const path = require('node:path');
const { randomBytes, randomUUID } = require('node:crypto');

const ROOT = path.resolve(__dirname, '../..');
const auth = require(path.join(ROOT, 'packages/auth/dist'));
const { createDatabase, migrate } = require(path.join(ROOT, 'packages/db/dist'));
const { exportJWK, generateKeyPair } = require('jose');
const bcrypt = require('bcrypt');
const { percentile, median } = require('../lib/stats.cjs');

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const RUNS = env('BENCH_RUNS', 3);

/** Awaits `once` n times; returns ops/s and p50/p99 in microseconds. */
async function measure(n, once) {
  const lat = new Float64Array(n);
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await once();
    lat[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const sorted = Array.from(lat).sort((a, b) => a - b);
  return { opsPerSec: n / seconds, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

async function main() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run through `npm run bench:auth`');
  const schema = `bench_auth_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const db = createDatabase({ url, schema, poolMax: 4 });
  try {
    await migrate(db, schema, [auth.identityProjectionMigration]);
    const organizationId = randomUUID();
    const userId = randomUUID();
    const apiKey = `uf_live_${randomBytes(32).toString('base64url')}`;
    const kid = 'bench-key';
    const { publicKey, privateKey } = await generateKeyPair('EdDSA');
    const now = new Date();
    await db('auth_signing_keys').insert({
      kid,
      alg: 'EdDSA',
      public_jwk: JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' }),
      not_before: new Date(now.getTime() - 60_000),
      expires_at: new Date(now.getTime() + 86_400_000),
    });
    await db('auth_api_keys').insert({
      api_key_id: randomUUID(),
      digest: auth.apiKeyDigest(apiKey),
      organization_id: organizationId,
      scopes: ['events:write'],
      mode: 'live',
      created_at: now,
    });
    await db('auth_members').insert({
      organization_id: organizationId,
      user_id: userId,
      role: 'OWNER',
      updated_at: now,
    });
    const token = await auth.signAccessToken({
      key: privateKey,
      kid,
      alg: 'EdDSA',
      organizationId,
      userId,
      role: 'OWNER',
      tokenId: randomUUID(),
      issuedAt: now,
      expiresAt: new Date(now.getTime() + 3_600_000),
    });

    const store = new auth.ProjectionAuthStore(db);
    const cached = new auth.Authenticator({ store });
    const uncached = new auth.Authenticator({ store, cacheTtlMs: 0 });
    const workloads = [
      ['api-key (cached)', env('BENCH_KEY_REQUESTS', 200_000), () => cached.authenticate({ apiKey }, 'apiKey')],
      ['api-key (no cache)', env('BENCH_COLD_REQUESTS', 5_000), () => uncached.authenticate({ apiKey }, 'apiKey')],
      [
        'jwt (cached)',
        env('BENCH_JWT_REQUESTS', 30_000),
        () => cached.authenticate({ authorization: `Bearer ${token}` }, 'jwt'),
      ],
    ];
    /** @type {Record<string, Array<{opsPerSec:number,p50:number,p99:number}>>} */
    const results = {};
    for (let round = 1; round <= RUNS; round++) {
      for (const [name, n, once] of workloads) {
        await measure(Math.min(1000, n), once); // warm-up
        const r = await measure(n, once);
        (results[name] ??= []).push(r);
        process.stdout.write(
          `[bench:auth] round ${round}/${RUNS} ${name}: ${Math.round(r.opsPerSec).toLocaleString('en')} req/s, ` +
            `p50 ${r.p50.toFixed(1)} µs, p99 ${r.p99.toFixed(1)} µs\n`,
        );
      }
    }
    const cost = env('BENCH_BCRYPT_COST', 12);
    const hashMs = [];
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      await bcrypt.hash('a long passphrase', cost);
      hashMs.push(Number(process.hrtime.bigint() - t) / 1e6);
    }

    process.stdout.write(`\nbench:auth — medians of ${RUNS} rounds, one request at a time\n`);
    process.stdout.write('workload              req/s        p50 µs    p99 µs\n');
    for (const [name] of workloads) {
      const rs = results[name];
      process.stdout.write(
        `${name.padEnd(20)} ${Math.round(median(rs.map((r) => r.opsPerSec)))
          .toLocaleString('en')
          .padStart(10)}   ${median(rs.map((r) => r.p50))
          .toFixed(1)
          .padStart(8)}  ${median(rs.map((r) => r.p99))
          .toFixed(1)
          .padStart(8)}\n`,
      );
    }
    process.stdout.write(`bcrypt cost ${cost} (one login): median ${median(hashMs).toFixed(0)} ms\n`);
    process.stdout.write(`peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
  } finally {
    await db.raw('drop schema if exists ?? cascade', [schema]);
    await db.destroy();
  }
}

main().catch((err) => {
  process.stderr.write(`bench:auth failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
