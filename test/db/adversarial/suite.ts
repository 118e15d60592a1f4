// The adversarial suite, generated from the catalog: every table of `public` × select / insert / upsert /
// update (column by column) / delete × every actor × a row of every scope, and every function of `public` ×
// every actor × arguments filled by name and type from every scope's rows (another tenant's ids, a private
// row's ids, unused ids). Each case runs exactly as PostgREST runs a request (one transaction, `role` and
// `request.jwt.claims` set with set_config) and is rolled back, so one world serves every case. The oracle
// (oracle.ts) judges what it returned, what its errors said, and every row it changed.
import { randomUUID } from 'node:crypto';
import { errorText, type Conn } from './conn.js';
import { ATTRIBUTION_OTHER, ATTRIBUTION_USERS, BOOKKEEPING, LAST_WRITER, INSTRUMENTATION, Oracle, captureTrigger, type Scope } from './oracle.js';
import { FUNCTIONS, matrixGaps } from './expectations.js';
import { ACTORS, MARKER, MODEL, buildWorld, claimsFor, marker, sha, type ActorName, type World } from './world.js';

interface Column {
  name: string;
  type: string;
  generated: boolean;
  identity: boolean;
  pk: boolean;
  /** The referenced table when the column is a one-column foreign key. */
  ref: string | null;
  /** Allowed values, when a check constraint lists them. */
  values: string[] | null;
  /** Whether `authenticated` may insert this column (table- or column-level grant). */
  insertable: boolean;
}
interface Table {
  name: string;
  columns: Column[];
  pk: string[];
}
interface Arg {
  name: string;
  type: string;
}
interface Fn {
  name: string;
  signature: string;
  args: Arg[];
  returnsSet: boolean;
}
interface BaseRow {
  table: string;
  pk: string;
  row: Record<string, unknown>;
  scope: Scope;
}

export interface Finding {
  rule: string;
  actor: ActorName;
  target: string;
  what: string;
}

interface Outcome {
  ok: boolean;
  text: string;
  code?: string;
  signature: string;
  changed: number;
}

type Case = {
  actor: ActorName;
  /** `table.op` or `function(args)`, for grouping and for the report. */
  target: string;
  group: string;
  sql: string;
  params: unknown[];
  /** Direct table writes are held to the attribution rules too. */
  direct: boolean;
  /** Rows this case aims at, with their scopes (for the existence comparison). */
  aims: Scope[];
  /** The control case whose outcome a hidden aim must match (same statement, unused ids). */
  control?: string;
  key?: string;
  /** The function a call case calls. */
  fn?: string;
};

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const NOW_PROBE = 'select now()::text as now';

export class Adversary {
  readonly oracle: Oracle;
  readonly findings: Finding[] = [];
  cases = 0;
  private tables: Table[] = [];
  private functions: Fn[] = [];
  private readonly base = new Map<string, BaseRow>();
  private readonly byTable = new Map<string, BaseRow[]>();
  private readonly idScope = new Map<string, Scope>();
  private readonly outcomes = new Map<string, Outcome>();
  private readonly unknownArgs = new Set<string>();

  private constructor(
    private readonly db: Conn,
    readonly world: World,
  ) {
    this.oracle = new Oracle(world);
  }

  /** Builds the world, reads the catalog and installs the change capture. */
  static async prepare(db: Conn): Promise<Adversary> {
    const world = await buildWorld(db);
    const adv = new Adversary(db, world);
    await adv.readCatalog();
    await db.exec(INSTRUMENTATION + adv.tables.map((t) => captureTrigger(t.name)).join('\n'));
    await adv.snapshot();
    for (const f of adv.functions) for (const a of f.args) adv.candidates(f, a, 'A.member');
    return adv;
  }

  /** Tables, functions and arguments the expectation matrix (expectations.ts) and the generators do not cover. */
  gaps(): string[] {
    return matrixGaps(this.tables.map((t) => t.name), [...new Set(this.functions.map((f) => f.name))], [...this.unknownArgs]);
  }

