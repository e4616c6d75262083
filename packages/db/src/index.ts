export * from './database';
export * from './inbox';
export * from './migrations';
export * from './outbox';
export * from './outbox-relay';
export * from './outbox-schema';
export * from './timestamps';
export * from './derived-id';
