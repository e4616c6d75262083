// @ts-check
'use strict';
/**
 * Both ends of a forked benchmark worker: what the worker does around its measurement (report,
 * and how it ends), and how the runner forks it and waits for its result.
 */
const { fork } = require('node:child_process');

/**
 * Sends a message to the runner (or prints it, when the worker runs on its own).
 * @param {unknown} msg
 */
function post(msg) {
  if (process.send) process.send(msg);
  else console.log(JSON.stringify(msg));
}

/**
 * Runs `main` with the JSON configuration in argv[2]; a failure is reported as
 * `{ type: 'error', message }` and exits 1. Either way the IPC channel is closed at the end.
 * @template C
 * @param {(cfg: C) => Promise<void>} main
 */
function runWorker(main) {
  const cfg = /** @type {C} */ (JSON.parse(process.argv[2] ?? '{}'));
  main(cfg).then(
    () => {
      if (process.connected) process.disconnect();
    },
    (err) => {
      post({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      if (process.connected) process.disconnect();
      process.exitCode = 1;
    },
  );
}

/**
 * Forks the worker `file` with `cfg` as its argv[2] (its stdout and stderr this process's) and
 * resolves with its `result` message, through `toResult` when given; its `progress` messages go
 * to `onProgress`. An exit other than 0, or without a result, rejects as `<what> exited <code or
 * signal>`, with the worker's `error` message if it sent one. `track` is told the child while it
 * runs (null once it exited), for a runner that must stop it on SIGINT.
 * @template [R=any]
 * @param {string} file
 * @param {unknown} cfg
 * @param {{ what: string, onProgress: (msg: any) => void, toResult?: (msg: any) => R, track?: (child: import('node:child_process').ChildProcess | null) => void }} o
 * @returns {Promise<R>}
 */
function forkWorker(file, cfg, o) {
  return new Promise((resolve, reject) => {
    const child = fork(file, [JSON.stringify(cfg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    o.track?.(child);
    /** @type {R | null} */
    let result = null;
    /** @type {string | null} */
    let failure = null;
    child.on('message', (/** @type {any} */ msg) => {
      if (msg.type === 'progress') {
        o.onProgress(msg);
      } else if (msg.type === 'result') {
        result = o.toResult ? o.toResult(msg) : msg;
      } else if (msg.type === 'error') {
        failure = msg.message;
      }
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      o.track?.(null);
      if (result && code === 0) resolve(result);
      else reject(new Error(`${o.what} exited ${signal ?? code}${failure ? `: ${failure}` : ''}`));
    });
  });
}

module.exports = { post, runWorker, forkWorker };