  private async readCatalog(): Promise<void> {
    const { rows: cols } = await this.db.query<{ t: string; c: string; type: string; gen: boolean; ident: boolean; pk: boolean; ref: string | null; chk: string | null; ins: boolean }>(`
      select c.relname as t, a.attname as c, format_type(a.atttypid, a.atttypmod) as type,
             has_column_privilege('authenticated', c.oid, a.attnum, 'INSERT') as ins,
             a.attgenerated <> '' as gen, a.attidentity <> '' as ident,
             exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisprimary and a.attnum = any (i.indkey)) as pk,
             (select f.confrelid::regclass::text from pg_constraint f where f.conrelid = c.oid and f.contype = 'f'
                 and f.conkey = array[a.attnum] limit 1) as ref,
             (select string_agg(pg_get_constraintdef(k.oid), ' ') from pg_constraint k where k.conrelid = c.oid and k.contype = 'c'
                 and k.conkey = array[a.attnum]) as chk
        from pg_class c join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
       where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
       order by c.relname, a.attnum`);
    const tables = new Map<string, Table>();
    for (const r of cols) {
      const t = tables.get(r.t) ?? { name: r.t, columns: [], pk: [] };
      tables.set(r.t, t);
      const list = r.chk ? /ANY \(ARRAY\[(.*?)\]\)/.exec(r.chk) : null;
      const values = list ? [...list[1]!.matchAll(/'([^']*)'::text/g)].map((m) => m[1]!) : null;
      t.columns.push({ name: r.c, type: r.type, generated: r.gen, identity: r.ident, pk: r.pk, ref: r.ref?.replace(/^public\./, '') ?? null, values, insertable: r.ins });
      if (r.pk) t.pk.push(r.c);
    }
    this.tables = [...tables.values()];
    const { rows: fns } = await this.db.query<{ name: string; sig: string; names: string[] | null; modes: string[] | null; types: string[]; set: boolean }>(`
      select p.proname as name, format('%s(%s)', p.proname, pg_get_function_identity_arguments(p.oid)) as sig,
             p.proargnames as names, p.proargmodes::text[] as modes, p.proretset as set,
             array(select format_type(t, null) from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality as x(t, i) order by i) as types
        from pg_proc p
       where p.pronamespace = 'public'::regnamespace and p.prokind = 'f'
         and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
         and p.prorettype <> 'trigger'::regtype
       order by 2`);
    this.functions = fns.map((f) => ({
      name: f.name,
      signature: f.sig,
      returnsSet: f.set,
      args: (f.names ?? [])
        .map((n, i) => ({ name: n, type: f.types[i]!, mode: f.modes?.[i] ?? 'i' }))
        .filter((a) => a.mode === 'i' || a.mode === 'b')
        .map(({ name, type }) => ({ name, type })),
    }));
  }

  private pkOf(table: Table, row: Record<string, unknown>): string {
    return table.pk.map((c) => String(row[c])).join('|');
  }

  private async snapshot(): Promise<void> {
    for (const t of this.tables) {
      const { rows } = await this.db.query<{ r: Record<string, unknown>; s: Scope | null }>(
        `select to_jsonb(x) - 'fts' - 'embedding' as r, adversary.scope($1, to_jsonb(x)) as s from public.${t.name} x`,
        [t.name],
      );
      const list: BaseRow[] = [];
      for (const { r, s } of rows) {
        if (!s) throw new Error(`The oracle has no scope for table public.${t.name}: add it to adversary.scope in oracle.ts`);
        const b = { table: t.name, pk: this.pkOf(t, r), row: r, scope: s };
        this.base.set(`${t.name}:${b.pk}`, b);
        list.push(b);
        if (typeof r.id === 'string') this.idScope.set(r.id, t.name === 'profiles' ? { kind: 'profile', user: r.id } : s);
      }
      this.byTable.set(t.name, list);
    }
  }

  /** One row per distinct scope of a table, the most telling first (other tenants, private rows), at most `cap`. */
  private targets(table: string, cap = 5): BaseRow[] {
    const seen = new Map<string, BaseRow>();
    const w = this.world;
    const rank = (s: Scope) => {
      const order = [w.teams.A.id, w.teams.B.id, w.users['A.member'].id, w.users.outsider.id, w.users.removed.id, w.users.demoted.id, w.teams.C.id, w.users.invitee.id];
      const i = order.indexOf((s.team as string) ?? '') >= 0 && s.kind !== 'user' ? order.indexOf(s.team as string) : order.indexOf((s.user as string) ?? '');
      return i < 0 ? 99 : i;
    };
    for (const b of this.byTable.get(table) ?? []) {
      const key = JSON.stringify(b.scope);
      if (!seen.has(key)) seen.set(key, b);
    }
    return [...seen.values()].sort((x, y) => rank(x.scope) - rank(y.scope)).slice(0, cap);
  }

  private writeMarker(actor: ActorName): string {
    return marker(`w${actor.replace(/[^a-z0-9]/gi, '').toLowerCase()}`);
  }

