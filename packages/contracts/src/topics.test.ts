import { ALL_TOPICS, TOPICS, TOPIC_SPECS, dlqTopic, isTopic, topicOwner } from './topics';

describe('topics', () => {
  it('are named as in the architecture', () => {
    expect(TOPICS).toEqual({
      identity: 'usageflow.identity.v1',
      catalog: 'usageflow.catalog.v1',
      subscriptions: 'usageflow.subscriptions.v1',
      usageEvents: 'usageflow.usage-events.v1',
      usageSummaries: 'usageflow.usage-summaries.v1',
      invoices: 'usageflow.invoices.v1',
      webhooks: 'usageflow.webhooks.v1',
    });
  });

  it('name their dead-letter topic with a .dlq suffix', () => {
    expect(dlqTopic(TOPICS.invoices)).toBe('usageflow.invoices.v1.dlq');
  });

  it('are owned by the services of the topics table', () => {
    expect(ALL_TOPICS.map(topicOwner)).toEqual([
      'identity',
      'subscription',
      'subscription',
      'ingestion',
      'aggregation',
      'billing',
      'webhook-dispatch',
    ]);
    expect(() => topicOwner('nope' as never)).toThrow('unknown topic');
  });

  it('specify every domain topic kept forever, and its dead-letter topic', () => {
    for (const topic of ALL_TOPICS) {
      const spec = TOPIC_SPECS.find((s) => s.name === topic);
      const dlq = TOPIC_SPECS.find((s) => s.name === dlqTopic(topic));
      // NOTE: unlimited retention: the domain topics are the log of record, replayed from 0.
      expect(spec).toMatchObject({ retentionMs: -1, cleanupPolicy: 'delete' });
      expect(dlq?.retentionMs).toBeGreaterThan(0);
      expect(dlq?.partitions).toBe(spec?.partitions);
    }
    expect(TOPIC_SPECS).toHaveLength(ALL_TOPICS.length * 2);
  });

  it('give the raw usage stream the most partitions', () => {
    const partitions = (name: string) => TOPIC_SPECS.find((s) => s.name === name)?.partitions;
    expect(partitions(TOPICS.usageEvents)).toBe(12);
    for (const topic of ALL_TOPICS.filter((t) => t !== TOPICS.usageEvents)) expect(partitions(topic)).toBe(6);
  });

  it('recognizes only domain topics', () => {
    expect(isTopic('usageflow.invoices.v1')).toBe(true);
    expect(isTopic('usageflow.invoices.v1.dlq')).toBe(false);
  });
});

describe('infra/local/topics.cjs', () => {
  // infra/local is plain JS that runs before the build, so it keeps its own copy of the topic
  // list; this pins the copy to the contract.
  it('creates exactly the topics, partitions and retention of TOPIC_SPECS', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const infra = require('../../../infra/local/topics.cjs') as {
      TOPICS: Array<{ name: string; partitions: number; config: Record<string, string> }>;
    };
    const asInfra = infra.TOPICS.map((t) => ({
      name: t.name,
      partitions: t.partitions,
      retentionMs: Number(t.config['retention.ms']),
    })).sort((a, b) => a.name.localeCompare(b.name));
    const asContract = TOPIC_SPECS.map((t) => ({
      name: t.name,
      partitions: t.partitions,
      retentionMs: t.retentionMs,
    })).sort((a, b) => a.name.localeCompare(b.name));
    expect(asInfra).toEqual(asContract);
  });
});

describe('infra/docker/create-topics.sh', () => {
  it('lists the domain topics with the partitions of TOPIC_SPECS', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs = require('node:fs') as typeof import('node:fs');
    const script = fs.readFileSync(`${__dirname}/../../../infra/docker/create-topics.sh`, 'utf8');
    const listed = [...script.matchAll(/^\s+(usageflow\.[a-z.-]+\.v\d+):(\d+)$/gm)]
      .map((m) => `${m[1]}:${m[2]}`)
      .sort();
    const domain = TOPIC_SPECS.filter((t) => !t.name.endsWith('.dlq'))
      .map((t) => `${t.name}:${t.partitions}`)
      .sort();
    expect(listed).toEqual(domain);
  });
});
