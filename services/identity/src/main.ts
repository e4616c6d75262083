// Composition root of the identity service. Later issues add its domain/, app/ and adapters/;
// for now it boots the shared adapters (database + outbox relay, Kafka, HTTP health).
import { runService } from '@usageflow/runtime';

void runService({ name: 'identity', defaultPort: 4001 });
