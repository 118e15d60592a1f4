/** `auth/createApiKey`, `auth/listApiKeys`, `auth/revokeApiKey`: rows of the SQL API shaped for the protocol. */
import type { ApiKey } from '../protocol/api-keys.js';
import type { Subsystem } from '../rpc/registry.js';
import type { RpcRow } from '../store/types.js';

/** A key as `list_api_keys` returns it; `create_api_key` returns the same columns (its `uses` are 0) and the key. */
type ApiKeyRow = Pick<RpcRow<'list_api_keys'>, 'id' | 'name' | 'prefix' | 'project_ids' | 'expires_at' | 'created_at'> &
  Partial<Pick<RpcRow<'list_api_keys'>, 'last_used_at' | 'revoked_at' | 'use_count'>>;

const iso = (t: string | null | undefined): string | null => (t ? new Date(t).toISOString() : null);

function toApiKey(r: ApiKeyRow): ApiKey {
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    projectIds: r.project_ids,
    expiresAt: iso(r.expires_at),
    lastUsedAt: iso(r.last_used_at),
    revokedAt: iso(r.revoked_at),
    createdAt: new Date(r.created_at).toISOString(),
    uses: Number(r.use_count ?? 0),
  };
}

export const registerApiKeys: Subsystem = async (registry) => {
  registry.handle('auth/createApiKey', async (p, { store }) => {
    // A function with OUT parameters is typed as a bare record by the generator.
    const row = (await store.rpc('create_api_key', {
      p_name: p.name,
      p_project_ids: p.projectIds,
      p_expires_at: p.expiresAt,
    })) as unknown as ApiKeyRow & { key: string };
    return { ...toApiKey(row), key: row.key };
  });
  registry.handle('auth/listApiKeys', async (_p, { store }) => (await store.rpc('list_api_keys')).map(toApiKey));
  registry.handle('auth/revokeApiKey', async (p, { store }) => {
    await store.rpc('revoke_api_key', { p_key_id: p.keyId });
    return { revoked: true as const };
  });
  return { dispose: async () => {} };
};