  /** A clone of `row` as `actor` would write it: new key, own attribution (or a stranger's when hostile). */
  private clone(t: Table, row: Record<string, unknown>, actor: ActorName, opts: { keepPk: boolean; hostile: boolean }): Record<string, unknown> {
    const me = this.oracle.userId(actor);
    const stranger = actor === 'outsider' ? this.world.users['A.owner'].id : this.world.users.outsider.id;
    const out: Record<string, unknown> = {};
    const wm = this.writeMarker(actor);
    // An honest writer leaves out the columns it may not write (the database fills them); a hostile one sends
    // them all.
    const anyInsertable = t.columns.some((c) => c.insertable);
    for (const c of t.columns) {
      if (c.generated || c.identity) continue;
      if (!opts.hostile && !opts.keepPk && anyInsertable && !c.insertable) continue;
      let v = row[c.name];
      if (c.pk && !opts.keepPk) {
        if (c.type === 'uuid' && !c.ref) v = randomUUID();
        else if (c.ref === 'users' || c.name === 'user_id') v = me ?? v;
      } else if (ATTRIBUTION_USERS.includes(c.name) && !c.pk && c.ref === 'users') {
        v = opts.hostile ? stranger : (me ?? v);
      } else if (c.name === 'created_at' || c.name === 'updated_at') {
        if (!opts.hostile) continue;
        v = '2000-01-01T00:00:00+00:00';
      } else if (c.name === 'seq') {
        v = opts.hostile ? 2147483647 : Number(v) + 1000;
      } else if (typeof v === 'string') {
        v = /^[0-9a-f]{64}$/.test(v) ? sha(randomUUID()) : v.replace(MARKER, wm);
      }
      out[c.name] = v;
    }
    return out;
  }

  /** `row` with every key column that is not a reference given an unused value (null when all are references). */
  private unusedKey(t: Table, row: Record<string, unknown>): Record<string, unknown> | null {
    const own = t.columns.filter((c) => c.pk && !c.ref);
    if (own.length === 0) return null;
    const out = { ...row };
    for (const c of own) out[c.name] = c.type === 'uuid' ? randomUUID() : `${String(row[c.name])}-unused-${randomUUID().slice(0, 8)}`;
    return out;
  }

  private insertSql(t: Table, row: Record<string, unknown>, upsert: boolean): string {
    const cols = Object.keys(row).map((c) => `"${c}"`).join(', ');
    let sql = `insert into public.${t.name} (${cols}) select ${cols} from jsonb_populate_record(null::public.${t.name}, $1::jsonb)`;
    if (upsert) {
      const set = Object.keys(row).filter((c) => !t.pk.includes(c)).map((c) => `"${c}" = excluded."${c}"`);
      sql += ` on conflict (${t.pk.map((c) => `"${c}"`).join(', ')}) do ${set.length ? `update set ${set.join(', ')}` : 'nothing'}`;
    }
    return `${sql} returning to_jsonb(${t.name}.*) - 'fts' - 'embedding' as r`;
  }

  private where(t: Table, b: BaseRow, first: number): { sql: string; params: unknown[] } {
    const params: unknown[] = [];
    const sql = t.pk
      .map((c) => {
        params.push(b.row[c]);
        const col = t.columns.find((x) => x.name === c)!;
        return `"${c}" = $${first + params.length - 1}::${col.type}`;
      })
      .join(' and ');
    return { sql, params };
  }

  /** Values to set a column to: another scope's id for a reference, every other listed value, a hostile one else. */
  private newValues(t: Table, c: Column, b: BaseRow, actor: ActorName): unknown[] {
    const cur = b.row[c.name];
    if (c.values) return c.values.filter((v) => v !== cur);
    if (c.ref) {
      const other = this.targets(c.ref === 'users' ? 'profiles' : c.ref, 8).find((x) => JSON.stringify(x.scope) !== JSON.stringify(b.scope) && x.row.id !== cur);
      return other ? [other.row.id] : [];
    }
    if (c.type === 'uuid') return [randomUUID()];
    if (c.type.startsWith('timestamp')) return ['2000-01-01T00:00:00+00:00'];
    if (c.type === 'integer' || c.type === 'bigint') return [2147483647];
    if (c.type === 'real' || c.type === 'double precision') return [1];
    if (c.type === 'boolean') return [!cur];
    if (c.type === 'jsonb' || c.type === 'json') return [JSON.stringify({ w: this.writeMarker(actor) })];
    if (c.type.endsWith('[]')) return ['{}'];
    if (c.type.includes('vector')) return ['[0,0,0,1]'];
    return [`w-${this.writeMarker(actor)}`];
  }

