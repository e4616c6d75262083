// Composition root of the webhook-dispatch service: endpoints, their delivery log and replay
// (issue 9, in progress: endpoints and the log are served; the dispatcher comes next).
import { serviceAuthMigrations } from '@usageflow/auth';
import { runService } from '@usageflow/runtime';
import { webhookMigrations } from './adapters/db/migrations';
import { webhookConfig } from './config';
import { buildWebhookDispatch } from './service';

void runService({
  name: 'webhook-dispatch',
  defaultPort: 4006,
  config: webhookConfig,
  migrations: [...serviceAuthMigrations, ...webhookMigrations],
  wire(deps) {
    const { routes, workers } = buildWebhookDispatch(deps);
    return { routes, workers };
  },
});
