// @ts-check
'use strict';
/**
 * What the benchmarks read from /proc: the CPU time and resident set of a process, the CPU time of
 * a local Postgres, how busy the whole machine is, and a window that samples them around a
 * measurement. Each reading is null where there is no /proc (or the process is gone).
 */
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');

/** Clock ticks per second of /proc/<pid>/stat times. */
const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const v = Number((r.stdout ?? '').trim());
  return Number.isInteger(v) && v > 0 ? v : 100;
})();

/**
 * A `<field>: <n> kB` line of /proc/<pid>/status, in KB, or null.
 * @param {number} pid
 * @param {'VmRSS' | 'VmHWM'} field
 */
function statusKb(pid, field) {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** @param {number} pid current resident set (VmRSS, KB), or null */
const vmRssKb = (pid) => statusKb(pid, 'VmRSS');

/**
 * Peak resident set of a live process (VmHWM, KB) from /proc; null where there is no /proc.
 * @param {number} pid
 */
const vmHwmKb = (pid) => statusKb(pid, 'VmHWM');

/**
 * Fields of /proc/<pid>/stat after the command name (field 3 onwards), or null.
 * @param {number | 'self'} pid
 */
function procStat(pid) {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * CPU seconds of the reaped children of this process (cutime + cstime): the delta across one
 * child's life is that child's whole-process CPU (only one child runs at a time here).
 */
function childrenCpuSec() {
  const f = procStat('self');
  return f ? (Number(f[13]) + Number(f[14])) / CLK_TCK : null;
}

/** @param {number} pid CPU seconds (utime + stime) of a live process */
function processCpuSec(pid) {
  const f = procStat(pid);
  return f ? (Number(f[11]) + Number(f[12])) / CLK_TCK : null;
}

/**
 * CPU seconds of every `postgres` process on this machine: the live ones' own time, plus the
 * postmaster's reaped children (a backend that exits between two readings moves its time there,
 * so the difference stays right). Null when there is none (a remote DATABASE_URL).
 */
function postgresCpuSec() {
  /** @type {Map<number, { ppid: number, own: number, reaped: number }>} */
  const procs = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const raw = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')')) !== 'postgres') continue;
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(entry), {
        ppid: Number(f[1]),
        own: Number(f[11]) + Number(f[12]),
        reaped: Number(f[13]) + Number(f[14]),
      });
    } catch {
      // gone meanwhile
    }
  }
  if (procs.size === 0) return null;
  let ticks = 0;
  for (const p of procs.values()) ticks += p.own + (procs.has(p.ppid) ? 0 : p.reaped);
  return ticks / CLK_TCK;
}

/** Busy and total jiffies of the whole machine (/proc/stat), or null. */
function machineTicks() {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = v[3] + (v[4] ?? 0); // idle + iowait
    return { total, busy: total - idle };
  } catch {
    return null;
  }
}

/**
 * Share of all CPUs busy between two machineTicks() readings (0..1), or null.
 * @param {ReturnType<typeof machineTicks>} a
 * @param {ReturnType<typeof machineTicks>} b
 */
function busyShare(a, b) {
  return a && b && b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : null;
}

/**
 * Share of all CPUs busy over `ms` while this benchmark runs nothing: the load of everything
 * else on the machine (other sessions, builds), which the figures cannot be isolated from.
 * @param {number} ms
 */
async function backgroundLoad(ms) {
  const a = machineTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineTicks();
  return busyShare(a, b);
}

/**
 * CPU of the processes `pids`, of the broker and of each `more` counter, and how busy the machine
 * was, between this call and `stop()`; the highest VmRSS meanwhile (polled every 100 ms). Several
 * processes: CPU is their sum (null once one is gone), RSS the highest of any one process (the
 * targets are per process).
 * @template {string} K
 * @param {number[]} pids
 * @param {number | null} brokerPid
 * @param {Record<K, () => number | null>} [more] other CPU-second counters, read at both ends
 */
function cpuWindow(pids, brokerPid, more = /** @type {Record<K, () => number | null>} */ ({})) {
  const processesCpu = () => {
    let sum = 0;
    for (const pid of pids) {
      const sec = processCpuSec(pid);
      if (sec === null) return null;
      sum += sec;
    }
    return sum;
  };
  const keys = /** @type {K[]} */ (Object.keys(more));
  const read = () => ({
    processes: processesCpu(),
    more: keys.map((key) => more[key]()),
    broker: brokerPid === null ? null : processCpuSec(brokerPid),
    machine: machineTicks(),
  });
  const highestRss = () => Math.max(0, ...pids.map((pid) => vmRssKb(pid) ?? 0));
  const a = read();
  let peakRssKb = highestRss();
  const poll = setInterval(() => (peakRssKb = Math.max(peakRssKb, highestRss())), 100);
  /** @param {number | null} x @param {number | null} y */
  const diff = (x, y) => (x === null || y === null ? null : y - x);
  return {
    /** Ends the window (its RSS polling too) and returns its figures. */
    stop() {
      clearInterval(poll);
      const b = read();
      return {
        cpuSec: diff(a.processes, b.processes),
        more: /** @type {Record<K, number | null>} */ (
          Object.fromEntries(keys.map((key, i) => [key, diff(a.more[i], b.more[i])]))
        ),
        brokerCpuSec: diff(a.broker, b.broker),
        machineBusy: busyShare(a.machine, b.machine),
        peakRssKb: peakRssKb || null,
      };
    },
  };
}

module.exports = {
  CLK_TCK,
  vmRssKb,
  vmHwmKb,
  childrenCpuSec,
  processCpuSec,
  postgresCpuSec,
  machineTicks,
  busyShare,
  backgroundLoad,
  cpuWindow,
};
