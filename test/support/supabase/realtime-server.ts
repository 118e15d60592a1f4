/**
 * A contract-faithful Supabase Realtime test server for `postgres_changes`: the WebSocket endpoint
 * `/realtime/v1/websocket?apikey=...&vsn=...` speaking Phoenix channels (V1 JSON objects for vsn 1.0.0, the
 * V2 array frames of realtime-js v2's serializer for vsn 2.0.0), with phx_join carrying
 * `config.postgres_changes` filters and the `access_token`, phx_reply with the server's binding ids,
 * heartbeat, `access_token` updates, phx_leave/phx_close, and `postgres_changes` messages shaped as Realtime
 * v2 sends them (`{ids, data: {schema, table, commit_timestamp, type, columns, record, old_record, errors}}`,
 * which realtime-js turns into `{eventType, new, old}`).
 *
 * Changes come from LISTEN/NOTIFY on PGlite (`cairn_changes`, emitted by the migrations' triggers as
 * `{table, op, record}`), and RLS is applied per subscriber as Realtime does: before a row goes to a
 * subscriber it is selected again as that subscriber's JWT, and sent only when visible. Deletes carry only
 * the keys, as on a table without REPLICA IDENTITY FULL. A channel whose token expires is closed with a
 * system error, as Realtime does.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { PGliteInterface } from '@electric-sql/pglite';
import { asUser } from './as-user.js';
import { verifyJwt, JwtError, type AccessTokenClaims } from './jwt.js';

const MAX_TIMER_MS = 2 ** 31 - 1;

export const REALTIME_VERSION_FOLLOWED = 'Realtime v2 (realtime-js 2.x serializer, Phoenix channels V1 JSON and V2 arrays)';

export interface RealtimeServerOptions {
  db: PGliteInterface;
  jwtSecret: string;
  anonKey: string;
  /** NOTIFY channel the migrations' triggers write to. */
  channel?: string;
}

interface Binding {
  id: number;
  event: string;
  schema: string;
  table: string | undefined;
  filter: string | undefined;
}

interface Channel {
  topic: string;
  joinRef: string | null;
  claims: AccessTokenClaims;
  bindings: Binding[];
  expiryTimer: NodeJS.Timeout | null;
}

interface Client {
  ws: WebSocket;
  vsn: '1.0.0' | '2.0.0';
  channels: Map<string, Channel>;
}

interface Frame {
  join_ref: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: Record<string, unknown>;
}

interface Change {
  schema: string;
  table: string;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
  record: Record<string, unknown>;
  at: string;
}

/** Realtime derives a binding's id from its parameters (`:erlang.phash2`), so a rejoin gets the same ids. */
function bindingId(event: string, schema: string, table: string | undefined, filter: string | undefined): number {
  return createHash('sha1').update(JSON.stringify([event, schema, table ?? null, filter ?? null])).digest().readUInt32BE(0) & 0x7ffffff;
}

export class RealtimeServer {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly clients = new Set<Client>();
  private unlisten: (() => Promise<void>) | null = null;
  /** Changes are delivered one at a time, in commit order, to every subscriber. */
  private queue: Promise<void> = Promise.resolve();
  private readonly columnCache = new Map<string, { name: string; type: string }[]>();

  constructor(private readonly opts: RealtimeServerOptions) {}

  async start(): Promise<void> {
    this.unlisten = await this.opts.db.listen(this.opts.channel ?? 'cairn_changes', (payload) => {
      const change = parseChange(payload);
      if (change) this.queue = this.queue.then(() => this.deliver(change)).catch(() => undefined);
    });
  }

  /** Handles an HTTP upgrade for `/realtime/v1/websocket`. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void {
    const key = url.searchParams.get('apikey') ?? (req.headers.apikey as string | undefined);
    if (key !== this.opts.anonKey) {
      socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n\r\n{"message":"Invalid API key"}');
      return;
    }
    const vsn = url.searchParams.get('vsn') === '2.0.0' ? '2.0.0' : '1.0.0';
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const client: Client = { ws, vsn, channels: new Map() };
      this.clients.add(client);
      ws.on('message', (data) => void this.onMessage(client, data));
      ws.on('close', () => this.drop(client));
      ws.on('error', () => this.drop(client));
    });
  }

  /** Closes every socket abruptly (tests use it to simulate a dropped connection). */
  dropAllSockets(): void {
    for (const c of [...this.clients]) c.ws.terminate();
  }

