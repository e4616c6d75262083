// Composition root of the identity service: who is who in UsageFlow.
import { runService } from '@usageflow/runtime';
import { identityMigrations } from './adapters/db/migrations';
import { identityConfig } from './config';
import { buildIdentity } from './service';

void runService({
  name: 'identity',
  defaultPort: 4001,
  config: identityConfig,
  migrations: identityMigrations,
  async wire(deps) {
    const { routes, readiness, workers } = await buildIdentity(deps);
    return { routes, readiness, workers };
  },
});
