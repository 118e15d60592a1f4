// The team model gateway: an OpenAI-compatible endpoint that members' daemons use instead of a model key of
// their own. Deploy with `supabase functions deploy model-gateway`; set the provider with
// `supabase secrets set CAIRN_PROVIDER_API_KEY=... [CAIRN_PROVIDER_BASE_URL=https://api.openai.com/v1]`.
//
//   POST /model-gateway/teams/<team id>/v1/chat/completions   (JSON or SSE streaming; tools passed through)
//   POST /model-gateway/teams/<team id>/v1/embeddings
//   GET  /model-gateway/teams/<team id>/v1/models              (the team's allowed models)
//
// The caller's Supabase access token is the bearer key: Auth says who it is (getUser), then the database, as
// service_role, admits the request against the team's settings (member, allowed model, rate and monthly
// budgets: public.model_gateway_admit) and records the provider's usage report (model_gateway_settle). The
// provider key is read from the function's secrets and sent only to the provider.
import { createClient } from 'npm:@supabase/supabase-js@2';

const SUPABASE_URL = Deno.env.get('SUPABASE_URL') ?? '';
const ANON_KEY = Deno.env.get('SUPABASE_ANON_KEY') ?? '';
const SERVICE_ROLE_KEY = Deno.env.get('SUPABASE_SERVICE_ROLE_KEY') ?? '';
const PROVIDER_BASE_URL = (Deno.env.get('CAIRN_PROVIDER_BASE_URL') || 'https://api.openai.com/v1').replace(/\/+$/, '');
const PROVIDER_API_KEY = Deno.env.get('CAIRN_PROVIDER_API_KEY') ?? '';
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const clientOptions = { auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false } };
const admin = createClient(SUPABASE_URL, SERVICE_ROLE_KEY, clientOptions);
const anon = createClient(SUPABASE_URL, ANON_KEY, clientOptions);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization, x-client-info, apikey, content-type',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
};

type Kind = 'chat' | 'embedding';

/** OpenAI's error body; `code` carries Cairn's SQLSTATE-like reason where a client acts on it (CR005). */
function error(status: number, message: string, type: string, code: string | null, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ error: { message, type, param: null, code } }), {
    status,
    headers: { 'content-type': 'application/json', ...CORS, ...headers },
  });
}

const REFUSALS: Record<string, { status: number; type: string; code: string | null; message: (a: Admission) => string }> = {
  not_member: { status: 403, type: 'permission_error', code: 'CR004', message: () => 'You are not a member of this team.' },
  not_configured: { status: 404, type: 'invalid_request_error', code: 'gateway_not_configured', message: () => 'This team has no model gateway configured.' },
  model_not_allowed: {
    status: 403,
    type: 'invalid_request_error',
    code: 'model_not_allowed',
    message: (a) => `This team does not allow that model; allowed: ${(a.allowed_models ?? []).join(', ') || 'none'}.`,
  },
  member_rate: { status: 429, type: 'rate_limit_exceeded', code: 'CR005', message: (a) => `Too many requests: over your team's request rate. Retry after ${a.retry_after_seconds} s.` },
  member_budget: { status: 429, type: 'insufficient_quota', code: 'CR005', message: (a) => `Over your monthly token budget in this team. Retry after ${a.retry_after_seconds} s.` },
  team_budget: { status: 429, type: 'insufficient_quota', code: 'CR005', message: (a) => `The team is over its monthly token budget. Retry after ${a.retry_after_seconds} s.` },
};

interface Admission {
  decision: string;
  usage_id: string | null;
  retry_after_seconds: number | null;
  allowed_models: string[] | null;
}

async function admit(userId: string, teamId: string, model: string, kind: Kind): Promise<Admission> {
  const { data, error: e } = await admin.rpc('model_gateway_admit', { p_user_id: userId, p_team_id: teamId, p_model: model, p_kind: kind });
  if (e) throw new Error(`admission failed: ${e.code ?? ''} ${e.message}`);
  const row = (Array.isArray(data) ? data[0] : data) as Admission | undefined;
  if (!row) throw new Error('admission returned nothing');
  return row;
}

async function settle(usageId: string, prompt: number, completion: number): Promise<void> {
  const { error: e } = await admin.rpc('model_gateway_settle', { p_usage_id: usageId, p_prompt_tokens: prompt, p_completion_tokens: completion });
  if (e) console.error(`usage not recorded for ${usageId}: ${e.code ?? ''} ${e.message}`);
}

async function readBody(req: Request): Promise<Record<string, unknown> | null> {
  const text = await req.text();
  if (text.length > MAX_BODY_BYTES) return null;
  try {
    const body = JSON.parse(text);
    return body && typeof body === 'object' && !Array.isArray(body) ? body : null;
  } catch {
    return null;
  }
}

