// Composition root of the ingestion gateway: stateless (no database), it shares nothing with
// its replicas but Kafka. See docs/ingestion.md.
import { runStatelessService } from '@usageflow/runtime';
import { ingestionConfig } from './config';
import { buildIngestion } from './service';

void runStatelessService({
  name: 'ingestion',
  defaultPort: 4003,
  config: ingestionConfig,
  wire(deps) {
    const { routes, readiness, workers, clients, jsonLimit } = buildIngestion(deps);
    return { routes, readiness, workers, clients, jsonLimit };
  },
});
