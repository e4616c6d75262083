#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * The project's one bootstrap, behind `npm start`, `npm test`, `npm run migrate` and the
 * benchmarks. Plain CommonJS with no dependencies, because it runs on a fresh clone before
 * anything is installed:
 *   1. install what is missing (npm install when node_modules is absent or older than the lock),
 *   2. build every workspace (turbo, cached),
 *   3. bring up Kafka and Postgres (infra/local; skipped for whichever of KAFKA_BROKERS /
 *      DATABASE_URL is set),
 *   4. then: start -> run every service and wait until each is ready
 *            test  -> lint, then the whole jest suite (unit + integration + end-to-end); exits with its status
 *            migrate -> apply every service's migrations
 *            bench <file> -> run a benchmark script with the infra in its environment
 */
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SERVICES = [
  { name: 'identity', port: 4001 },
  { name: 'subscription', port: 4002 },
  { name: 'ingestion', port: 4003 },
  { name: 'aggregation', port: 4004 },
  { name: 'billing', port: 4005 },
  { name: 'webhook-dispatch', port: 4006 },
];

const say = (/** @type {string} */ line) => process.stderr.write(`[usageflow] ${line}\n`);

function fail(/** @type {string} */ message) {
  say(`error: ${message}`);
  process.exit(1);
}

/** Runs a command to completion with inherited output; exits on failure. */
function run(/** @type {string} */ cmd, /** @type {string[]} */ args, /** @type {object} */ opts = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) fail(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

function checkPrerequisites() {
  // 20.19: require() of ECMAScript modules (the gateway's Kafka client, @platformatic/kafka)
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) fail(`Node 20.19+ is required (this is ${process.version})`);
  if (!process.env.KAFKA_BROKERS) {
    for (const [tool, hint] of [
      ['java', 'JDK 17+ runs the local Kafka broker'],
      ['mvn', 'Maven resolves the Kafka broker from Maven Central'],
    ]) {
      const r = spawnSync(tool, ['-version'], { stdio: 'ignore' });
      if (r.error) fail(`\`${tool}\` not found on PATH (${hint}); or set KAFKA_BROKERS to use an existing broker`);
    }
  }
}

function ensureInstalled() {
  const marker = path.join(ROOT, 'node_modules', '.package-lock.json');
  const lock = path.join(ROOT, 'package-lock.json');
  const stale =
    !fs.existsSync(marker) || (fs.existsSync(lock) && fs.statSync(lock).mtimeMs > fs.statSync(marker).mtimeMs);
  if (!stale) return;
  say('installing dependencies (npm install)...');
  const t = Date.now();
  run('npm', ['install', '--no-audit', '--no-fund'], { shell: process.platform === 'win32' });
  say(`dependencies installed (${((Date.now() - t) / 1000).toFixed(1)}s)`);
}

function build() {
  say('building (turbo, cached)...');
  const t = Date.now();
  run(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'turbo', 'bin', 'turbo'), 'run', 'build', '--output-logs=errors-only'],
    {
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
    },
  );
  say(`built (${((Date.now() - t) / 1000).toFixed(1)}s)`);
}

/** @returns {Promise<{ KAFKA_BROKERS: string, DATABASE_URL: string }>} */
async function infra() {
  const { ensureInfra } = require('../infra/local/index.cjs');
  const r = await ensureInfra({ log: (/** @type {string} */ l) => process.stderr.write(`${l}\n`) });
  return { KAFKA_BROKERS: r.kafkaBrokers, DATABASE_URL: r.databaseUrl };
}

async function bootstrap() {
  checkPrerequisites();
  ensureInstalled();
  build();
  return infra();
}

