export * from './admin';
export * from './client';
export * from './consumer-runner';
export * from './errors';
export * from './message';
export * from './producer';
