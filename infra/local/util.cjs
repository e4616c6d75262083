// @ts-check
'use strict';
/**
 * Small helpers shared by the Kafka and Postgres halves of the local infrastructure:
 * where things live, process liveness, running a command and capturing its output,
 * a cross-process lock, and log tails for error messages.
 */
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');

/** Repository root, derived from this file's location (infra/local/ -> ../..). */
const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** Everything the local infra writes lives here; the folder is git-ignored. */
const LOCAL_DIR = path.join(REPO_ROOT, '.local');

/** @typedef {(line: string) => void} Log */

/**
 * A TCP port from the environment, or the default.
 * @param {string} name
 * @param {number} fallback
 */
function portFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`${name}=${JSON.stringify(raw)} is not a valid TCP port (1-65535)`);
  }
  return port;
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** @param {number} t0 a Date.now() value */
const since = (t0) => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

/**
 * Path relative to the repo root, for messages (shorter and copy-pasteable from the root).
 * @param {string} p
 */
const rel = (p) => path.relative(REPO_ROOT, p) || '.';

/**
 * Is this pid a live process? A zombie (exited, not yet reaped by PID 1, which in some
 * containers never reaps) still answers kill(pid, 0), so on Linux we also read its state.
 * @param {number} pid
 */
function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user (e.g. the postmaster runs as `postgres`).
    if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Format: "pid (comm) S ..."; comm may contain spaces or parentheses, so cut at the last ')'.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    // No /proc (macOS) or the process just vanished: trust kill(0).
  }
  return true;
}

/**
 * The command line of a process (Linux only), or null when it cannot be read.
 * @param {number} pid
 * @returns {string[] | null}
 */
function cmdlineOf(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return null;
  }
}

/**
 * Reads a pid from a file (first line), or null.
 * @param {string} file
 */
function readPid(file) {
  try {
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').split('\n')[0].trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/**
 * Resolves true if something accepts a TCP connection on host:port within timeoutMs.
 * Used as a cheap first check before a protocol-level probe.
 * @param {string} host
 * @param {number} port
 * @param {number} [timeoutMs]
 * @returns {Promise<boolean>}
 */
function tcpOpen(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (/** @type {boolean} */ open) => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * @typedef {object} RunOptions
 * @property {string} [cwd]
 * @property {NodeJS.ProcessEnv} [env]
 * @property {number} [uid]
 * @property {number} [gid]
 * @property {number} [timeoutMs]
 * @property {boolean} [detached] run in its own session (for commands that leave a daemon behind)
 */

/**
 * Runs a command to completion, capturing stdout and stderr (never inheriting our stdio, so
 * a daemon it leaves behind can never hold the caller's pipes open).
 * @param {string} cmd
 * @param {string[]} args
 * @param {RunOptions} [opts]
 * @returns {Promise<{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }>}
 */
function run(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    /** @type {import('node:child_process').SpawnOptions} */
    const spawnOpts = {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.detached ?? false,
    };
    if (opts.uid !== undefined) spawnOpts.uid = opts.uid;
    if (opts.gid !== undefined) spawnOpts.gid = opts.gid;
    const child = spawn(cmd, args, spawnOpts);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    if (opts.timeoutMs) {
      timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    }
    child.once('error', (err) => {
      clearTimeout(timer);
      const code = /** @type {NodeJS.ErrnoException} */ (err).code;
      reject(code === 'ENOENT' ? new Error(`command not found: ${cmd} (is it installed and on PATH?)`) : err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * The last lines of a log file, indented, for error messages ('' if unreadable).
 * @param {string} file
 * @param {number} [lines]
 */
function tail(file, lines = 25) {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines);
    return text.map((l) => `    ${l}`).join('\n');
  } catch {
    return '';
  }
}

/**
 * mkdir -p that returns the path.
 * @param {string} dir
 */
function mkdirp(dir) {
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Serialises calls within this process (the file lock below only guards across processes). */
let inProcessQueue = Promise.resolve();

/**
 * Runs fn while holding an exclusive lock file, so that two callers (a developer's
 * `infra:up` and a test run, or two jest projects) never resolve jars, format storage or
 * start a server at the same time. A lock left by a dead process is taken over.
 * @template T
 * @param {string} lockFile
 * @param {Log} log
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
function withLock(lockFile, log, fn) {
  const next = inProcessQueue.then(() => withFileLock(lockFile, log, fn));
  inProcessQueue = next.then(
    () => undefined,
    () => undefined,
  );
  return next;
}

/**
 * @template T
 * @param {string} lockFile
 * @param {Log} log
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
async function withFileLock(lockFile, log, fn) {
  mkdirp(path.dirname(lockFile));
  const deadline = Date.now() + 15 * 60_000; // a cold Maven download can take a while
  let announced = false;
  for (;;) {
    try {
      const fd = fs.openSync(lockFile, 'wx');
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      break;
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EEXIST') throw err;
      const holder = readPid(lockFile);
      if (holder === null || !isAlive(holder)) {
        // Stale (crashed holder) or half-written: remove and retry.
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      if (!announced) {
        log(`[infra] waiting for another infra command (pid ${holder}) to finish...`);
        announced = true;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for the infra lock ${rel(lockFile)} held by pid ${holder}`);
      }
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

module.exports = {
  REPO_ROOT,
  LOCAL_DIR,
  portFromEnv,
  sleep,
  since,
  rel,
  isAlive,
  cmdlineOf,
  readPid,
  tcpOpen,
  run,
  tail,
  mkdirp,
  withLock,
};
