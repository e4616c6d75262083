import { defineErrors } from '@usageflow/http';

/** The subscription service's error codes: stable API, never renamed or reused. */
export const subscriptionErrors = defineErrors({
  METRIC_KEY_TAKEN: { status: 409, title: 'A metric with this key already exists' },
  METRIC_NOT_FOUND: { status: 404, title: 'No such metric in your organization' },
  PLAN_CODE_TAKEN: { status: 409, title: 'A plan with this code already exists' },
  PLAN_NOT_FOUND: { status: 404, title: 'No such plan in your organization' },
  PLAN_ARCHIVED: { status: 409, title: 'The plan is archived' },
  CUSTOMER_ID_TAKEN: { status: 409, title: 'A customer with this id already exists' },
  CUSTOMER_NOT_FOUND: { status: 404, title: 'No such customer in your organization' },
  SUBSCRIPTION_NOT_FOUND: { status: 404, title: 'No such subscription in your organization' },
  ALREADY_SUBSCRIBED: { status: 409, title: 'The customer already has an active subscription to this plan' },
  SUBSCRIPTION_CANCELLED: { status: 409, title: 'The subscription is cancelled' },
  INVALID_TRANSITION: { status: 409, title: 'The subscription cannot make that change in its current state' },
  TEST_CLOCK_NOT_FOUND: { status: 404, title: 'No such test clock in your organization' },
  TEST_CLOCK_BACKWARDS: { status: 409, title: 'A test clock only moves forward' },
});
