// @ts-check
'use strict';
/** What every forked benchmark worker does around its measurement: report, and how it ends. */

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

module.exports = { post, runWorker };
