/**
 * Structured JSON logs, one object per line, to `$CAIRN_HOME/logs/daemon.log`, rotated by size
 * (daemon.log → daemon.log.1 → … → daemon.log.<keep>). Fields whose key looks like a secret are redacted
 * wherever they are nested, so a handler that logs its params can never leak a key or a token; and every
 * string (the message, values, error messages and stacks) goes through the secret scanner (`secrets/`), so a
 * key, a JWT or a connection string's password quoted in an error or a path never reaches the file.
 */
import { closeSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { redactSecrets } from '../secrets/index.js';

/** Where the daemon's subsystems write what happened (FileLogger in the daemon; tests pass their own). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const levelRank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_KEY = /token|key|secret|password|passwd|authorization|cookie|credential/i;
const MAX_STRING = 2000;
const MAX_DEPTH = 6;

/** Copies `value` with secret-looking keys replaced and long strings cut, so log lines stay small and safe. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[nested]';
  if (value instanceof Error) {
    return { name: value.name, message: redactString(value.message), stack: value.stack === undefined ? undefined : redactString(value.stack) };
  }
  if (Array.isArray(value)) return value.slice(0, 50).map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

/** A log string cut to size, then with every detected secret replaced by `[redacted: <rule>]`. */
export function redactString(value: string): string {
  const cut = value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…(${value.length} chars)` : value;
  return redactSecrets(cut).text;
}

export interface FileLoggerOptions {
  dir: string;
  level?: LogLevel;
  maxBytes?: number;
  keep?: number;
  /** Also writes each line to stderr (foreground `cairn daemon` with CAIRN_LOG_STDERR=1). */
  mirrorToStderr?: boolean;
}

export class FileLogger implements Logger {
  readonly file: string;
  private fd: number | null = null;
  private size = 0;
  private readonly level: number;
  private readonly maxBytes: number;
  private readonly keep: number;

  constructor(private readonly opts: FileLoggerOptions) {
    mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
    this.file = join(opts.dir, 'daemon.log');
    this.level = levelRank[opts.level ?? 'info'];
    this.maxBytes = opts.maxBytes ?? 5 * 1024 * 1024;
    this.keep = opts.keep ?? 3;
    this.open();
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private open(): void {
    this.fd = openSync(this.file, 'a', 0o600);
    try {
      this.size = statSync(this.file).size;
    } catch {
      this.size = 0;
    }
  }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (levelRank[level] < this.level || this.fd === null) return;
    const line = `${JSON.stringify({ level, time: new Date().toISOString(), msg: redactString(msg), ...(fields ? (redact(fields) as object) : {}) })}\n`;
    const bytes = Buffer.byteLength(line);
    if (this.size + bytes > this.maxBytes && this.size > 0) this.rotate();
    try {
      writeSync(this.fd, line);
      this.size += bytes;
    } catch {
      // A full disk must not take the daemon down; the line is lost.
    }
    if (this.opts.mirrorToStderr) process.stderr.write(line);
  }

  private rotate(): void {
    this.close();
    rmSync(`${this.file}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) {
      try {
        renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      } catch {
        // that generation does not exist yet
      }
    }
    renameSync(this.file, `${this.file}.1`);
    this.open();
  }
}
