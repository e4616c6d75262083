import { openApi31Errors } from '../../test/oas31';
import { can } from '../roles';
import { compileValidator } from '../validate';
import { buildOpenApiDocument } from './openapi';
import { CreateWebhookEndpointBody, UpdateWebhookEndpointBody, WEBHOOK_EVENT_TYPES, WEBHOOK_ROUTES } from './webhooks';

// ARCHITECTURE.md: `/v1/webhook-endpoints` (+ `/{id}`, `POST /{id}/rotate-secret`,
// `GET /{id}/deliveries`, `POST /{id}/resend-failed`), `POST /v1/webhook-deliveries/{id}/resend`.
const ARCHITECTURE_OPERATIONS = [
  'POST /v1/webhook-endpoints',
  'GET /v1/webhook-endpoints',
  'GET /v1/webhook-endpoints/{id}',
  'PATCH /v1/webhook-endpoints/{id}',
  'DELETE /v1/webhook-endpoints/{id}',
  'POST /v1/webhook-endpoints/{id}/rotate-secret',
  'GET /v1/webhook-endpoints/{id}/deliveries',
  'POST /v1/webhook-endpoints/{id}/resend-failed',
  'POST /v1/webhook-deliveries/{id}/resend',
];

describe('webhook routes', () => {
  it('cover exactly the operations of the architecture', () => {
    expect(WEBHOOK_ROUTES.map((r) => `${r.method.toUpperCase()} ${r.path}`).sort()).toEqual(
      [...ARCHITECTURE_OPERATIONS].sort(),
    );
  });

  it('are read by every role and changed by OWNER and DEVELOPER only', () => {
    const writers = (permission: string) =>
      (['OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER'] as const).filter((role) => can(role, permission as never));
    for (const route of WEBHOOK_ROUTES) {
      expect([route.operationId, writers(route.permission!)]).toEqual([
        route.operationId,
        route.method === 'get' ? ['OWNER', 'ADMIN', 'DEVELOPER', 'VIEWER'] : ['OWNER', 'DEVELOPER'],
      ]);
    }
  });

  it('build a valid OpenAPI 3.1 document', () => {
    const doc = buildOpenApiDocument({ title: 'webhooks', version: '1', routes: WEBHOOK_ROUTES });
    expect(openApi31Errors(doc)).toEqual([]);
  });
});

describe('webhook bodies', () => {
  it('subscribe to the public event types of the invoices and subscriptions topics only', () => {
    expect(WEBHOOK_EVENT_TYPES).toEqual(
      expect.arrayContaining(['invoice.created', 'invoice.paid', 'invoice.failed', 'subscription.suspended']),
    );
    expect(WEBHOOK_EVENT_TYPES).not.toContain('usage.recorded');
    expect(WEBHOOK_EVENT_TYPES).not.toContain('api_key.created');
    const create = compileValidator(CreateWebhookEndpointBody);
    const url = 'https://hooks.cloudai.example/usageflow';
    expect(create({ url, eventTypes: ['invoice.created'] }).ok).toBe(true);
    const bad = create({ url, eventTypes: ['usage.recorded'] });
    expect(bad.ok || bad.issues.map((i) => i.field)).toEqual(['eventTypes[0]']);
    const none = create({ url, eventTypes: [] });
    expect(none.ok || none.issues.map((i) => i.field)).toEqual(['eventTypes']);
  });

  it('an update changes something', () => {
    const update = compileValidator(UpdateWebhookEndpointBody);
    expect(update({}).ok).toBe(false);
    expect(update({ enabled: false }).ok).toBe(true);
  });
});
