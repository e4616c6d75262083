// @usageflow/contracts: the one source of every Kafka event and HTTP body of UsageFlow
// (TypeBox schemas, the TS types derived from them, validators), the topics, and the
// role/permission matrix. Every service imports from here and nowhere else for these.
export * from './topics';
export * from './common';
export * from './roles';
export * from './envelope';
export * from './event-definition';
export * from './events/identity';
export * from './events/catalog';
export * from './events/subscriptions';
export * from './events/usage';
export * from './events/summaries';
export * from './events/invoices';
export * from './events/webhooks';
export { EXAMPLE_IDS, EXAMPLE_CUSTOMER_ID } from './events/examples';
export * from './event-catalog';
export * from './errors';
export * from './money';
export * from './validate';
export * from './validate-event';
export * from './build-event';
export * from './json-schema';
export * from './http/problem';
export * from './http/pagination';
export * from './http/usage-event';
export * from './http/openapi';
export * from './http/identity';
export * from './http/subscription';
export * from './http/webhooks';
export * from './http/usage';
export * from './http/reconciliation';
export * from './http/billing';
