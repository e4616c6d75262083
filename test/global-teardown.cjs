// @ts-check
'use strict';
/**
 * Jest globalTeardown of the `integration` project: stops the containers global-setup.cjs
 * started through testcontainers (globalSetup and globalTeardown run in the same process, so
 * they are found on globalThis). The project-local infra (infra/local) is deliberately left
 * running for the next run; `npm run infra:down` stops it.
 */
const CONTAINERS_KEY = '__USAGEFLOW_TESTCONTAINERS__';

/** @returns {Promise<void>} */
module.exports = async function globalTeardown() {
  /** @type {import('testcontainers').StartedTestContainer[] | undefined} */
  const containers = /** @type {any} */ (globalThis)[CONTAINERS_KEY];
  if (!containers || containers.length === 0) return;
  const results = await Promise.allSettled(containers.map((c) => c.stop()));
  containers.length = 0;
  for (const r of results) {
    if (r.status === 'rejected') {
      process.stderr.write(`[infra] WARNING: stopping a test container failed: ${String(r.reason)}\n`);
    }
  }
};
