// The subscription service's HTTP surface: the catalog (metrics, plans and their versions),
// customers, subscriptions and test clocks. Bodies reuse the catalog event schemas, so what an
// organization sends is what its topic carries.
import { Type, type Static } from '@sinclair/typebox';
import {
  Aggregation,
  Closed,
  Currency,
  CustomerId,
  DecimalString,
  Described,
  Email,
  Interval,
  IsoDateTime,
  Label,
  MetricKey,
  Nullable,
  Period,
  PlanCode,
  StringEnum,
  Uuid,
} from '../common';
import { PlanMetric } from '../events/catalog';
import type { RouteSpec } from './openapi';
import { LIST_QUERY, Page } from './pagination';

const PropertyName = Type.String({ minLength: 1, maxLength: 64 });
const Description = Type.String({ maxLength: 1000 });
const PlanVersionNumber = Type.Integer({ minimum: 1 });
const PlanMetrics = Described(
  Type.Array(PlanMetric, { maxItems: 100 }),
  'What the plan charges per metric: included units per period, then the overage unit price.',
);

/** `POST /v1/metrics`. The key is immutable; the aggregation defaults to SUM. */
export const CreateMetricBody = Closed(
  {
    key: Described(MetricKey, 'UPPER_SNAKE, unique in the organization; usage events name it.'),
    name: Label,
    unit: Type.String({ minLength: 1, maxLength: 32, description: 'Shown on invoices ("calls", "GB").' }),
    aggregation: Type.Optional(Described(Aggregation, 'How a period rolls up (default SUM of amounts).')),
    uniqueProperty: Type.Optional(
      Described(PropertyName, 'For UNIQUE_COUNT: the event property whose distinct values are counted.'),
    ),
    description: Type.Optional(Description),
  },
  {
    if: { properties: { aggregation: { const: 'UNIQUE_COUNT' } }, required: ['aggregation'] },
    then: { properties: { uniqueProperty: PropertyName }, required: ['uniqueProperty'] },
  },
);
export type CreateMetricBody = Static<typeof CreateMetricBody>;

/** `PATCH /v1/metrics/{key}`: what may change (never the key or the aggregation). */
export const UpdateMetricBody = Closed(
  {
    name: Type.Optional(Label),
    unit: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    description: Type.Optional(Description),
  },
  { minProperties: 1 },
);
export type UpdateMetricBody = Static<typeof UpdateMetricBody>;

