/** `auth/createApiKey`, `auth/listApiKeys`, `auth/revokeApiKey`: rows of the SQL API shaped for the protocol. */
import type { ApiKey } from '../protocol/api-keys.js';
import type { Subsystem } from '../rpc/registry.js';

interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  project_ids: string[] | null;
  expires_at: string | null;
  last_used_at?: string | null;
  revoked_at?: string | null;
  created_at: string;
  use_count?: number | string;
}

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
