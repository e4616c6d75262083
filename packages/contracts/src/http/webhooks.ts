// The webhook-dispatch service's HTTP surface: endpoints (with a signing secret shown once and
// rotated with an overlap), their delivery log, and replay. DEVELOPER and above manage endpoints;
// every role reads them, and a read never shows a secret.
import { Type, type Static } from '@sinclair/typebox';
import { Closed, Described, IsoDateTime, Nullable, StringEnum, Uuid } from '../common';
import { EVENT_CATALOG, EVENT_TYPES, type EventTypeOn } from '../event-catalog';
import { TOPICS } from '../topics';
import type { RouteSpec } from './openapi';
import { LIST_QUERY, Page } from './pagination';

type WebhookTopic = typeof TOPICS.invoices | typeof TOPICS.subscriptions;

/** An event type an endpoint can subscribe to. */
export type WebhookEventType = EventTypeOn<WebhookTopic>;

/**
 * The event types deliverable by webhook: every type on the invoices and subscriptions topics, in
 * catalog order. Derived from the catalog, so a new public event type becomes subscribable.
 */
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = Object.freeze(
  EVENT_TYPES.filter((type) =>
    ([TOPICS.invoices, TOPICS.subscriptions] as string[]).includes(EVENT_CATALOG[type].topic),
  ) as WebhookEventType[],
);

/** A `whsec_` signing secret: shown once, at creation and at rotation. */
const SigningSecret = Described(
  Type.String({ pattern: '^whsec_[A-Za-z0-9+/]+={0,2}$' }),
  'The signing secret (Standard Webhooks): shown once; keep it to verify webhook-signature.',
);

const EndpointUrl = Described(
  Type.String({ minLength: 1, maxLength: 2048, format: 'uri' }),
  'Where deliveries are POSTed: https (http only where the operator allows it); no private addresses.',
);

const EventTypes = Described(
  Type.Array(StringEnum(WEBHOOK_EVENT_TYPES), { minItems: 1, uniqueItems: true }),
  'The event types this endpoint receives.',
);

/** `POST /v1/webhook-endpoints`. */
export const CreateWebhookEndpointBody = Closed({
  url: EndpointUrl,
  eventTypes: EventTypes,
  description: Type.Optional(Type.String({ maxLength: 500 })),
  enabled: Type.Optional(Type.Boolean({ default: true })),
});
export type CreateWebhookEndpointBody = Static<typeof CreateWebhookEndpointBody>;

/** `PATCH /v1/webhook-endpoints/{id}`: what may change (re-enabling clears an automatic disabling). */
export const UpdateWebhookEndpointBody = Closed(
  {
    url: Type.Optional(EndpointUrl),
    eventTypes: Type.Optional(EventTypes),
    description: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
    enabled: Type.Optional(Type.Boolean()),
  },
  { minProperties: 1 },
);
export type UpdateWebhookEndpointBody = Static<typeof UpdateWebhookEndpointBody>;

/** Why an endpoint is disabled: by its owners, or because it failed every attempt for days. */
export const ENDPOINT_DISABLED_REASONS = ['MANUAL', 'FAILING'] as const;