/** A metric. */
export const Metric = Closed({
  key: MetricKey,
  name: Label,
  unit: Type.String(),
  aggregation: Aggregation,
  uniqueProperty: Nullable(PropertyName),
  description: Nullable(Description),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type Metric = Static<typeof Metric>;

/** `POST /v1/plans`: a plan and its first version. */
export const CreatePlanBody = Closed({
  code: Described(PlanCode, 'Unique in the organization; subscriptions name it.'),
  name: Label,
  description: Type.Optional(Description),
  currency: Described(Currency, 'ISO 4217; fixed for the plan (a new currency is a new plan).'),
  interval: Described(Interval, 'Fixed for the plan.'),
  basePrice: Described(DecimalString, 'The fixed fee per period in major units ("100.00").'),
  planMetrics: PlanMetrics,
});
export type CreatePlanBody = Static<typeof CreatePlanBody>;

/** `POST /v1/plans/{code}/versions`: new prices; running subscriptions keep their version. */
export const CreatePlanVersionBody = Closed({
  name: Type.Optional(Label),
  description: Type.Optional(Description),
  basePrice: DecimalString,
  planMetrics: PlanMetrics,
});
export type CreatePlanVersionBody = Static<typeof CreatePlanVersionBody>;

/** One version of a plan. */
export const PlanVersion = Closed({
  code: PlanCode,
  version: PlanVersionNumber,
  name: Label,
  description: Nullable(Description),
  currency: Currency,
  interval: Interval,
  basePrice: DecimalString,
  planMetrics: Type.Array(PlanMetric),
  createdAt: IsoDateTime,
});
export type PlanVersion = Static<typeof PlanVersion>;

/** A plan: its latest version, and whether new subscriptions may still use it. */
export const Plan = Closed({
  ...PlanVersion.properties,
  latestVersion: PlanVersionNumber,
  archivedAt: Nullable(IsoDateTime),
});
export type Plan = Static<typeof Plan>;

/** `POST /v1/customers`. */
export const CreateCustomerBody = Closed({
  customerId: Described(CustomerId, 'Your own id for the customer: the `customerId` your usage events carry.'),
  name: Label,
  email: Type.Optional(Email),
  testClockId: Type.Optional(Described(Uuid, "Run this customer's subscriptions on a test clock (test mode).")),
});
export type CreateCustomerBody = Static<typeof CreateCustomerBody>;

/** `PATCH /v1/customers/{customerId}`. */
export const UpdateCustomerBody = Closed(
  { name: Type.Optional(Label), email: Type.Optional(Nullable(Email)) },
  { minProperties: 1 },
);
export type UpdateCustomerBody = Static<typeof UpdateCustomerBody>;

/** A customer. */
export const Customer = Closed({
  customerId: CustomerId,
  name: Label,
  email: Nullable(Email),
  testClockId: Nullable(Uuid),
  createdAt: IsoDateTime,
  updatedAt: IsoDateTime,
});
export type Customer = Static<typeof Customer>;

/** How periods are counted: calendar months/years, or from the start's anniversary. */
export const BillingAnchorKind = StringEnum(['CALENDAR', 'ANNIVERSARY'] as const);

/** `POST /v1/subscriptions`. */
export const CreateSubscriptionBody = Closed({
  customerId: CustomerId,
  planCode: PlanCode,
  planVersion: Type.Optional(Described(PlanVersionNumber, 'Default: the latest version.')),
  startAt: Type.Optional(Described(IsoDateTime, "Default: now (the customer's test clock time in test mode).")),
  billingAnchor: Type.Optional(Described(BillingAnchorKind, 'Default CALENDAR.')),
});
export type CreateSubscriptionBody = Static<typeof CreateSubscriptionBody>;

/** `POST /v1/subscriptions/{id}/cancel`. */
export const CancelSubscriptionBody = Closed({
  at: Type.Optional(Described(StringEnum(['PERIOD_END', 'IMMEDIATELY'] as const), 'Default PERIOD_END.')),
  reason: Type.Optional(Type.String({ maxLength: 500 })),
});
export type CancelSubscriptionBody = Static<typeof CancelSubscriptionBody>;

/** Where a subscription stands. */
export const SubscriptionStatus = StringEnum(['ACTIVE', 'SUSPENDED', 'CANCELLED'] as const);

/** A subscription. */
export const Subscription = Closed({
  id: Uuid,
  customerId: CustomerId,
  planCode: PlanCode,
  planVersion: PlanVersionNumber,
  status: SubscriptionStatus,
  startAt: IsoDateTime,
  billingAnchorKind: BillingAnchorKind,
  billingAnchor: IsoDateTime,
  currentPeriod: Nullable(Period),
  cancelAt: Described(Nullable(IsoDateTime), 'Set when cancelled at period end: when it will end.'),
  endedAt: Nullable(IsoDateTime),
  testClockId: Nullable(Uuid),
  createdAt: IsoDateTime,
});
export type Subscription = Static<typeof Subscription>;

/** `POST /v1/test-clocks`. */
export const CreateTestClockBody = Closed({ name: Type.Optional(Label), frozenTime: IsoDateTime });
export type CreateTestClockBody = Static<typeof CreateTestClockBody>;

/** `POST /v1/test-clocks/{id}/advance`: forward only; everything due in between happens. */
export const AdvanceTestClockBody = Closed({ frozenTime: IsoDateTime });
export type AdvanceTestClockBody = Static<typeof AdvanceTestClockBody>;

/** A test clock. */
export const TestClock = Closed({
  id: Uuid,
  name: Nullable(Label),
  frozenTime: IsoDateTime,
  createdAt: IsoDateTime,
});
export type TestClock = Static<typeof TestClock>;

const listQuery = LIST_QUERY;

type Spec = Omit<RouteSpec, 'auth' | 'permission' | 'tag'>;
/** Reads: people and API keys with catalog:read. */
const read = (tag: string, spec: Spec): RouteSpec => ({
  ...spec,
  tag,
  auth: 'jwtOrApiKey',
  permission: 'catalog:read',
});
/** Writes: ADMIN and OWNER, and API keys with catalog:manage. */
const write = (tag: string, spec: Spec): RouteSpec => ({
  ...spec,
  tag,
  auth: 'jwtOrApiKey',
  permission: 'catalog:manage',
});

/** Every route of the subscription service. */
export const SUBSCRIPTION_ROUTES: readonly RouteSpec[] = [
  write('Metrics', {
    method: 'post',
    path: '/v1/metrics',
    operationId: 'createMetric',
    summary: 'Create a metric',
    idempotent: true,
    body: CreateMetricBody,
    responses: { 201: { description: 'Created', schema: Metric } },
  }),
  read('Metrics', {
    method: 'get',
    path: '/v1/metrics',
    operationId: 'listMetrics',
    summary: 'List metrics',
    query: listQuery,
    responses: { 200: { description: 'A page of metrics', schema: Page(Metric) } },
  }),
  read('Metrics', {
    method: 'get',
    path: '/v1/metrics/{key}',
    operationId: 'getMetric',
    summary: 'Get a metric',
    pathParams: { key: MetricKey },
    responses: { 200: { description: 'The metric', schema: Metric } },
  }),
  write('Metrics', {
    method: 'patch',
    path: '/v1/metrics/{key}',
    operationId: 'updateMetric',
    summary: 'Rename a metric or change its unit or description (never its key or aggregation)',
    pathParams: { key: MetricKey },
    body: UpdateMetricBody,
    responses: { 200: { description: 'The metric', schema: Metric } },
  }),
  write('Plans', {
    method: 'post',
    path: '/v1/plans',
    operationId: 'createPlan',
    summary: 'Create a plan (its version 1)',
    idempotent: true,
    body: CreatePlanBody,
    responses: { 201: { description: 'Created', schema: Plan } },
  }),
  read('Plans', {
    method: 'get',
    path: '/v1/plans',
    operationId: 'listPlans',
    summary: 'List plans (latest versions)',
    query: listQuery,
    responses: { 200: { description: 'A page of plans', schema: Page(Plan) } },
  }),
  read('Plans', {
    method: 'get',
    path: '/v1/plans/{code}',
    operationId: 'getPlan',
    summary: 'Get a plan (latest version, or ?version=N)',
    pathParams: { code: PlanCode },
    query: { version: PlanVersionNumber },
    responses: { 200: { description: 'The plan', schema: Plan } },
  }),
  write('Plans', {
    method: 'post',
    path: '/v1/plans/{code}/versions',
    operationId: 'createPlanVersion',
    summary: 'Change prices: a new version (running subscriptions keep theirs)',
    idempotent: true,
    pathParams: { code: PlanCode },
    body: CreatePlanVersionBody,
    responses: { 201: { description: 'The new version', schema: Plan } },
  }),
  write('Plans', {
    method: 'post',
    path: '/v1/plans/{code}/archive',
    operationId: 'archivePlan',
    summary: 'Archive a plan: no new subscriptions',
    pathParams: { code: PlanCode },
    responses: { 200: { description: 'The archived plan', schema: Plan } },
  }),
  write('Customers', {
    method: 'post',
    path: '/v1/customers',
    operationId: 'createCustomer',
    summary: 'Create a customer',
    idempotent: true,
    body: CreateCustomerBody,
    responses: { 201: { description: 'Created', schema: Customer } },
  }),
  read('Customers', {
    method: 'get',
    path: '/v1/customers',
    operationId: 'listCustomers',
    summary: 'List customers',
    query: listQuery,
    responses: { 200: { description: 'A page of customers', schema: Page(Customer) } },
  }),
  read('Customers', {
    method: 'get',
    path: '/v1/customers/{customerId}',
    operationId: 'getCustomer',
    summary: 'Get a customer by your id for it',
    pathParams: { customerId: CustomerId },
    responses: { 200: { description: 'The customer', schema: Customer } },
  }),
  write('Customers', {
    method: 'patch',
    path: '/v1/customers/{customerId}',
    operationId: 'updateCustomer',
    summary: "Change a customer's name or e-mail",
    pathParams: { customerId: CustomerId },
    body: UpdateCustomerBody,
    responses: { 200: { description: 'The customer', schema: Customer } },
  }),
  write('Subscriptions', {
    method: 'post',
    path: '/v1/subscriptions',
    operationId: 'createSubscription',
    summary: 'Subscribe a customer to a plan',
    idempotent: true,
    body: CreateSubscriptionBody,
    responses: { 201: { description: 'Created', schema: Subscription } },
  }),
  read('Subscriptions', {
    method: 'get',
    path: '/v1/subscriptions',
    operationId: 'listSubscriptions',
    summary: 'List subscriptions (filter by customer or status)',
    query: { ...listQuery, customerId: CustomerId, status: SubscriptionStatus },
    responses: { 200: { description: 'A page of subscriptions', schema: Page(Subscription) } },
  }),
  read('Subscriptions', {
    method: 'get',
    path: '/v1/subscriptions/{id}',
    operationId: 'getSubscription',
    summary: 'Get a subscription',
    pathParams: { id: Uuid },
    responses: { 200: { description: 'The subscription', schema: Subscription } },
  }),
  write('Subscriptions', {
    method: 'post',
    path: '/v1/subscriptions/{id}/cancel',
    operationId: 'cancelSubscription',
    summary: 'Cancel at period end (default) or immediately',
    pathParams: { id: Uuid },
    body: CancelSubscriptionBody,
    responses: { 200: { description: 'The subscription', schema: Subscription } },
  }),
  write('Subscriptions', {
    method: 'post',
    path: '/v1/subscriptions/{id}/reactivate',
    operationId: 'reactivateSubscription',
    summary: 'Reactivate a suspended subscription',
    pathParams: { id: Uuid },
    responses: { 200: { description: 'The subscription', schema: Subscription } },
  }),
  write('Test clocks', {
    method: 'post',
    path: '/v1/test-clocks',
    operationId: 'createTestClock',
    summary: 'Create a test clock frozen at a time',
    idempotent: true,
    body: CreateTestClockBody,
    responses: { 201: { description: 'Created', schema: TestClock } },
  }),
  read('Test clocks', {
    method: 'get',
    path: '/v1/test-clocks',
    operationId: 'listTestClocks',
    summary: 'List test clocks',
    query: listQuery,
    responses: { 200: { description: 'A page of test clocks', schema: Page(TestClock) } },
  }),
  read('Test clocks', {
    method: 'get',
    path: '/v1/test-clocks/{id}',
    operationId: 'getTestClock',
    summary: 'Get a test clock',
    pathParams: { id: Uuid },
    responses: { 200: { description: 'The test clock', schema: TestClock } },
  }),
  write('Test clocks', {
    method: 'post',
    path: '/v1/test-clocks/{id}/advance',
    operationId: 'advanceTestClock',
    summary: 'Advance a test clock: periods it passes over close as in real time',
    pathParams: { id: Uuid },
    body: AdvanceTestClockBody,
    responses: { 200: { description: 'The test clock, advanced', schema: TestClock } },
  }),
];
