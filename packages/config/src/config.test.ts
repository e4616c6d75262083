import { ConfigError, commonSpec, list, loadConfig, num } from './index';

const base = { DATABASE_URL: 'postgres://u:p@localhost:5432/db', KAFKA_BROKERS: 'a:1, b:2' };

describe('loadConfig', () => {
  it('parses typed values and applies defaults', () => {
    const cfg = loadConfig(commonSpec({ port: 4001, schema: 'identity' }), base);
    expect(cfg.PORT).toBe(4001);
    expect(cfg.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect(cfg.DATABASE_SCHEMA).toBe('identity');
    expect(cfg.MIGRATE_ON_START).toBe(true);
  });

  it('names every missing or invalid variable at once', () => {
    let caught: unknown;
    try {
      loadConfig(commonSpec({ port: 4001, schema: 'identity' }), { PORT: 'eighty', DATABASE_SCHEMA: 'Bad-Name' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(Object.keys(problems).sort()).toEqual(['DATABASE_SCHEMA', 'DATABASE_URL', 'KAFKA_BROKERS', 'PORT']);
    expect(problems.DATABASE_URL).toBe('is required');
    expect((caught as Error).message).toContain('PORT is invalid');
  });

  it('rejects an empty list', () => {
    expect(() => loadConfig({ X: list() }, { X: ' , ' })).toThrow(/X is invalid: must be a non-empty/);
  });

  it('rejects a non-number', () => {
    expect(() => loadConfig({ N: num() }, { N: 'abc' })).toThrow(ConfigError);
  });
});