/** A webhook endpoint as read (never its secret). */
export const WebhookEndpoint = Closed({
  id: Uuid,
  url: Type.String(),
  eventTypes: Type.Array(Type.String()),
  description: Nullable(Type.String()),
  enabled: Type.Boolean(),
  disabledReason: Nullable(StringEnum(ENDPOINT_DISABLED_REASONS)),
  /** During a rotation's overlap the previous secret still signs, until this time. */
  previousSecretExpiresAt: Nullable(IsoDateTime),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type WebhookEndpoint = Static<typeof WebhookEndpoint>;

/** The answer to creating an endpoint: the endpoint and its secret, shown this once. */
export const CreatedWebhookEndpoint = Closed({ endpoint: WebhookEndpoint, secret: SigningSecret });
export type CreatedWebhookEndpoint = Static<typeof CreatedWebhookEndpoint>;

/** `POST /v1/webhook-endpoints/{id}/rotate-secret`: how long the old secret keeps signing too. */
export const RotateSecretBody = Closed({
  overlapSeconds: Type.Optional(
    Described(Type.Integer({ minimum: 0, maximum: 7 * 86_400, default: 86_400 }), 'Default 24 h; 0 ends it now.'),
  ),
});
export type RotateSecretBody = Static<typeof RotateSecretBody>;

/** The answer to a rotation: the new secret, shown once, and when the old one stops signing. */
export const RotatedSecret = Closed({ secret: SigningSecret, previousSecretExpiresAt: IsoDateTime });
export type RotatedSecret = Static<typeof RotatedSecret>;

/** Where a delivery stands. */
export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;

/** One HTTP attempt of a delivery. */
export const DeliveryAttempt = Closed({
  attempt: Type.Integer({ minimum: 1 }),
  at: IsoDateTime,
  statusCode: Nullable(Type.Integer({ minimum: 100, maximum: 599 })),
  latencyMs: Type.Integer({ minimum: 0 }),
  error: Nullable(Described(Type.String(), 'Why it failed: timeout, connection refused, non-2xx, refused address.')),
});

/** One event's delivery to one endpoint: the webhook-id receivers deduplicate by, and its attempts. */
export const WebhookDelivery = Closed({
  id: Described(Type.String(), 'The webhook-id header: the same on every attempt and on a resend.'),
  endpointId: Uuid,
  eventId: Uuid,
  eventType: Type.String(),
  status: StringEnum(DELIVERY_STATUSES),
  attempts: Type.Array(DeliveryAttempt),
  nextAttemptAt: Nullable(IsoDateTime),
  createdAt: IsoDateTime,
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

/** `POST /v1/webhook-endpoints/{id}/resend-failed`: the failed deliveries created in [from, to). */
export const ResendFailedBody = Closed({ from: IsoDateTime, to: IsoDateTime });
export type ResendFailedBody = Static<typeof ResendFailedBody>;

/** How many deliveries a resend queued again. */
export const ResendAnswer = Closed({ resent: Type.Integer({ minimum: 0 }) });

type Spec = Omit<RouteSpec, 'tag' | 'auth' | 'permission'>;
const tag = 'Webhooks';
/** Reads: every role (a person's JWT; API keys have no webhook scope). */
const read = (spec: Spec): RouteSpec => ({ ...spec, tag, auth: 'jwt', permission: 'webhooks:read' });
/** Changes: OWNER and DEVELOPER (ADMIN does not manage integrations, see roles.ts). */
const write = (spec: Spec): RouteSpec => ({ ...spec, tag, auth: 'jwt', permission: 'webhooks:manage' });
const id = { id: Uuid };

/** Every route of the webhook-dispatch service. */
export const WEBHOOK_ROUTES: readonly RouteSpec[] = [
  write({
    method: 'post',
    path: '/v1/webhook-endpoints',
    operationId: 'createWebhookEndpoint',
    summary: 'Register a webhook endpoint (its signing secret is shown once)',
    idempotent: true,
    body: CreateWebhookEndpointBody,
    responses: { 201: { description: 'Created', schema: CreatedWebhookEndpoint } },
  }),
  read({
    method: 'get',
    path: '/v1/webhook-endpoints',
    operationId: 'listWebhookEndpoints',
    summary: 'List webhook endpoints',
    query: LIST_QUERY,
    responses: { 200: { description: 'A page of endpoints', schema: Page(WebhookEndpoint) } },
  }),
  read({
    method: 'get',
    path: '/v1/webhook-endpoints/{id}',
    operationId: 'getWebhookEndpoint',
    summary: 'Get a webhook endpoint',
    pathParams: id,
    responses: { 200: { description: 'The endpoint', schema: WebhookEndpoint } },
  }),
  write({
    method: 'patch',
    path: '/v1/webhook-endpoints/{id}',
    operationId: 'updateWebhookEndpoint',
    summary: 'Change the URL, event types, description, or enable/disable',
    pathParams: id,
    body: UpdateWebhookEndpointBody,
    responses: { 200: { description: 'The endpoint', schema: WebhookEndpoint } },
  }),
  write({
    method: 'delete',
    path: '/v1/webhook-endpoints/{id}',
    operationId: 'deleteWebhookEndpoint',
    summary: 'Delete a webhook endpoint (pending deliveries to it stop)',
    pathParams: id,
    responses: { 204: { description: 'Deleted' } },
  }),
  write({
    method: 'post',
    path: '/v1/webhook-endpoints/{id}/rotate-secret',
    operationId: 'rotateWebhookSecret',
    summary: 'Rotate the signing secret; the old one keeps signing during the overlap',
    pathParams: id,
    body: RotateSecretBody,
    responses: { 200: { description: 'The new secret, shown once', schema: RotatedSecret } },
  }),
  read({
    method: 'get',
    path: '/v1/webhook-endpoints/{id}/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: 'The delivery log of an endpoint, newest first, with each attempt',
    pathParams: id,
    query: { ...LIST_QUERY, status: StringEnum(DELIVERY_STATUSES) },
    responses: { 200: { description: 'A page of deliveries', schema: Page(WebhookDelivery) } },
  }),
  write({
    method: 'post',
    path: '/v1/webhook-endpoints/{id}/resend-failed',
    operationId: 'resendFailedWebhooks',
    summary: 'Queue again every failed delivery of the endpoint created in a time range',
    pathParams: id,
    body: ResendFailedBody,
    responses: { 202: { description: 'Queued again', schema: ResendAnswer } },
  }),
  write({
    method: 'post',
    path: '/v1/webhook-deliveries/{id}/resend',
    operationId: 'resendWebhookDelivery',
    summary: 'Queue one delivery again (same webhook-id, so receivers can deduplicate)',
    pathParams: { id: Type.String({ minLength: 1, maxLength: 255 }) },
    responses: { 202: { description: 'Queued again', schema: WebhookDelivery } },
  }),
];
