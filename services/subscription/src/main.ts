// Composition root of the subscription service: the catalog, customers, subscriptions, billing
// periods (the real-time closer) and test clocks, plus the invoice.failed consumer.
import { serviceAuthMigrations } from '@usageflow/auth';
import { runService } from '@usageflow/runtime';
import { subscriptionMigrations } from './adapters/db/migrations';
import { subscriptionConfig } from './config';
import { buildSubscription } from './service';

void runService({
  name: 'subscription',
  defaultPort: 4002,
  config: subscriptionConfig,
  migrations: [...serviceAuthMigrations, ...subscriptionMigrations],
  wire(deps) {
    const { routes, workers } = buildSubscription(deps);
    return { routes, workers };
  },
});
