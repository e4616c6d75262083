#!/usr/bin/env node
// @ts-check
'use strict';
/**
 * node infra/local/cli.cjs <command>
 *
 *   up       start (or reuse) the local Kafka broker and PostgreSQL; returns once both answer,
 *            leaving them running in the background
 *   down     stop them (data under .local/ is kept)
 *   status   show what is running and reachable
 *   env      print KAFKA_BROKERS=... and DATABASE_URL=... lines (starts nothing); for a shell:
 *              set -a; eval "$(node infra/local/cli.cjs env)"; set +a
 *            or `env --export` for `export KEY=value` lines
 *
 * Exit codes: 0 success (status: both reachable), 1 failure, 2 usage error,
 *             3 status: something is not reachable.
 */
const infra = require('./index.cjs');

const USAGE = 'usage: node infra/local/cli.cjs up|down|status|env [--export]';

/** @param {string} s */
const shellQuote = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** @param {string} url */
const redact = (url) => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');

/**
 * One `status` row: name, up/DOWN, address, and who runs it.
 * @param {string} name
 * @param {{ reachable: boolean, external: boolean, pid: number | null, log: string }} s
 * @param {string} where
 */
function statusLine(name, s, where) {
  let who = `  log ${s.log}`;
  if (s.external) who = '  (external, from env)';
  else if (s.pid) who = `  pid ${s.pid}  log ${s.log}`;
  else if (s.reachable) who = '  (not started from this checkout)';
  return `${name.padEnd(9)}${s.reachable ? 'up  ' : 'DOWN'}  ${where}${who}`;
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case 'up': {
      const r = await infra.ensureInfra();
      console.log(`KAFKA_BROKERS=${r.kafkaBrokers}`);
      console.log(`DATABASE_URL=${r.databaseUrl}`);
      return 0;
    }
    case 'down': {
      await infra.stopInfra();
      return 0;
    }
    case 'status': {
      const s = await infra.infraStatus();
      console.log(statusLine('kafka', s.kafka, s.kafka.brokers));
      console.log(statusLine('postgres', s.postgres, redact(s.postgres.url)));
      return s.kafka.reachable && s.postgres.reachable ? 0 : 3;
    }
    case 'env': {
      const prefix = rest.includes('--export') ? 'export ' : '';
      for (const [k, v] of Object.entries(infra.infraEnv())) console.log(`${prefix}${k}=${shellQuote(v)}`);
      return 0;
    }
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      console.error(`unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    // Every client is closed by now; should a library leave a stray handle behind, don't let it
    // keep this process (and a CI pipe reading it) alive. unref: it never delays a normal exit.
    setTimeout(() => process.exit(code), 2000).unref();
  },
  (err) => {
    console.error(`[infra] ERROR: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 2000).unref();
  },
);
