// One ESLint configuration for the monorepo (flat config): typescript-eslint's recommended
// rules, Prettier owns formatting. Services must never import each other (ARCHITECTURE.md).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const SERVICES = ['identity', 'subscription', 'ingestion', 'aggregation', 'billing', 'webhook-dispatch'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.local/**', '**/schemas/**', 'coverage/**', '.turbo/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/services/*', '../../services/*'], message: 'services talk only through Kafka topics' },
            { group: SERVICES.map((s) => `@usageflow/svc-${s}`), message: 'services talk only through Kafka topics' },
          ],
        },
      ],
    },
  },
  {
    // End-to-end tests compose several services (as the launcher does) to prove they work
    // together through the topics: they may start each service's own test harness.
    files: ['test/e2e/**/*.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.cjs', '**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node, ...globals.jest } },
    // builtinGlobals off: `const crypto = require('node:crypto')` is the idiom, not a redeclaration
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-redeclare': ['error', { builtinGlobals: false }] },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  prettier,
);
