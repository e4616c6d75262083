// @ts-check
'use strict';
/**
 * The command line of a benchmark: options declared once as name -> [default, help], parsed from
 * `--name value`, `--name=value` or `--flag`, and the usage text that lists them.
 */

/** @typedef {Readonly<Record<string, readonly [number | string | boolean, string]>>} Options */

/** The ranges a fractional option may take, written as --help and the errors write them. */
const RANGES = {
  '(0, 1]': (/** @type {number} */ v) => v > 0 && v <= 1,
  '[0, 1)': (/** @type {number} */ v) => v >= 0 && v < 1,
};

/**
 * The usage text: `head`, then one line per option (its flag padded to `pad`), then --help.
 * @param {Options} options
 * @param {string[]} head
 * @param {number} pad
 */
function usage(options, head, pad) {
  const lines = Object.entries(options).map(([name, [def, help]]) => {
    const flag = typeof def === 'boolean' ? `--${name}` : `--${name} <${typeof def === 'number' ? 'n' : 'text'}>`;
    const shown = typeof def === 'boolean' ? '' : ` (default ${JSON.stringify(def)})`;
    return `  ${flag.padEnd(pad)} ${help}${shown}`;
  });
  return [...head, '', ...lines, `  ${'--help'.padEnd(pad)} this text`].join('\n');
}

/**
 * The settings `argv` asks for, every option not given at its default. Numbers are parsed as
 * numbers (`_` allowed between digits): whole and at least `minWhole` (or the option's own
 * minimum in `minimums`, for one whose 0 means "off"), or for the options in `fractions`, in their
 * range. A boolean is a flag (`--flag=false` turns it off); the rest are
 * kept as strings. --help (-h) prints the usage text and exits.
 * @param {string[]} argv
 * @param {Options} options
 * @param {{ head: string[], pad: number, minWhole: number, minimums?: Record<string, number>, fractions?: Record<string, keyof typeof RANGES> }} o
 * @returns {Record<string, number | string | boolean>}
 */
function parseOptions(argv, options, o) {
  /** @type {Record<string, number | string | boolean>} */
  const s = Object.fromEntries(Object.entries(options).map(([k, [def]]) => [k, def]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(usage(options, o.head, o.pad));
      process.exit(0);
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const name = m?.[1] ?? '';
    if (!m || !(name in options)) throw new Error(`unknown option '${arg}' (see --help)`);
    const def = options[name][0];
    if (typeof def === 'boolean') {
      s[name] = m[2] === undefined ? true : m[2] !== 'false';
      continue;
    }
    const raw = m[2] ?? argv[++i];
    if (raw === undefined) throw new Error(`--${name} needs a value`);
    if (typeof def !== 'number') {
      s[name] = raw;
      continue;
    }
    const v = Number(raw.replace(/_/g, ''));
    const range = o.fractions?.[name];
    if (range) {
      if (!Number.isFinite(v) || !RANGES[range](v)) throw new Error(`--${name} must be in ${range} (got '${raw}')`);
    } else {
      const min = o.minimums?.[name] ?? o.minWhole;
      if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be a whole number >= ${min} (got '${raw}')`);
    }
    s[name] = v;
  }
  return s;
}

module.exports = { usage, parseOptions };