function providerHeaders(): Record<string, string> {
  return { 'content-type': 'application/json', authorization: `Bearer ${PROVIDER_API_KEY}` };
}

/** A provider failure in the gateway's own words: a provider's body can quote part of the provider key. */
function providerFailure(status: number, retryAfter: string | null): Response {
  if (status === 401 || status === 403) {
    return error(502, 'The model provider refused the gateway\'s key; a team admin must set CAIRN_PROVIDER_API_KEY.', 'api_error', 'provider_auth');
  }
  if (status === 429) {
    return error(429, 'The model provider is rate limiting the team\'s gateway.', 'rate_limit_exceeded', 'provider_rate_limited', retryAfter ? { 'retry-after': retryAfter } : {});
  }
  if (status === 400 || status === 404 || status === 422) return error(status, `The model provider refused the request (HTTP ${status}).`, 'invalid_request_error', 'provider_refused');
  return error(502, `The model provider failed (HTTP ${status}).`, 'api_error', 'provider_error');
}

function usageOf(body: unknown): { prompt: number; completion: number } | null {
  const u = (body as { usage?: { prompt_tokens?: number; completion_tokens?: number } } | null)?.usage;
  if (!u || typeof u !== 'object') return null;
  return { prompt: Number(u.prompt_tokens ?? 0) || 0, completion: Number(u.completion_tokens ?? 0) || 0 };
}

/**
 * Relays the provider's SSE stream as it comes and reads its last usage chunk on the way. When the client
 * goes away the provider stream is still read to its end, so a cancelled reply is counted too.
 */
function relayStream(upstream: Response, usageId: string, estimatePrompt: number): Response {
  const reader = upstream.body!.getReader();
  const decoder = new TextDecoder();
  let attached = true;
  let buffer = '';
  let usage: { prompt: number; completion: number } | null = null;
  let chars = 0;
  const scan = (text: string) => {
    buffer += text;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data === '[DONE]') continue;
      try {
        const chunk = JSON.parse(data);
        usage = usageOf(chunk) ?? usage;
        for (const c of chunk.choices ?? []) {
          chars += String(c?.delta?.content ?? '').length;
          for (const t of c?.delta?.tool_calls ?? []) chars += String(t?.function?.arguments ?? '').length + String(t?.function?.name ?? '').length;
        }
      } catch {
        /* not JSON: passed through as is */
      }
    }
  };
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | null = null;
  const pump = (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        scan(decoder.decode(value, { stream: true }));
        if (attached) {
          try {
            controllerRef!.enqueue(value);
          } catch {
            attached = false;
          }
        }
      }
      if (attached) controllerRef!.close();
    } catch (e) {
      if (attached) controllerRef!.error(e);
    } finally {
      // No usage report (a provider without stream_options, or a cut stream): about 4 characters a token.
      const u = usage ?? { prompt: estimatePrompt, completion: Math.ceil(chars / 4) };
      await settle(usageId, u.prompt, u.completion);
    }
  })();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controllerRef = controller;
    },
    cancel() {
      attached = false;
    },
  });
  void pump;
  return new Response(body, {
    status: 200,
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...CORS },
  });
}

async function chatCompletions(body: Record<string, unknown>, usageId: string): Promise<Response> {
  const stream = body.stream === true;
  const forwarded = stream
    ? { ...body, stream_options: { ...(body.stream_options as object | undefined), include_usage: true } }
    : body;
  const upstream = await fetch(`${PROVIDER_BASE_URL}/chat/completions`, { method: 'POST', headers: providerHeaders(), body: JSON.stringify(forwarded) });
  if (!upstream.ok) {
    await upstream.body?.cancel();
    await settle(usageId, 0, 0);
    return providerFailure(upstream.status, upstream.headers.get('retry-after'));
  }
  const estimatePrompt = Math.ceil(JSON.stringify(body.messages ?? '').length / 4);
  if (stream) return relayStream(upstream, usageId, estimatePrompt);
  const json = await upstream.json();
  const u = usageOf(json) ?? { prompt: estimatePrompt, completion: 0 };
  await settle(usageId, u.prompt, u.completion);
  return new Response(JSON.stringify(json), { status: 200, headers: { 'content-type': 'application/json', ...CORS } });
}

