/**
 * Runs a regular expression the daemon did not write (the model's `grep` pattern) over text, off the event
 * loop. JavaScript's engine backtracks: `^(a+)+$` over 31 `a`s and a `!` runs for minutes, and no signal
 * reaches code that never yields. So matching happens in a worker thread that a time limit, a cancelled
 * reply or the daemon's shutdown can terminate (V8 interrupts a running regular expression), while the
 * daemon's own thread keeps answering every client.
 */
import { Worker } from 'node:worker_threads';

/** Self-contained, so the bundled daemon needs no extra entry point. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const re = new RegExp(workerData.source, workerData.flags);
parentPort.on('message', (m) => {
  const lines = m.text.split(/\\r?\\n/);
  const hits = [];
  for (let i = 0; i < lines.length && hits.length < m.max; i++) if (re.test(lines[i])) hits.push(i);
  parentPort.postMessage(hits);
});
`;

export class MatchTimedOut extends Error {
  constructor(readonly limitMs: number) {
    super(`the pattern took longer than ${limitMs / 1000} s (it backtracks); simplify it`);
    this.name = 'MatchTimedOut';
  }
}

/** One regular expression in one worker, for the lines of many texts, under one shared time budget. */
export class LineMatcher {
  private readonly worker: Worker;
  private spentMs = 0;
  private closed = false;

  constructor(
    readonly re: RegExp,
    private readonly opts: { timeLimitMs: number; signal?: AbortSignal },
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { source: re.source, flags: re.flags } });
    // A grep in flight never holds the daemon's exit.
    this.worker.unref();
  }

  /** Indexes (0-based) of the lines of `text` that match, at most `max`. */
  async matchLines(text: string, max: number): Promise<number[]> {
    const { signal } = this.opts;
    signal?.throwIfAborted();
    const left = this.opts.timeLimitMs - this.spentMs;
    if (left <= 0) throw new MatchTimedOut(this.opts.timeLimitMs);
    const started = performance.now();
    try {
      return await new Promise<number[]>((resolve, reject) => {
        const cleanup = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.worker.off('message', onMessage);
          this.worker.off('error', onError);
        };
        const onMessage = (hits: number[]) => (cleanup(), resolve(hits));
        const onError = (e: Error) => (cleanup(), reject(e));
        const onAbort = () => (cleanup(), void this.close(), reject(signal!.reason));
        const timer = setTimeout(() => (cleanup(), void this.close(), reject(new MatchTimedOut(this.opts.timeLimitMs))), left);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.worker.on('message', onMessage);
        this.worker.on('error', onError);
        this.worker.postMessage({ text, max });
      });
    } finally {
      this.spentMs += performance.now() - started;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }
}