  /** Every case of the suite, generated from the catalog and the world. */
  *generate(): Generator<Case> {
    for (const t of this.tables) {
      for (const actor of ACTORS) {
        yield { actor, target: `${t.name}.select`, group: t.name, sql: `select to_jsonb(x) - 'fts' - 'embedding' as r from public.${t.name} x`, params: [], direct: true, aims: [] };
        for (const b of this.targets(t.name)) {
          const at = `${t.name}[${this.describe(b.scope)}]`;
          const identity = t.columns.some((c) => c.identity && c.pk);
          const honest = this.clone(t, b.row, actor, { keepPk: false, hostile: false });
          yield { actor, target: `${at}.insert`, group: t.name, sql: this.insertSql(t, honest, false), params: [JSON.stringify(honest)], direct: true, aims: [] };
          if (t.columns.some((c) => ATTRIBUTION_USERS.includes(c.name) || ATTRIBUTION_OTHER.includes(c.name))) {
            const hostile = this.clone(t, b.row, actor, { keepPk: false, hostile: true });
            yield { actor, target: `${at}.insert(attribution)`, group: t.name, sql: this.insertSql(t, hostile, false), params: [JSON.stringify(hostile)], direct: true, aims: [] };
          }
          for (const c of t.columns.filter((x) => x.values && !x.pk && this.oracle.canRead(actor, b.scope))) {
            for (const v of c.values!.filter((x) => x !== honest[c.name])) {
              const row = { ...honest, [c.name]: v };
              yield { actor, target: `${at}.insert(${c.name}=${v})`, group: t.name, sql: this.insertSql(t, row, false), params: [JSON.stringify(row)], direct: true, aims: [] };
            }
          }
          if (!identity) {
            // Rule 8: the same row under a hidden row's key and under an unused key must end alike.
            const same = this.clone(t, b.row, actor, { keepPk: true, hostile: false });
            const unused = this.unusedKey(t, same);
            for (const upsert of [false, true]) {
              const op = upsert ? 'upsert' : 'insert(same key)';
              const controlKey = `${actor}:${at}:${op}:unused`;
              if (unused) yield { actor, target: `${at}.${op}(unused key)`, group: t.name, sql: this.insertSql(t, unused, upsert), params: [JSON.stringify(unused)], direct: true, aims: [], key: controlKey };
              yield { actor, target: `${at}.${op}`, group: t.name, sql: this.insertSql(t, same, upsert), params: [JSON.stringify(same)], direct: true, aims: [b.scope], control: unused ? controlKey : undefined };
            }
          }
          // Column by column where the actor can see the row (what a column rule decides); a row it cannot see
          // is tried with one column (its policies hide it whatever the column).
          const columns = t.columns.filter((x) => !x.generated && !x.identity);
          const seen = this.oracle.canRead(actor, b.scope);
          for (const c of seen ? columns : columns.filter((x) => !x.pk).slice(0, 1)) {
            for (const v of this.newValues(t, c, b, actor).slice(0, seen ? undefined : 1)) {
              const w = this.where(t, b, 2);
              yield {
                actor,
                target: `${at}.update(${c.name})`,
                group: t.name,
                sql: `update public.${t.name} set "${c.name}" = $1::${c.type} where ${w.sql} returning to_jsonb(${t.name}.*) - 'fts' - 'embedding' as r`,
                params: [v, ...w.params],
                direct: true,
                aims: [],
              };
            }
          }
          const w = this.where(t, b, 1);
          yield { actor, target: `${at}.delete`, group: t.name, sql: `delete from public.${t.name} where ${w.sql} returning 1`, params: w.params, direct: true, aims: [] };
        }
      }
    }
    for (const f of this.functions) {
      for (const actor of ACTORS) yield* this.functionCases(f, actor);
    }
  }

  private describe(s: Scope): string {
    const w = this.world;
    const team = Object.entries(w.teams).find(([, v]) => v.id === s.team)?.[0];
    const user = Object.entries(w.users).find(([, v]) => v.id === s.user)?.[0];
    return [s.kind, team, user].filter(Boolean).join(' ');
  }

