// Composition root of the webhook-dispatch service: endpoints, the fan-out of invoice and
// subscription events into deliveries, the dispatcher that signs and sends them, the delivery
// log and replay. See docs/webhooks.md.
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
