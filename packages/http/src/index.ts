export * from './app';
export * from './problem';
export * from './server';
export * from './idempotency';
export * from './request';
