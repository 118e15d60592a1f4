/**
 * The worst inputs of each kind the daemon does not control (issue 19), in one place so that the tests of
 * each fix and the fairness test (a second client keeps its latency while one sends these) share them.
 */

/** A model's `grep` pattern that backtracks for minutes in JavaScript's engine over `line` (item 4). */
export const CATASTROPHIC_REGEX = {
  pattern: '^(a+)+$',
  line: `${'a'.repeat(31)}!`,
} as const;

/** A `.gitignore` rule that backtracks exponentially in the depth of the path it is tested against (item 5). */
export const CRAFTED_GITIGNORE = {
  rule: `a/${Array(10).fill('**').join('/')}/b`,
  /** A folder 30 levels deep under `a/`, holding one file. */
  deepFile: `a/${Array(30).fill('x').join('/')}/c.txt`,
} as const;
