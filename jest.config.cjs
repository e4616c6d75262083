// One jest configuration for the whole monorepo. Sources are tested directly (SWC transform);
// workspace packages resolve to their src/ so a test never depends on a stale build.
/** @type {import('jest').Config} */
const common = {
  transform: {
    '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
    // ECMAScript-only dependencies (the gateway's Kafka client), compiled to CommonJS for jest
    '/node_modules/@platformatic/.+\\.js$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@platformatic/)'],
  moduleNameMapper: { '^@usageflow/([a-z-]+)$': '<rootDir>/packages/$1/src' },
  testEnvironment: 'node',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

module.exports = {
  reporters: ['default', '<rootDir>/test/summary-reporter.cjs'],
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{packages,services}/*/src/**/*.test.ts'],
      testPathIgnorePatterns: [...common.testPathIgnorePatterns, '\\.int\\.test\\.ts$'],
    },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{packages,services}/*/{src,test}/**/*.int.test.ts'],
      globalSetup: '<rootDir>/test/global-setup.cjs',
      globalTeardown: '<rootDir>/test/global-teardown.cjs',
      slowTestThreshold: 30,
      setupFilesAfterEnv: ['<rootDir>/test/integration-timeout.cjs'],
    },
    {
      // Several services in one test, talking only through the real topics.
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.e2e.test.ts'],
      globalSetup: '<rootDir>/test/global-setup.cjs',
      globalTeardown: '<rootDir>/test/global-teardown.cjs',
      slowTestThreshold: 60,
      setupFilesAfterEnv: ['<rootDir>/test/integration-timeout.cjs'],
    },
  ],
};