  /** Open sockets (tests check that a drop really dropped them). */
  get connectedClients(): number {
    return this.clients.size;
  }

  async close(): Promise<void> {
    this.dropAllSockets();
    await this.unlisten?.();
    await this.queue;
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private drop(client: Client): void {
    for (const ch of client.channels.values()) if (ch.expiryTimer) clearTimeout(ch.expiryTimer);
    client.channels.clear();
    this.clients.delete(client);
  }

  private send(client: Client, frame: Frame): void {
    if (client.ws.readyState !== client.ws.OPEN) return;
    const text =
      client.vsn === '2.0.0'
        ? JSON.stringify([frame.join_ref, frame.ref, frame.topic, frame.event, frame.payload])
        : JSON.stringify(frame);
    client.ws.send(text);
  }

  private reply(client: Client, req: Frame, status: 'ok' | 'error', response: Record<string, unknown>): void {
    this.send(client, { join_ref: req.join_ref, ref: req.ref, topic: req.topic, event: 'phx_reply', payload: { status, response } });
  }

  private decode(client: Client, data: RawData): Frame | null {
    try {
      const v = JSON.parse(data.toString());
      if (client.vsn === '2.0.0') {
        if (!Array.isArray(v)) return null;
        const [join_ref, ref, topic, event, payload] = v;
        return { join_ref, ref, topic, event, payload: payload ?? {} };
      }
      return { join_ref: v.join_ref ?? null, ref: v.ref ?? null, topic: v.topic, event: v.event, payload: v.payload ?? {} };
    } catch {
      return null;
    }
  }

  private async onMessage(client: Client, data: RawData): Promise<void> {
    const frame = this.decode(client, data);
    if (!frame || typeof frame.topic !== 'string' || typeof frame.event !== 'string') return;
    if (frame.topic === 'phoenix' && frame.event === 'heartbeat') return this.reply(client, frame, 'ok', {});
    switch (frame.event) {
      case 'phx_join':
        return this.join(client, frame);
      case 'phx_leave':
        return this.leave(client, frame);
      case 'access_token':
        return this.refreshToken(client, frame);
      default:
        if (!client.channels.has(frame.topic)) return this.reply(client, frame, 'error', { reason: 'unmatched topic' });
        // Broadcast and presence are not used by Cairn: acknowledged and ignored.
        return this.reply(client, frame, 'ok', {});
    }
  }

  private async claimsFor(token: unknown): Promise<AccessTokenClaims> {
    return verifyJwt(this.opts.jwtSecret, typeof token === 'string' && token ? token : this.opts.anonKey);
  }

  private async join(client: Client, frame: Frame): Promise<void> {
    const payload = frame.payload;
    let claims: AccessTokenClaims;
    try {
      claims = await this.claimsFor(payload.access_token);
    } catch (err) {
      const reason = err instanceof JwtError && err.problem === 'expired' ? 'InvalidJWTToken: Token has expired' : 'InvalidJWTToken: Invalid token';
      return this.reply(client, frame, 'error', { reason });
    }
    const config = (payload.config ?? {}) as { postgres_changes?: unknown };
    const wanted = Array.isArray(config.postgres_changes) ? config.postgres_changes : [];
    const bindings: Binding[] = [];
    for (const w of wanted) {
      const f = (w ?? {}) as Record<string, unknown>;
      const filter = typeof f.filter === 'string' && f.filter ? f.filter : undefined;
      if (filter && !parseFilter(filter)) {
        return this.reply(client, frame, 'error', { reason: `Error parsing \`filter\` params: ${filter}` });
      }
      const event = typeof f.event === 'string' ? f.event : '*';
      const schema = typeof f.schema === 'string' ? f.schema : 'public';
      const table = typeof f.table === 'string' ? f.table : undefined;
      bindings.push({ id: bindingId(event, schema, table, filter), event, schema, table, filter });
    }
    const previous = client.channels.get(frame.topic);
    if (previous?.expiryTimer) clearTimeout(previous.expiryTimer);
    const channel: Channel = { topic: frame.topic, joinRef: frame.join_ref ?? frame.ref, claims, bindings, expiryTimer: null };
    client.channels.set(frame.topic, channel);
    this.armExpiry(client, channel);
    this.reply(client, frame, 'ok', {
      postgres_changes: bindings.map((b) => ({ id: b.id, event: b.event, schema: b.schema, table: b.table, ...(b.filter ? { filter: b.filter } : {}) })),
    });
    if (bindings.length > 0) {
      this.send(client, {
        join_ref: channel.joinRef,
        ref: null,
        topic: frame.topic,
        event: 'system',
        payload: { channel: frame.topic.replace(/^realtime:/, ''), extension: 'postgres_changes', message: 'Subscribed to PostgreSQL', status: 'ok' },
      });
    }
  }

  private leave(client: Client, frame: Frame): void {
    const channel = client.channels.get(frame.topic);
    if (channel?.expiryTimer) clearTimeout(channel.expiryTimer);
    client.channels.delete(frame.topic);
    this.reply(client, frame, 'ok', {});
    this.send(client, { join_ref: channel?.joinRef ?? frame.join_ref, ref: frame.ref, topic: frame.topic, event: 'phx_close', payload: {} });
  }

  private async refreshToken(client: Client, frame: Frame): Promise<void> {
    const channel = client.channels.get(frame.topic);
    if (!channel) return;
    try {
      channel.claims = await this.claimsFor(frame.payload.access_token);
      this.armExpiry(client, channel);
    } catch (err) {
      const message = err instanceof JwtError && err.problem === 'expired' ? 'Token has expired' : 'Invalid JWT';
      this.closeChannel(client, channel, message);
    }
  }

  /** Realtime closes a channel when its JWT expires and no fresh token arrived. */
  private armExpiry(client: Client, channel: Channel): void {
    if (channel.expiryTimer) clearTimeout(channel.expiryTimer);
    channel.expiryTimer = null;
    if (typeof channel.claims.exp !== 'number') return;
    const ms = channel.claims.exp * 1000 - Date.now();
    // setTimeout cannot wait longer than 2^31-1 ms; a token that lives that long (the anon key) outlives the test.
    if (ms > MAX_TIMER_MS) return;
    channel.expiryTimer = setTimeout(() => this.closeChannel(client, channel, 'Token has expired'), Math.max(0, ms));
    channel.expiryTimer.unref();
  }

  private closeChannel(client: Client, channel: Channel, message: string): void {
    if (channel.expiryTimer) clearTimeout(channel.expiryTimer);
    if (client.channels.get(channel.topic) !== channel) return;
    client.channels.delete(channel.topic);
    this.send(client, {
      join_ref: channel.joinRef,
      ref: null,
      topic: channel.topic,
      event: 'system',
      payload: { channel: channel.topic.replace(/^realtime:/, ''), extension: 'system', message, status: 'error' },
    });
    this.send(client, { join_ref: channel.joinRef, ref: null, topic: channel.topic, event: 'phx_close', payload: {} });
  }

  private async columns(schema: string, table: string): Promise<{ name: string; type: string }[]> {
    const key = `${schema}.${table}`;
    let cols = this.columnCache.get(key);
    if (!cols) {
      const { rows } = await this.opts.db.query<{ name: string; type: string }>(
        `select a.attname as name, t.typname as type
           from pg_attribute a join pg_type t on t.oid = a.atttypid
          where a.attrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass and a.attnum > 0 and not a.attisdropped
          order by a.attnum`,
        [schema, table],
      );
      cols = rows;
      this.columnCache.set(key, cols);
    }
    return cols;
  }

  private async published(schema: string, table: string): Promise<boolean> {
    const { rows } = await this.opts.db.query<{ pub: boolean; listed: boolean }>(
      `select exists(select 1 from pg_publication where pubname = 'supabase_realtime') as pub,
              exists(select 1 from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = $1 and tablename = $2) as listed`,
      [schema, table],
    );
    const r = rows[0];
    return !r?.pub || r.listed;
  }

  private async deliver(change: Change): Promise<void> {
    const targets: { client: Client; channel: Channel; ids: number[] }[] = [];
    for (const client of this.clients) {
      for (const channel of client.channels.values()) {
        const ids = channel.bindings.filter((b) => matches(b, change)).map((b) => b.id);
        if (ids.length) targets.push({ client, channel, ids });
      }
    }
    if (targets.length === 0 || !(await this.published(change.schema, change.table))) return;
    const columns = await this.columns(change.schema, change.table);
    const keyNames = new Set(['id', 'session_id', 'project_id', 'team_id', 'user_id']);
    for (const t of targets) {
      let record: Record<string, unknown> = {};
      let oldRecord: Record<string, unknown> = {};
      if (change.op === 'DELETE') {
        oldRecord = Object.fromEntries(Object.entries(change.record).filter(([k]) => keyNames.has(k)));
      } else {
        const row = await this.visibleRow(t.channel.claims, change);
        if (!row) continue;
        record = row;
        if (change.op === 'UPDATE' && change.record.id !== undefined) oldRecord = { id: change.record.id };
      }
      // A binding's filter is checked on the row the subscriber may see.
      const ids = t.ids.filter((id) => {
        const b = t.channel.bindings.find((x) => x.id === id)!;
        return !b.filter || filterMatches(b.filter, change.op === 'DELETE' ? oldRecord : record);
      });
      if (ids.length === 0) continue;
      this.send(t.client, {
        join_ref: t.channel.joinRef,
        ref: null,
        topic: t.channel.topic,
        event: 'postgres_changes',
        payload: {
          ids,
          data: {
            schema: change.schema,
            table: change.table,
            commit_timestamp: change.at,
            type: change.op,
            columns,
            record,
            old_record: oldRecord,
            errors: null,
          },
        },
      });
    }
  }

  /** The row as the subscriber sees it under RLS, or null when their JWT may not read it. */
  private async visibleRow(claims: AccessTokenClaims, change: Change): Promise<Record<string, unknown> | null> {
    const id = change.record.id;
    if (id === undefined || id === null) return null;
    try {
      return await asUser(this.opts.db, claims, async (tx) => {
        const { rows } = await tx.query<{ row: Record<string, unknown> }>(
          `select to_jsonb(t) as row from ${quote(change.schema)}.${quote(change.table)} t where t.id::text = $1`,
          [String(id)],
        );
        return rows[0]?.row ?? null;
      });
    } catch {
      return null;
    }
  }
}

function quote(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function parseChange(payload: string): Change | null {
  try {
    const v = JSON.parse(payload) as Record<string, unknown>;
    const op = String(v.op ?? v.type ?? '').toUpperCase();
    if (typeof v.table !== 'string' || (op !== 'INSERT' && op !== 'UPDATE' && op !== 'DELETE')) return null;
    const record = (v.record ?? v.new ?? v.old ?? {}) as Record<string, unknown>;
    return {
      schema: typeof v.schema === 'string' ? v.schema : 'public',
      table: v.table,
      op,
      record,
      at: typeof v.commit_timestamp === 'string' ? v.commit_timestamp : new Date().toISOString(),
    };
  } catch {
    return null;
  }
}

function matches(b: Binding, c: Change): boolean {
  if (b.schema !== '*' && b.schema !== c.schema) return false;
  if (b.table && b.table !== '*' && b.table !== c.table) return false;
  return b.event === '*' || b.event.toUpperCase() === c.op;
}

/** Realtime's filter syntax: `column=op.value` with eq, neq, lt, lte, gt, gte, in. */
function parseFilter(filter: string): { column: string; op: string; value: string } | null {
  const m = /^([a-zA-Z_][a-zA-Z0-9_]*)=(eq|neq|lt|lte|gt|gte|in)\.(.*)$/.exec(filter);
  return m ? { column: m[1]!, op: m[2]!, value: m[3]! } : null;
}

function filterMatches(filter: string, row: Record<string, unknown>): boolean {
  const f = parseFilter(filter);
  if (!f || !(f.column in row)) return false;
  const actual = row[f.column];
  const text = actual === null || actual === undefined ? 'null' : String(actual);
  switch (f.op) {
    case 'eq':
      return text === f.value;
    case 'neq':
      return text !== f.value;
    case 'in':
      return f.value.replace(/^\(|\)$/g, '').split(',').map((s) => s.trim().replace(/^"|"$/g, '')).includes(text);
    default: {
      const a = Number(actual);
      const b = Number(f.value);
      if (Number.isNaN(a) || Number.isNaN(b)) return false;
      return f.op === 'lt' ? a < b : f.op === 'lte' ? a <= b : f.op === 'gt' ? a > b : a >= b;
    }
  }
}
