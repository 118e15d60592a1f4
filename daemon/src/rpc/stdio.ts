/**
 * The stdio transport: newline-delimited JSON-RPC, one message per line (JSON text never contains a raw
 * newline, so no further framing is needed). A line over the frame limit is skipped with a `TooLarge` error
 * instead of being buffered, so memory stays bounded whatever the client writes.
 */
import type { Readable, Writable } from 'node:stream';
import type { RpcServer } from './server.js';

const NEWLINE = 0x0a;

/** Splits a byte stream into lines of at most `maxBytes`; longer lines are reported by size and dropped. */
export class LineSplitter {
  private parts: Buffer[] = [];
  private length = 0;
  private skipping = false;
  private skipped = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onTooLarge: (bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (this.skipping) this.skipped += piece.length;
      else if (this.length + piece.length > this.maxBytes) {
        this.skipping = true;
        this.skipped = this.length + piece.length;
        this.parts = [];
        this.length = 0;
      } else if (piece.length > 0) {
        this.parts.push(piece);
        this.length += piece.length;
      }
      if (nl === -1) return;
      this.endLine();
      start = nl + 1;
    }
  }

  /** The stream ended: a last line without a newline still counts. */
  end(): void {
    if (this.length > 0 || this.skipping) this.endLine();
  }

  private endLine(): void {
    if (this.skipping) {
      this.skipping = false;
      this.onTooLarge(this.skipped);
      this.skipped = 0;
      return;
    }
    const line = Buffer.concat(this.parts, this.length).toString('utf8').trim();
    this.parts = [];
    this.length = 0;
    if (line.length > 0) this.onLine(line);
  }
}

/** Serves one connection over a readable/writable pair; resolves when the input ends. */
export function serveStdio(rpc: RpcServer, input: Readable, output: Writable): Promise<void> {
  const peer = rpc.accept({
    kind: 'stdio',
    send(text) {
      output.write(`${text}\n`);
    },
    close() {
      input.destroy();
    },
  });
  if (!peer) {
    output.write(`${JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -31907, message: 'too many connections' } })}\n`);
    return Promise.resolve();
  }
  const splitter = new LineSplitter(
    rpc.limits.maxFrameBytes,
    (line) => peer.receive(line),
    (bytes) => peer.frameTooLarge(bytes),
  );
  return new Promise<void>((resolve) => {
    input.on('data', (chunk: Buffer | string) => splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    let finished = false;
    // A script may pipe requests in and close its end: answer them all before closing.
    const finish = () => {
      if (finished) return;
      finished = true;
      splitter.end();
      void peer.drain().then(() => {
        peer.closed();
        resolve();
      });
    };
    input.once('end', finish);
    input.once('close', finish);
    input.once('error', finish);
  });
}
