// @ts-check
'use strict';
/** The statistics every benchmark prints, defined once so their figures mean the same thing. */

/**
 * The nearest-rank percentile of an ascending list (p in 0..100); 0 for an empty list.
 * @param {ArrayLike<number>} sorted
 * @param {number} p
 */
function percentile(sorted, p) {
  if (sorted.length === 0) return 0;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}

/**
 * The median of a list of figures (the mean of the middle two for an even count).
 * @param {number[]} values
 */
function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

module.exports = { percentile, median };
