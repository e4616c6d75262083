// SIGTERM while a service is still starting (a worker mid-start, as a consumer joining its group)
// is a shutdown, not a startup failure: the process stops what started and exits 0, once.
import { testInfra, waitFor } from '@usageflow/testkit';
import { spawn } from 'node:child_process';
import path from 'node:path';

it('exits 0 on SIGTERM during startup, with the interrupted start logged as such', async () => {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'slow-start-service.cjs')], {
    env: { ...process.env, PORT: '24190', KAFKA_BROKERS: testInfra().kafkaBrokers.join(','), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor('the worker starting', () => output.includes('SLOW-WORKER-STARTING'), { timeoutMs: 30_000 });
  } finally {
    child.kill('SIGTERM');
  }
  const code = await exited;
  expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
  expect(output).toContain('startup interrupted by the shutdown');
  expect(output).not.toContain('failed to start');
  expect(output.match(/"shutting down"/g)).toHaveLength(1);
});
