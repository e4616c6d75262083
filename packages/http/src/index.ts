export * from './app';
export * from './problem';
export * from './server';
