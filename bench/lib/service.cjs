// @ts-check
'use strict';
/**
 * A service of the repository as a benchmark runs it: built when its dist is missing, started as
 * `node dist/main.js` in its own process on a free port, ready once /readyz answers 200, stopped
 * with its ordered shutdown.
 */
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Builds services/<name> (and the packages it references) when its dist is missing; warns when
 * stale. Returns its dist/main.js.
 * @param {string} name
 * @param {(msg: string) => void} log
 */
function ensureBuilt(name, log) {
  const dir = path.join(ROOT, 'services', name);
  const main = path.join(dir, 'dist', 'main.js');
  const src = path.join(dir, 'src');
  const buildInfo = path.join(dir, 'dist', '.tsbuildinfo');
  if (fs.existsSync(main)) {
    const built = fs.statSync(fs.existsSync(buildInfo) ? buildInfo : main).mtimeMs;
    const stale = fs
      .readdirSync(src, { withFileTypes: true, recursive: true })
      .some(
        (e) =>
          e.isFile() &&
          e.name.endsWith('.ts') &&
          !e.name.endsWith('.test.ts') &&
          fs.statSync(path.join(e.parentPath, e.name)).mtimeMs > built,
      );
    if (stale)
      log(`note: services/${name}/src changed since its last build: \`npx tsc -b tsconfig.json\` to measure it`);
    return main;
  }
  log(`services/${name}/dist/main.js is missing: building (tsc -b services/${name})...`);
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', path.join('services', name)],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (r.status !== 0 || !fs.existsSync(main)) throw new Error('the build failed: run `npm run build` first');
  return main;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** @param {number} port @param {string} urlPath @returns {Promise<{ status: number, body: string }>} */
function httpGet(port, urlPath) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', reject);
  });
}

/**
 * Starts `node <nodeArgs> <main>` from the repository root, `env` added to this process's, with
 * its log in a file (no pipe through this process: the runner takes no CPU from the process
 * measured). Resolves at once; `ready()` waits for /readyz 200 on `port`. `name` names it in
 * the errors.
 * @param {{ name: string, main: string, nodeArgs: string, env: Record<string, string>, port: number, logFile: string }} o
 */
function startService(o) {
  const out = fs.openSync(o.logFile, 'w');
  const child = spawn(process.execPath, [...o.nodeArgs.split(/\s+/).filter(Boolean), o.main], {
    cwd: ROOT,
    stdio: ['ignore', out, out],
    env: { ...process.env, ...o.env },
  });
  fs.closeSync(out);
  /** @type {{ code: number | null, signal: NodeJS.Signals | null } | null} */
  let exited = null;
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }),
  );
  const tail = () => {
    try {
      return fs.readFileSync(o.logFile, 'utf8').slice(-3000);
    } catch {
      return '';
    }
  };
  return {
    pid: /** @type {number} */ (child.pid),
    alive: () => exited === null,
    exited: () => exited,
    tail,
    /**
     * Waits for /readyz 200 (60 s at most), asking every `pollMs`; `kill`: SIGKILL it when the
     * 60 s are over.
     * @param {{ pollMs?: number, kill?: boolean }} [w]
     */
    async ready(w = {}) {
      const until = Date.now() + 60_000;
      for (;;) {
        if (exited) throw new Error(`the ${o.name} exited (${JSON.stringify(exited)}) before it was ready:\n${tail()}`);
        const r = await httpGet(o.port, '/readyz').catch(() => null);
        if (r?.status === 200) return;
        if (Date.now() > until) {
          if (w.kill) child.kill('SIGKILL');
          throw new Error(
            `the ${o.name} was not ready within 60 s (last /readyz: ${r?.status} ${r?.body}):\n${tail()}`,
          );
        }
        await new Promise((res) => setTimeout(res, w.pollMs ?? 100));
      }
    },
    /** Stops it with SIGTERM (its ordered shutdown), SIGKILL after 15 s. */
    async stop() {
      if (exited) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
      return exited;
    },
  };
}

/**
 * `count` processes started one after another by `start(i)` (which resolves with one
 * startService() process and its port and log file, ready or not, as the caller needs), run
 * side by side as replicas. The group answers like one process: alive while all are, `ready()`
 * once all are, stopped together. If one fails to start, those already started are stopped.
 * @param {number} count
 * @param {(i: number) => Promise<{ proc: ReturnType<typeof startService>, port: number, logFile: string }>} start
 */
async function startGroup(count, start) {
  /** @type {Array<{ proc: ReturnType<typeof startService>, port: number, logFile: string }>} */
  const started = [];
  const stop = async () => {
    const exits = await Promise.all(started.map((p) => p.proc.stop()));
    return exits.find((e) => e && e.code !== 0) ?? exits[0] ?? null;
  };
  try {
    for (let i = 0; i < count; i++) started.push(await start(i));
  } catch (err) {
    await stop();
    throw err;
  }
  const procs = started.map((p) => p.proc);
  return {
    pids: procs.map((p) => p.pid),
    ports: started.map((p) => p.port),
    logFiles: started.map((p) => p.logFile),
    alive: () => procs.every((p) => p.alive()),
    tail: () => procs.map((p) => p.tail()).join('\n---\n'),
    /** @param {{ pollMs?: number, kill?: boolean }} [w] */
    async ready(w) {
      for (const p of procs) await p.ready(w);
    },
    /** Stops every process; resolves with the first exit that was not a clean one (or the first exit). */
    stop,
  };
}

/** The log file of replica `i` beside the first one's (`x.log`, `x-1.log`, ...). */
function replicaLog(logFile, /** @type {number} */ i) {
  return i === 0 ? logFile : logFile.replace(/\.log$/, `-${i}.log`);
}

module.exports = { ensureBuilt, freePort, httpGet, replicaLog, startGroup, startService };
