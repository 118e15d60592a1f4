/**
 * The model gateway Edge Function for a test project: Deno runs supabase/functions/model-gateway as deployed,
 * with the env the Edge Runtime injects and the given secrets, behind `<project>/functions/v1/model-gateway`.
 */
import { startEdgeFunction, type EdgeFunction } from '../support/deno.js';
import { gatewayBaseUrl } from '../../daemon/src/workspace/gateway-config.js';
import type { Project } from './harness.js';

export interface ModelGateway {
  fn: EdgeFunction;
  /** The OpenAI-compatible base URL for a team (what the daemon hands ChatOpenAI and OpenAIEmbeddings). */
  baseUrlFor(teamId: string): string;
  stop(): Promise<void>;
}


export async function startModelGateway(project: Project, secrets: Record<string, string>): Promise<ModelGateway> {
  if (!project.servers || !project.serviceRoleKey) throw new Error('the local test project runs the function; a live project has it deployed');
  const fn = await startEdgeFunction('model-gateway', {
    SUPABASE_URL: project.url,
    SUPABASE_ANON_KEY: project.anonKey,
    SUPABASE_SERVICE_ROLE_KEY: project.serviceRoleKey,
    ...secrets,
  });
  project.servers.addFunction('model-gateway', fn.origin, { verifyJwt: true });
  return { fn, baseUrlFor: (teamId) => gatewayBaseUrl(project.url, teamId), stop: () => fn.stop() };
}