  /** Candidate values of one argument, each with the scope it belongs to (null: fresh, unused). */
  private candidates(fn: Fn, a: Arg, actor: ActorName): Array<{ v: unknown; scope: Scope | null }> {
    const w = this.world;
    type Candidate = { v: unknown; scope: Scope | null };
    const fresh = (v: unknown): Candidate => ({ v, scope: null });
    const known = (v: string): Candidate => ({ v, scope: this.textScope(v) });
    const wm = this.writeMarker(actor);
    const byName: Record<string, () => Array<{ v: unknown; scope: Scope | null }>> = {
      p_git_remote: () => [...w.texts.remotes.slice(0, 2), w.texts.remotes.at(-2)!].map(known).concat(fresh(`github.com/w/${randomUUID()}`)),
      p_root_uri: () => [...w.texts.roots.slice(0, 2), w.texts.roots.at(-2)!].map(known).concat(fresh(`file:///w/${randomUUID()}`)),
      p_slug: () => w.texts.slugs.slice(0, 2).map(known).concat(fresh(`w-${randomUUID().slice(0, 8)}`)),
      p_key_hash: () => w.texts.keyHashes.slice(-2).map((v): Candidate => ({ v, scope: { kind: 'user', user: null } })).concat(fresh(sha(randomUUID()))),
      p_email: () => [w.users['B.member'].email, w.users.outsider.email].map(known).concat(fresh(`w-${randomUUID().slice(0, 8)}@example.test`)),
      p_role: () => [fresh('owner'), fresh('system')],
      p_visibility: () => [fresh('team')],
      p_status: () => [fresh('complete')],
      p_kind: () => [fresh('file')],
      p_embedding_model: () => [fresh(MODEL)],
      p_query: () => [fresh('tenant alpha')],
      p_query_embedding: () => [fresh('[1,0,0,0]')],
      p_prefix: () => [fresh('cairn_w')],
      p_model: () => [fresh('gpt')],
      p_limit: () => [fresh(100)],
      p_patch: () => [fresh({ description: `w ${wm}` })],
      p_metadata: () => [fresh({})],
      p_source: () => [fresh(this.kbSource())],
      p_chunks: () => [fresh(this.kbChunks(wm))],
      p_sources: () => [fresh([{ source: this.kbSource(), chunks: this.kbChunks(wm) }])],
      p_items: () => [fresh(this.kbUris().map((uri) => ({ uri, size_bytes: 1, mtime_ms: 2 })))],
      p_uris: () => [fresh(this.kbUris())],
      p_hashes: () => [fresh((this.byTable.get('kb_chunks') ?? []).map((c) => c.row.content_hash))],
      p_kinds: () => [fresh(['file'])],
      p_tools: () => [fresh([])],
      p_stale_after_seconds: () => [fresh(0)],
    };
    if (byName[a.name]) return byName[a.name]!();
    if (a.type === 'uuid') {
      const table = this.tableForArg(a.name);
      if (table) {
        const rows = table === 'profiles' ? this.userTargets() : this.targets(table, 4);
        return rows.map((b): Candidate => ({ v: b.row.id, scope: table === 'profiles' ? { kind: 'profile', user: b.row.id as string } : b.scope })).concat(fresh(randomUUID()));
      }
      return [fresh(randomUUID())];
    }
    if (a.type === 'text') return [fresh(`w ${wm}`)];
    if (a.type === 'integer' || a.type === 'bigint') return a.name.includes('before') ? [fresh(null)] : [fresh(a.name.includes('seq') ? 0 : 1)];
    if (a.type === 'real' || a.type === 'double precision') return [fresh(0.5)];
    if (a.type === 'boolean') return [fresh(true)];
    if (a.type.endsWith('[]')) return [fresh([])];
    if (a.type === 'jsonb' || a.type === 'json') return [fresh({})];
    if (a.type.startsWith('timestamp')) return [fresh(null)];
    this.unknownArgs.add(`${fn.name}(${a.name} ${a.type})`);
    return [fresh(null)];
  }

  private userTargets(): BaseRow[] {
    const w = this.world;
    return (['A.member', 'B.member', 'outsider', 'invitee', 'removed'] as const).map((n) => this.base.get(`profiles:${w.users[n].id}`)!);
  }

  private kbUris(): string[] {
    return (this.byTable.get('kb_sources') ?? []).map((s) => s.row.uri as string);
  }

  private kbSource() {
    return { kind: 'file', uri: 'src/w.ts', title: 'w', content_hash: sha('w'), size_bytes: 1, mtime_ms: 1, embedding_model: MODEL, embedding_dims: 4 };
  }

  private kbChunks(wm: string) {
    return [{ ordinal: 0, start_line: 1, end_line: 1, content: `w ${wm}`, content_hash: sha('w0'), token_count: 1, embedding: '[0,0,1,0]' }];
  }

  private tableForArg(name: string): string | null {
    const stem = name.replace(/^p_/, '').replace(/_id$/, '');
    if (stem === 'user') return 'profiles';
    const hit = this.tables.find((t) => t.name === `${stem}s` || t.name.endsWith(`_${stem}s`));
    return hit?.name ?? null;
  }

