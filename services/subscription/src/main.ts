// Composition root of the subscription service: the catalog, customers, subscriptions, billing
// periods and test clocks (issue 5, in progress: metrics are served so far).
import { serviceAuthMigrations } from '@usageflow/auth';
import { runService } from '@usageflow/runtime';
import { subscriptionMigrations } from './adapters/db/migrations';
import { buildSubscription } from './service';

void runService({
  name: 'subscription',
  defaultPort: 4002,
  migrations: [...serviceAuthMigrations, ...subscriptionMigrations],
  wire(deps) {
    const { routes, workers } = buildSubscription(deps);
    return { routes, workers };
  },
});