/** Runs a child to completion and resolves with its exit code (signals forwarded). */
function runChild(/** @type {string[]} */ args, /** @type {NodeJS.ProcessEnv} */ env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    const forward = (/** @type {NodeJS.Signals} */ s) => child.kill(s);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function runTests(/** @type {string[]} */ extra) {
  const env = { ...process.env, ...(await bootstrap()) };
  say('linting (eslint, prettier)...');
  run(process.execPath, [path.join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '.']);
  run(process.execPath, [
    path.join(ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs'),
    '--check',
    '--log-level=warn',
    '.',
  ]);
  say('running the test suite (unit + integration)...');
  const code = await runChild(
    [path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'), '--maxWorkers=2', ...extra],
    env,
  );
  process.exit(code);
}

async function migrateAll() {
  const env = { ...process.env, ...(await bootstrap()) };
  for (const s of SERVICES) {
    const code = await runChild([path.join(ROOT, 'services', s.name, 'dist', 'main.js'), 'migrate'], env);
    if (code !== 0) fail(`${s.name} migrations failed`);
  }
  say('all migrations applied');
}

async function bench(/** @type {string[]} */ args) {
  if (!args[0]) fail('usage: usageflow bench <script> [args...]');
  const env = { ...process.env, ...(await bootstrap()) };
  process.exit(await runChild([path.resolve(ROOT, args[0]), ...args.slice(1)], env));
}

/** Prefixes each line of a service's JSON log with its name and prints the message readably. */
function pipeLogs(/** @type {string} */ name, /** @type {NodeJS.ReadableStream} */ stream) {
  let buffer = '';
  const pad = name.padEnd(16);
  stream.on('data', (chunk) => {
    buffer += chunk.toString();
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, i);
      buffer = buffer.slice(i + 1);
      let text = line;
      try {
        const j = JSON.parse(line);
        const level =
          { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }[j.level] ?? j.level;
        text = `${level} ${j.msg ?? ''}${j.err ? ` ${j.err.message ?? ''}` : ''}`;
      } catch {
        /* not JSON: print as is */
      }
      process.stdout.write(`${pad}| ${text}\n`);
    }
  });
}

async function waitReady(/** @type {number} */ port, /** @type {number} */ timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) return true;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function start() {
  const env = { ...process.env, ...(await bootstrap()) };
  /** @type {import('node:child_process').ChildProcess[]} */
  const children = [];
  let stopping = false;
  const stopAll = async (/** @type {number} */ code) => {
    if (stopping) return;
    stopping = true;
    say('stopping services...');
    await Promise.all(
      children.map(
        (c) =>
          new Promise((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve(undefined);
            c.once('exit', resolve);
            c.kill('SIGTERM');
          }),
      ),
    );
    say('stopped (Kafka and Postgres keep running; `npm run infra:down` stops them)');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  for (const s of SERVICES) {
    const child = spawn(process.execPath, [path.join(ROOT, 'services', s.name, 'dist', 'main.js')], {
      cwd: ROOT,
      env: { ...env, PORT: String(s.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pipeLogs(s.name, /** @type {NodeJS.ReadableStream} */ (child.stdout));
    pipeLogs(s.name, /** @type {NodeJS.ReadableStream} */ (child.stderr));
    child.on('exit', (code) => {
      if (!stopping) {
        say(`${s.name} exited unexpectedly (code ${code}); stopping the rest`);
        void stopAll(1);
      }
    });
    children.push(child);
  }
  const ready = await Promise.all(SERVICES.map((s) => waitReady(s.port, 60_000)));
  const notReady = SERVICES.filter((_, i) => !ready[i]).map((s) => s.name);
  if (notReady.length) {
    say(`not ready after 60s: ${notReady.join(', ')}`);
    return stopAll(1);
  }
  const lines = [
    '',
    'UsageFlow is running. Every service is up and ready:',
    ...SERVICES.map((s) => `  ${s.name.padEnd(17)} http://localhost:${s.port}   (/healthz, /readyz)`),
    '',
    `  Kafka     ${env.KAFKA_BROKERS}`,
    `  Postgres  ${env.DATABASE_URL.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')}`,
    '',
    'Your first API key, in two commands (docs/auth.md explains the rest):',
    '  1. sign up; the answer carries an accessToken:',
    `     curl -s -X POST http://localhost:4001/v1/auth/signup -H 'content-type: application/json' \\`,
    `       -d '{"email":"you@example.com","password":"a long passphrase","organizationName":"Acme"}'`,
    '  2. create a key with that token; the answer shows the key once:',
    `     curl -s -X POST http://localhost:4001/v1/api-keys -H 'content-type: application/json' \\`,
    `       -H "authorization: Bearer $ACCESS_TOKEN" -d '{"name":"my backend"}'`,
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

const [command, ...rest] = process.argv.slice(2);
const commands = /** @type {Record<string, (args: string[]) => Promise<unknown>>} */ ({
  start: () => start(),
  test: (args) => runTests(args),
  migrate: () => migrateAll(),
  bench: (args) => bench(args),
  bootstrap: async () => {
    const env = await bootstrap();
    for (const [k, v] of Object.entries(env)) process.stdout.write(`${k}=${v}\n`);
  },
});
const fn = command ? commands[command] : undefined;
if (!fn) fail(`usage: node scripts/usageflow.cjs <${Object.keys(commands).join('|')}>`);
else
  fn(rest).catch((err) => {
    say(`error: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  });
