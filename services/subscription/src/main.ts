// Composition root of the subscription service. Its schema (catalog, customers, subscriptions,
// test clocks, period closings, and the identity projection its auth reads) is migrated here;
// the use cases and routes follow (issue 5, in progress).
import { serviceAuthMigrations } from '@usageflow/auth';
import { runService } from '@usageflow/runtime';
import { subscriptionMigrations } from './adapters/db/migrations';

void runService({
  name: 'subscription',
  defaultPort: 4002,
  migrations: [...serviceAuthMigrations, ...subscriptionMigrations],
});
