// @ts-check
'use strict';
/** The machine a benchmark runs on: the facts printed with its figures, and the local broker's pid. */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const infra = require(path.join(ROOT, 'infra', 'local', 'index.cjs'));

function machineFacts() {
  // `java -version` writes to stderr.
  const r = spawnSync(javaBin(), ['-version'], { encoding: 'utf8' });
  const java = (r.stderr || r.stdout || '').split('\n')[0].trim() || 'java: unknown';
  return {
    nproc: typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
    cpu: os.cpus()[0]?.model?.trim() ?? 'unknown',
    memGb: os.totalmem() / 2 ** 30,
    node: process.version,
    kafkajs: require('kafkajs/package.json').version,
    kafka: infra.KAFKA_VERSION,
    java,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}

function javaBin() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/**
 * The pid of the local broker JVM (infra/local) when it is the one we talk to, for its CPU time;
 * null for a remote or foreign broker.
 * @param {string[]} brokers
 */
function localBrokerPid(brokers) {
  try {
    const pid = Number(fs.readFileSync(path.join(path.dirname(infra.KAFKA_LIBS_DIR), 'kafka.pid'), 'utf8').trim());
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const port = /PLAINTEXT:\/\/[^:]*:(\d+)/.exec(
      fs.readFileSync(path.join(path.dirname(infra.KAFKA_LIBS_DIR), 'server.properties'), 'utf8'),
    )?.[1];
    const local =
      brokers.length === 1 && /^(127\.0\.0\.1|localhost):/.test(brokers[0]) && brokers[0].endsWith(`:${port}`);
    return cmd.includes('kafka.Kafka') && local ? pid : null;
  } catch {
    return null;
  }
}

module.exports = { machineFacts, javaBin, localBrokerPid };
