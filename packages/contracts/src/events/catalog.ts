// Events of `usageflow.catalog.v1`, produced by subscription, keyed by organizationId.
// Consumers: aggregation (metrics: how to roll events up), billing (plans: how to price them).
// Every created/updated event carries the entity's complete new state (event-carried state
// transfer), so a projection is a plain upsert and never needs the previous event.
import { Type, type Static } from '@sinclair/typebox';
import {
  Aggregation,
  Closed,
  Currency,
  CustomerId,
  DecimalString,
  Email,
  Interval,
  IsoDateTime,
  Label,
  MetricKey,
  PlanCode,
  Described,
} from '../common';
import { defineEvent, keyByOrganization } from '../event-definition';
import { TOPICS } from '../topics';
import { EXAMPLE_CUSTOMER_ID, exampleEventId } from './examples';

const topic = TOPICS.catalog;
const key = keyByOrganization;

const PropertyName = Type.String({ minLength: 1, maxLength: 64 });

/**
 * A metric's complete state. The key is immutable (events refer to it). UNIQUE_COUNT counts the
 * distinct values of `properties[uniqueProperty]`, so it requires that property; the other
 * aggregations read the event's `amount` (COUNT reads nothing).
 */
export const MetricData = Closed(
  {
    key: MetricKey,
    name: Label,
    unit: Type.String({ minLength: 1, maxLength: 32, description: 'The unit shown on invoices ("calls", "GB").' }),
    aggregation: Aggregation,
    uniqueProperty: Type.Optional(PropertyName),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  {
    if: { properties: { aggregation: { const: 'UNIQUE_COUNT' } }, required: ['aggregation'] },
    then: { properties: { uniqueProperty: PropertyName }, required: ['uniqueProperty'] },
  },
);

/**
 * One metric priced by a plan: `includedUnits` per period cost nothing, every unit beyond costs
 * `overageUnitPrice` (major units, may be sub-cent: "0.001"). A metric appears at most once per
 * plan (checked by the producer; JSON Schema cannot express unique keys of objects).
 */
export const PlanMetric = Closed({
  metricKey: MetricKey,
  includedUnits: DecimalString,
  overageUnitPrice: DecimalString,
});

/**
 * One immutable version of a plan, complete. A subscription references (code, version), so a
 * price change is a new version and never reprices a running subscription.
 */
export const PlanVersionData = Closed({
  code: PlanCode,
  version: Type.Integer({ minimum: 1 }),
  name: Label,
  description: Type.Optional(Type.String({ maxLength: 1000 })),
  currency: Currency,
  interval: Interval,
  basePrice: Described(DecimalString, 'The fixed fee per period, major units ("100.00").'),
  planMetrics: Type.Array(PlanMetric, { maxItems: 100 }),
});

/**
 * plan.archived: no new subscription may use any version of the plan; running subscriptions
 * keep their version and keep being billed.
 */
export const PlanArchivedData = Closed({
  code: PlanCode,
  archivedAt: IsoDateTime,
});

/** A customer's complete state, identified by the organization's own id for it. */
export const CustomerData = Closed({
  customerId: CustomerId,
  name: Label,
  email: Type.Optional(Described(Email, 'Where invoices are sent; absent when the organization did not give one.')),
});

const proV1: Static<typeof PlanVersionData> = {
  code: 'pro',
  version: 1,
  name: 'Pro',
  currency: 'USD',
  interval: 'MONTHLY',
  basePrice: '100.00',
  planMetrics: [{ metricKey: 'API_CALL', includedUnits: '10000', overageUnitPrice: '0.01' }],
};

/** The catalog topic's event types. */
export const CATALOG_EVENTS = [
  defineEvent({
    type: 'metric.created',
    version: 1,
    topic,
    key,
    description: 'A metric was defined: what is metered and how its events roll up per period.',
    data: MetricData,
    examples: [
      {
        id: exampleEventId(201),
        occurredAt: '2025-03-01T09:10:00.000Z',
        data: { key: 'API_CALL', name: 'API calls', unit: 'calls', aggregation: 'SUM' },
      },
      {
        id: exampleEventId(202),
        occurredAt: '2025-03-01T09:11:00.000Z',
        data: {
          key: 'ACTIVE_USERS',
          name: 'Active users',
          unit: 'users',
          aggregation: 'UNIQUE_COUNT',
          uniqueProperty: 'userId',
        },
      },
    ],
  }),
  defineEvent({
    type: 'metric.updated',
    version: 1,
    topic,
    key,
    description: "A metric's name, unit or description changed; carries its complete new state.",
    data: MetricData,
    examples: [
      {
        id: exampleEventId(203),
        occurredAt: '2025-03-02T09:00:00.000Z',
        data: {
          key: 'API_CALL',
          name: 'API requests',
          unit: 'requests',
          aggregation: 'SUM',
          description: 'Calls to /v1/*',
        },
      },
    ],
  }),
  defineEvent({
    type: 'plan.created',
    version: 1,
    topic,
    key,
    description: 'A plan was created with its first version.',
    data: PlanVersionData,
    examples: [{ id: exampleEventId(204), occurredAt: '2025-03-01T09:20:00.000Z', data: proV1 }],
  }),
  defineEvent({
    type: 'plan.updated',
    version: 1,
    topic,
    key,
    description: 'A new version of a plan was published; carries that version complete.',
    data: PlanVersionData,
    examples: [
      {
        id: exampleEventId(205),
        occurredAt: '2025-04-01T09:00:00.000Z',
        data: {
          ...proV1,
          version: 2,
          basePrice: '120.00',
          planMetrics: [{ metricKey: 'API_CALL', includedUnits: '20000', overageUnitPrice: '0.008' }],
        },
      },
    ],
  }),
  defineEvent({
    type: 'plan.archived',
    version: 1,
    topic,
    key,
    description: 'A plan was archived: no new subscriptions; running ones continue on their version.',
    data: PlanArchivedData,
    examples: [
      {
        id: exampleEventId(206),
        occurredAt: '2025-06-01T00:00:00.000Z',
        data: { code: 'pro', archivedAt: '2025-06-01T00:00:00.000Z' },
      },
    ],
  }),
  defineEvent({
    type: 'customer.created',
    version: 1,
    topic,
    key,
    description: "A customer of the organization was registered under the organization's own id.",
    data: CustomerData,
    examples: [
      {
        id: exampleEventId(207),
        occurredAt: '2025-03-01T09:25:00.000Z',
        data: { customerId: EXAMPLE_CUSTOMER_ID, name: 'Acme Robotics', email: 'billing@acme.example' },
      },
    ],
  }),
  defineEvent({
    type: 'customer.updated',
    version: 1,
    topic,
    key,
    description: "A customer's details changed; carries its complete new state.",
    data: CustomerData,
    examples: [
      {
        id: exampleEventId(208),
        occurredAt: '2025-03-10T09:00:00.000Z',
        data: { customerId: EXAMPLE_CUSTOMER_ID, name: 'Acme Robotics Inc.' },
      },
    ],
  }),
] as const;