  private textScope(v: string): Scope | null {
    const codes = [...v.matchAll(MARKER)].map((m) => this.oracle.markerScope(m[1]!));
    const s = codes.find((c) => c && c !== 'free');
    return (s as Scope) ?? null;
  }

  private *functionCases(f: Fn, actor: ActorName): Generator<Case> {
    const lists = f.args.map((a) => this.candidates(f, a, actor));
    const controlKey = `${actor}:${f.signature}:fresh`;
    // The control first (every argument at its last candidate: fresh, unused); then each argument alone at
    // each of its other candidates (the rest fresh), so that a difference from the control is that argument's
    // doing; then the arguments together, row by row (the i-th candidates of all, so that related ids of one
    // scope meet and the call reaches past its first check).
    const fresh = lists.map((l) => l.length - 1);
    const picks: number[][] = [fresh];
    lists.forEach((l, a) => {
      for (let i = 0; i < l.length - 1; i++) picks.push(fresh.map((f0, b) => (b === a ? i : f0)));
    });
    const rows = Math.max(0, ...lists.map((l) => l.length - 1));
    if (lists.length > 1) for (let i = 0; i < rows; i++) picks.push(lists.map((l) => Math.min(i, l.length - 1)));
    for (let n = 0; n < picks.length; n++) {
      const chosen = lists.map((l, a) => l[picks[n]![a]!]!);
      const params: unknown[] = [];
      const named = f.args.map((a, i) => {
        const v = chosen[i]!.v;
        params.push(v !== null && (a.type === 'jsonb' || a.type === 'json') ? JSON.stringify(v) : v);
        return `${a.name} => $${i + 1}::${a.type}`;
      });
      const call = `public.${f.name}(${named.join(', ')})`;
      const sql = f.returnsSet ? `select to_jsonb(r) as r from ${call} as r` : `select to_jsonb(${call}) as r`;
      const aims = chosen.map((c) => c.scope).filter((s): s is Scope => s !== null);
      const label = f.args.map((a, i) => `${a.name}=${this.label(chosen[i]!)}`).join(', ');
      const isControl = n === 0;
      yield { actor, target: `${f.name}(${label})`, group: f.signature, fn: f.name, sql, params, direct: false, aims, control: isControl ? undefined : controlKey, key: isControl ? controlKey : undefined };
    }
  }

  private label(c: { v: unknown; scope: Scope | null }): string {
    if (c.scope) return this.describe(c.scope);
    return typeof c.v === 'string' && c.v.length < 24 ? JSON.stringify(c.v) : 'fresh';
  }

