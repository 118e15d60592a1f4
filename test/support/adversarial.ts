/**
 * The worst inputs of each kind the daemon does not control, in one place so that the tests of
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

/** 600 KiB of unclosed `<title` tags: a title regex goes quadratic on it (item 6). */
export const HOSTILE_HTML = `<p>A hostile page.</p>${'<title'.repeat((600 * 1024) / 6)}`;

/** Serves an endless body without Content-Length (chunked), until the client hangs up (item 6). */
export function streamEndlessly(res: import('node:http').ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  const chunk = Buffer.alloc(256 * 1024, 'x');
  const pump = () => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', pump);
  };
  res.on('close', () => res.removeAllListeners('drain'));
  pump();
}
