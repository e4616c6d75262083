// @ts-check
'use strict';
/** What the benchmarks print: timed progress lines, figures, and the tables of their summaries. */

const { median } = require('./stats.cjs');

/**
 * A log function whose lines carry `[<name> <seconds since this call>s]`.
 * @param {string} name
 */
function logger(name) {
  const t00 = Date.now();
  /** @param {string} msg */
  return (msg) => {
    const s = ((Date.now() - t00) / 1000).toFixed(1).padStart(6);
    console.log(`[${name} ${s}s] ${msg}`);
  };
}

/** A whole number with thousands separators; '?' for one that is not finite. @param {number} n */
const fmtInt = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '?');
/** `d` decimals; '?' for a missing or infinite figure. @param {number | null | undefined} n @param {number} [d] */
const fmt = (n, d = 1) => (n == null || !Number.isFinite(n) ? '?' : n.toFixed(d));

/**
 * The median of `f` over `xs`, the missing and infinite figures left out; NaN when none is left.
 * @template T @param {T[]} xs @param {(x: T) => number | null | undefined} f
 */
const med = (xs, f) => {
  const v = /** @type {number[]} */ (xs.map(f).filter((x) => x != null && Number.isFinite(x)));
  return v.length ? median(v) : NaN;
};

/**
 * A Markdown table: the first column left-aligned, the others right-aligned.
 * @param {string[]} header
 * @param {string[][]} rows
 */
function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (/** @type {string[]} */ cells) =>
    '| ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ') + ' |';
  const rule = '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [line(header), rule, ...rows.map(line)].join('\n');
}

module.exports = { logger, fmtInt, fmt, med, table };