async function embeddings(body: Record<string, unknown>, usageId: string): Promise<Response> {
  const upstream = await fetch(`${PROVIDER_BASE_URL}/embeddings`, { method: 'POST', headers: providerHeaders(), body: JSON.stringify(body) });
  if (!upstream.ok) {
    await upstream.body?.cancel();
    await settle(usageId, 0, 0);
    return providerFailure(upstream.status, upstream.headers.get('retry-after'));
  }
  const json = await upstream.json();
  const u = usageOf(json) ?? { prompt: Math.ceil(JSON.stringify(body.input ?? '').length / 4), completion: 0 };
  await settle(usageId, u.prompt, 0);
  return new Response(JSON.stringify(json), { status: 200, headers: { 'content-type': 'application/json', ...CORS } });
}

async function handle(req: Request): Promise<Response> {
  if (req.method === 'OPTIONS') return new Response('ok', { headers: CORS });
  const url = new URL(req.url);
  const m = /^\/model-gateway\/teams\/([^/]+)\/v1\/(chat\/completions|embeddings|models)\/?$/.exec(url.pathname);
  if (!m) return error(404, `No such endpoint: ${req.method} ${url.pathname}`, 'invalid_request_error', 'unknown_url');
  const [, teamId, endpoint] = m as unknown as [string, string, string];
  if (!UUID.test(teamId)) return error(404, 'No such team.', 'invalid_request_error', 'unknown_url');
  const expected = endpoint === 'models' ? 'GET' : 'POST';
  if (req.method !== expected) return error(405, `${endpoint} takes ${expected}.`, 'invalid_request_error', 'method_not_allowed');

  const token = /^Bearer\s+(.+)$/i.exec(req.headers.get('authorization') ?? '')?.[1];
  if (!token) return error(401, 'Sign in to Cairn: the gateway takes your Supabase access token as the API key.', 'invalid_request_error', 'invalid_api_key');
  const { data: who, error: authError } = await anon.auth.getUser(token);
  if (authError || !who?.user) return error(401, 'Your sign-in is not valid (expired or signed out).', 'invalid_request_error', 'invalid_api_key');
  const userId = who.user.id;

  if (endpoint === 'models') {
    // What this member may ask for: RLS on model_gateways, as the member.
    const asUser = createClient(SUPABASE_URL, ANON_KEY, { ...clientOptions, global: { headers: { authorization: `Bearer ${token}` } } });
    const { data: rows, error: e } = await asUser.rpc('get_model_gateway', { p_team_id: teamId });
    if (e) return error(502, 'Could not read the team\'s gateway settings.', 'api_error', null);
    const data = (Array.isArray(rows) ? rows[0] : rows) as { allowed_models: string[]; enabled: boolean } | undefined;
    if (!data || !data.enabled) return error(404, 'This team has no model gateway configured.', 'invalid_request_error', 'gateway_not_configured');
    const models = (data.allowed_models as string[]).map((id) => ({ id, object: 'model', created: 0, owned_by: 'cairn-team' }));
    return new Response(JSON.stringify({ object: 'list', data: models }), { headers: { 'content-type': 'application/json', ...CORS } });
  }

  const body = await readBody(req);
  if (!body) return error(400, 'The request body must be a JSON object (at most 4 MiB).', 'invalid_request_error', null);
  const model = typeof body.model === 'string' ? body.model : '';
  if (!model) return error(400, 'model is required.', 'invalid_request_error', null);
  if (!PROVIDER_API_KEY) return error(503, 'The team\'s gateway has no provider key: a team admin must set CAIRN_PROVIDER_API_KEY.', 'api_error', 'provider_not_configured');

  const kind: Kind = endpoint === 'embeddings' ? 'embedding' : 'chat';
  const a = await admit(userId, teamId, model, kind);
  if (a.decision !== 'ok') {
    const r = REFUSALS[a.decision] ?? REFUSALS.not_configured!;
    const headers: Record<string, string> = {};
    if (a.retry_after_seconds != null) {
      headers['retry-after'] = String(a.retry_after_seconds);
      // OpenAI's SDK would otherwise retry a 429 at once; waiting out a monthly budget is not a retry.
      headers['x-should-retry'] = 'false';
    }
    return error(r.status, r.message(a), r.type, r.code, headers);
  }
  try {
    return kind === 'chat' ? await chatCompletions(body, a.usage_id!) : await embeddings(body, a.usage_id!);
  } catch (e) {
    await settle(a.usage_id!, 0, 0);
    console.error(`provider request failed: ${e instanceof Error ? e.message : String(e)}`);
    return error(502, 'Could not reach the model provider.', 'api_error', 'provider_unreachable');
  }
}

Deno.serve(async (req) => {
  try {
    return await handle(req);
  } catch (e) {
    console.error(`model-gateway: ${e instanceof Error ? e.message : String(e)}`);
    return error(500, 'The model gateway failed.', 'api_error', null);
  }
});
