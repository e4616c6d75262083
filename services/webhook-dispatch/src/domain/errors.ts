import { defineErrors } from '@usageflow/http';

/** The webhook-dispatch service's error codes: stable API, never renamed or reused. */
export const webhookErrors = defineErrors({
  ENDPOINT_NOT_FOUND: { status: 404, title: 'No such webhook endpoint in your organization' },
  DELIVERY_NOT_FOUND: { status: 404, title: 'No such webhook delivery in your organization' },
  ENDPOINT_URL_REFUSED: { status: 400, title: 'The endpoint URL is not allowed' },
});
