// Composition root of the billing service: the catalog, subscriptions and usage-summaries
// consumers, the invoicer (one immutable invoice per summarized period), dunning (charges and
// their retries), and the invoice API. See docs/billing.md.
import { serviceAuthMigrations } from '@usageflow/auth';
import { runService } from '@usageflow/runtime';
import { billingMigrations } from './adapters/db/migrations';
import { billingConfig } from './config';
import { buildBilling } from './service';

void runService({
  name: 'billing',
  defaultPort: 4005,
  config: billingConfig,
  migrations: [...serviceAuthMigrations, ...billingMigrations],
  wire(deps) {
    const { routes, workers } = buildBilling(deps);
    return { routes, workers };
  },
});
