/**
 * The one local user of a database the daemon owns (embedded, or a plain Postgres URL): a uuid kept in
 * `$CAIRN_HOME/local-user.json` and a row in auth.users, whose insert trigger makes the profile, so the
 * local user goes through exactly the RLS a team-mode user does.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { SqlDb } from './sql.js';
import type { StoreUser } from './types.js';

export const LOCAL_USER_EMAIL = 'local@cairn.invalid';
export const LOCAL_USER_FILE = 'local-user.json';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function readLocalUserId(home: string): Promise<string | null> {
  try {
    const v = JSON.parse(await readFile(join(home, LOCAL_USER_FILE), 'utf8')) as { id?: unknown };
    return typeof v.id === 'string' && UUID.test(v.id) ? v.id : null;
  } catch {
    return null;
  }
}

function displayName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'local';
  }
}

/**
 * Returns the local user, creating it on first start (with `proposed` as its id when `local-user.json` names
 * none). A database restored from a backup already holds its local user; that one wins over the file, so
 * restored sessions stay visible.
 */
export async function ensureLocalUser(home: string, db: SqlDb, proposed?: string): Promise<StoreUser> {
  const fromFile = await readLocalUserId(home);
  const id = await db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtext('cairn_local_user'))`);
    const { rows } = await tx.query<{ id: string }>(
      `select id::text as id from auth.users where email = $1 order by created_at limit 1`,
      [LOCAL_USER_EMAIL],
    );
    const existing = rows[0]?.id;
    if (existing) return existing;
    const fresh = fromFile ?? proposed ?? randomUUID();
    const name = displayName();
    await tx.query(
      `insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, raw_app_meta_data,
                               raw_user_meta_data, created_at, updated_at, is_anonymous)
       values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', $2, now(),
               '{"provider":"local","providers":["local"]}', $3, now(), now(), false)
       on conflict (id) do nothing`,
      [fresh, LOCAL_USER_EMAIL, JSON.stringify({ name, full_name: name, user_name: name })],
    );
    return fresh;
  });
  if (id !== fromFile) {
    await mkdir(home, { recursive: true });
    const file = join(home, LOCAL_USER_FILE);
    await writeFile(`${file}.tmp`, `${JSON.stringify({ id, email: LOCAL_USER_EMAIL }, null, 2)}\n`, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }
  return { id, email: LOCAL_USER_EMAIL, aal: 'aal1' };
}