  /** Runs one case and judges it; returns the outcome. */
  async run(c: Case): Promise<Outcome> {
    this.cases++;
    const claims = claimsFor(this.world, c.actor, 'aal2');
    const role = c.actor === 'anon' ? 'anon' : 'authenticated';
    await this.db.query(`begin`);
    let outcome: Outcome;
    try {
      await this.db.query(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), set_config('request.method', 'POST', true)`, [role, JSON.stringify(claims)]);
      let text: string;
      let ok = true;
      let code: string | undefined;
      let rows: unknown[] = [];
      try {
        rows = (await this.db.query(c.sql, c.params)).rows;
        text = JSON.stringify(rows);
      } catch (err) {
        ok = false;
        code = (err as { code?: string }).code;
        text = errorText(err);
        if (!code) throw err;
      }
      outcome = { ok, text, code, signature: this.signature(ok, code, text, rows.length), changed: 0 };
      this.checkLeaks(c, text, ok ? 'result' : 'error');
      if (ok) outcome.changed = await this.checkChanges(c);
    } finally {
      await this.db.query('rollback');
    }
    if (c.key) this.outcomes.set(c.key, outcome);
    if (c.control && c.aims.length > 0 && c.aims.every((s) => !this.oracle.canRead(c.actor, s))) {
      const control = this.outcomes.get(c.control);
      if (control && control.signature !== outcome.signature) {
        this.find(c, '8', `a hidden row is told from a missing one: ${this.short(outcome.signature)} vs unused id: ${this.short(control.signature)}`);
      }
    }
    return outcome;
  }

  private signature(ok: boolean, code: string | undefined, text: string, n: number): string {
    if (ok) return `ok:${n > 0 ? 'rows' : 'none'}`;
    const message = text.split('\n')[0]!.replace(UUID, '<id>').replace(MARKER, '<m>').replace(/"[^"]*"/g, '<q>');
    return `${code}:${message}`;
  }

  private short(s: string): string {
    return s.length > 140 ? `${s.slice(0, 140)}…` : s;
  }

  private find(c: Case, rule: string, what: string): void {
    this.findings.push({ rule, actor: c.actor, target: c.target, what });
  }

  /** Foreign markers and ids in `text` that the case did not supply itself. */
  private checkLeaks(c: Case, text: string, where: string): void {
    const supplied = JSON.stringify(c.params);
    const seen = new Set<string>();
    for (const m of text.matchAll(MARKER)) {
      const token = m[0];
      if (seen.has(token) || supplied.includes(token)) continue;
      seen.add(token);
      const s = this.oracle.markerScope(m[1]!);
      if (s === 'free' || s === null) continue;
      if (!this.oracle.canRead(c.actor, s)) this.find(c, this.leakRule(c, s), `${where} shows ${token} (${this.describe(s)})`);
    }
    for (const m of text.matchAll(UUID)) {
      const id = m[0];
      if (seen.has(id) || supplied.includes(id)) continue;
      seen.add(id);
      const s = this.idScope.get(id);
      if (s && !this.oracle.canKnowId(c.actor, s)) this.find(c, this.leakRule(c, s), `${where} shows the id of a ${this.describe(s)} row`);
    }
  }

  private leakRule(c: Case, s: Scope): string {
    if (c.target.startsWith('audit_log') || c.target.includes('audit')) return '3';
    if ((c.actor === 'removed' || c.actor === 'demoted') && (s.kind === 'team' || s.kind === 'member')) return '4';
    if (/^(ensure_project|choose_project)/.test(c.target)) return '2';
    if (s.kind === 'profile' || s.kind === 'email') return '1';
    return 'unnamed';
  }

  /** Judges every row the case changed; returns how many. */
  private async checkChanges(c: Case): Promise<number> {
    const changes = await this.db.exec<{ tbl: string; op: string; old: Record<string, unknown> | null; new: Record<string, unknown> | null; scope: Scope | null; now: string }>(
      `reset role; select tbl, op, old, new, case when new is not null then adversary.scope(tbl, new) end as scope, now()::text as now from adversary.changes order by n`,
    );
    if (changes.length === 0) return 0;
    if (c.fn && FUNCTIONS[c.fn]?.kind === 'read') this.find(c, 'unnamed', `a read function changed ${[...new Set(changes.map((x) => `${x.tbl} (${x.op.toLowerCase()})`))].join(', ')}`);
    const me = this.oracle.userId(c.actor);
    const deleted = new Set(changes.filter((x) => x.op === 'DELETE').map((x) => String(x.old!.id)));
    const newTeams = new Set(changes.filter((x) => x.tbl === 'teams' && x.op === 'INSERT' && x.new!.created_by === me && me).map((x) => String(x.new!.id)));
    const now = new Date(changes[0]!.now).getTime();
    for (const x of changes) {
      const t = this.tables.find((tt) => tt.name === x.tbl)!;
      const row = (x.new ?? x.old)!;
      const before = x.old ? (this.base.get(`${x.tbl}:${this.pkOf(t, x.old)}`)?.scope ?? null) : null;
      const after = x.scope;
      const refsDeleted = t.columns.some((col) => col.ref && x.old && deleted.has(String(x.old[col.name])));
      if (x.op === 'DELETE') {
        if (refsDeleted) continue; // a cascade of a delete judged on its own
        if (c.fn === 'delete_my_account') {
          // Rows the case itself wrote, and the entries only the actor read (their private rows' audit), go too.
          if (!before || (before.kind === 'derived' && x.old!.user_id === me)) continue;
          if (!this.oracle.goesWithAccount(c.actor, before)) this.find(c, 'unnamed', `deleting the account deleted a ${x.tbl} row of ${before ? this.describe(before) : 'no known scope'}`);
          continue;
        }
        if (before && !this.oracle.canWrite(c.actor, before, 'delete', newTeams)) this.find(c, this.writeRule(c, x.tbl, before, row), `deleted a ${x.tbl} row of ${this.describe(before)}`);
        continue;
      }
      if (x.op === 'UPDATE') {
        const moved = Object.keys(x.new!).filter((k) => JSON.stringify(x.new![k]) !== JSON.stringify(x.old![k]));
        const cascade = moved.every((k) => BOOKKEEPING.includes(k) || (x.new![k] === null && t.columns.find((col) => col.name === k)?.ref));
        if (moved.length === 0 || cascade) continue;
        if (before && !this.oracle.canWrite(c.actor, before, 'update', newTeams)) this.find(c, this.writeRule(c, x.tbl, before, row), `changed ${moved.join(', ')} of a ${x.tbl} row of ${this.describe(before)}`);
        else if (after && JSON.stringify(after) !== JSON.stringify(before) && !this.oracle.canWrite(c.actor, after, 'insert', newTeams) && !this.oracle.canWrite(c.actor, after, 'update', newTeams))
          this.find(c, this.writeRule(c, x.tbl, after, row), `moved a ${x.tbl} row into ${this.describe(after)}`);
        if (x.tbl === 'projects' && moved.includes('team_id')) this.checkMove(c, x.old!, x.new!, changes);
        if (c.direct) {
          const self = (k: string) => LAST_WRITER.includes(k) && x.new![k] === me;
          for (const k of moved.filter((k) => (ATTRIBUTION_USERS.includes(k) && !self(k)) || ATTRIBUTION_OTHER.includes(k) || (x.tbl === 'profiles' && k === 'email')))
            this.find(c, k === 'created_at' ? '2' : '9', `rewrote ${x.tbl}.${k}`);
        }
        continue;
      }
      // INSERT
      if (after && !this.oracle.canWrite(c.actor, after, 'insert', newTeams)) this.find(c, this.writeRule(c, x.tbl, after, row), `inserted a ${x.tbl} row into ${this.describe(after)}`);
      if (x.tbl === 'messages' && x.new!.role === 'system') this.find(c, '5', 'stored a message with role system');
      if (c.direct) {
        for (const k of ATTRIBUTION_USERS) {
          const col = t.columns.find((cc) => cc.name === k);
          if (col?.ref === 'users' && !col.pk && x.new![k] !== null && x.new![k] !== me) this.find(c, '9', `inserted ${x.tbl}.${k} naming someone else`);
        }
        if (x.new!.created_at && Math.abs(new Date(String(x.new!.created_at)).getTime() - now) > 1000) this.find(c, '2', `inserted ${x.tbl}.created_at of its choosing`);
        if (x.new!.seq === 2147483647) this.find(c, '9', `inserted ${x.tbl}.seq of its choosing`);
      }
    }
    // What the case wrote into the audit log must show its reader nothing more (rule 3).
    const entries = changes.filter((x) => x.tbl === 'audit_log' && x.op === 'INSERT').map((x) => String(x.new!.id));
    if (entries.length > 0 && c.actor !== 'anon') {
      await this.db.query(`select set_config('role', 'authenticated', true)`);
      const { rows: audit } = await this.db.query<{ r: unknown }>('select to_jsonb(a) as r from public.audit_log a where a.id::text = any ($1::text[])', [entries]);
      const before = this.findings.length;
      this.checkLeaks({ ...c, target: `${c.target} → audit` }, JSON.stringify(audit), 'its audit entry');
      for (const f of this.findings.slice(before)) f.rule = '3';
    }
    return changes.length;
  }

  private checkMove(c: Case, old: Record<string, unknown>, now: Record<string, unknown>, changes: Array<{ tbl: string; op: string; new: Record<string, unknown> | null }>): void {
    const from = this.oracle.role(c.actor, old.team_id as string);
    const to = this.oracle.role(c.actor, now.team_id as string);
    if (old.team_id && from !== 'owner') this.find(c, '7', `moved a project out of ${this.describe({ kind: 'team', team: old.team_id as string })} as ${from ?? 'non-member'}`);
    if (now.team_id && to !== 'owner' && to !== 'admin') this.find(c, '7', `moved a project into ${this.describe({ kind: 'team', team: now.team_id as string })} as ${to ?? 'non-member'}`);
    const audited = (team: unknown) => changes.some((x) => x.tbl === 'audit_log' && x.op === 'INSERT' && x.new!.team_id === team);
    for (const team of [old.team_id, now.team_id].filter(Boolean)) {
      if (!audited(team)) this.find(c, '7', `moved a project without an audit entry in ${this.describe({ kind: 'team', team: team as string })}`);
    }
  }

  private writeRule(c: Case, table: string, s: Scope, row: Record<string, unknown>): string {
    if (table === 'team_members' && s.user !== this.oracle.userId(c.actor)) return '1';
    if (table === 'projects' && c.target.startsWith('set_project_team')) return '7';
    if (table === 'project_folders' || c.target.startsWith('ensure_project') || c.target.startsWith('choose_project')) return '2';
    if ((c.actor === 'removed' || c.actor === 'demoted') && s.team === this.world.teams.A.id) return '4';
    if (table === 'messages' && row.role === 'system') return '5';
    return 'unnamed';
  }
}
