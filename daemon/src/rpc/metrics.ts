/**
 * Per-method request counters and latency percentiles for `daemon/metrics`. Latencies are kept in a ring of
 * the last 1024 calls per method, and only declared methods are tracked, so memory stays bounded whatever
 * clients send.
 */
import { collectWhenQuiet } from './idle-gc.js';

const WINDOW = 1024;

interface MethodStats {
  count: number;
  errors: number;
  samples: Float64Array;
  next: number;
  filled: number;
}

export interface MethodSummary {
  count: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round((sorted[Math.max(0, i)] ?? 0) * 100) / 100;
}

export class RequestMetrics {
  private readonly byMethod = new Map<string, MethodStats>();

  record(method: string, durationMs: number, failed: boolean): void {
    let s = this.byMethod.get(method);
    if (!s) this.byMethod.set(method, (s = { count: 0, errors: 0, samples: new Float64Array(WINDOW), next: 0, filled: 0 }));
    s.count++;
    if (failed) s.errors++;
    s.samples[s.next] = durationMs;
    s.next = (s.next + 1) % WINDOW;
    s.filled = Math.min(WINDOW, s.filled + 1);
    collectWhenQuiet();
  }

  summary(): Record<string, MethodSummary> {
    const out: Record<string, MethodSummary> = {};
    for (const [method, s] of [...this.byMethod].sort(([a], [b]) => a.localeCompare(b))) {
      const sorted = s.samples.slice(0, s.filled).sort();
      out[method] = { count: s.count, errors: s.errors, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95) };
    }
    return out;
  }
}

/** Prometheus text exposition (version 0.0.4) of the same figures. */
export function toPrometheus(m: {
  connections: number;
  uptimeSeconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  indexChunks: number | null;
  databaseBytes: number | null;
  requests: Record<string, MethodSummary>;
}): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: number | null) => {
    if (value === null) return;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
  };
  gauge('cairn_connections', 'Open client connections.', m.connections);
  gauge('cairn_uptime_seconds', 'Seconds since the daemon started.', m.uptimeSeconds);
  gauge('cairn_resident_memory_bytes', 'Resident set size of the daemon process.', m.rssBytes);
  gauge('cairn_heap_used_bytes', 'V8 heap in use.', m.heapUsedBytes);
  gauge('cairn_index_chunks', 'Knowledge-base chunks visible to the acting user.', m.indexChunks);
  gauge('cairn_database_bytes', 'Size of the database.', m.databaseBytes);
  const label = (method: string) => method.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const entries = Object.entries(m.requests);
  lines.push('# HELP cairn_requests_total Requests answered, by method.', '# TYPE cairn_requests_total counter');
  for (const [method, s] of entries) lines.push(`cairn_requests_total{method="${label(method)}"} ${s.count}`);
  lines.push('# HELP cairn_request_errors_total Requests answered with an error, by method.', '# TYPE cairn_request_errors_total counter');
  for (const [method, s] of entries) lines.push(`cairn_request_errors_total{method="${label(method)}"} ${s.errors}`);
  lines.push('# HELP cairn_request_duration_ms Request latency over the last 1024 calls.', '# TYPE cairn_request_duration_ms summary');
  for (const [method, s] of entries) {
    lines.push(`cairn_request_duration_ms{method="${label(method)}",quantile="0.5"} ${s.p50Ms}`);
    lines.push(`cairn_request_duration_ms{method="${label(method)}",quantile="0.95"} ${s.p95Ms}`);
  }
  return `${lines.join('\n')}\n`;
}
